/**
 * Exit codes and the one-line reason for every way a session can end. The one place where an error
 * becomes a process exit: errors are classified by type (the client's and the core's classes), and
 * Node's own TLS errors by their `code`.
 */
import {
  AbortedError,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  InvalidRedirectError,
  ProxyError,
  TooManyRedirectsError,
} from "@tideway/client";
import { CloseCode, HandshakeError, ProtocolError, UnexpectedResponseError } from "@tideway/core";

/** The process exit codes, documented in docs/cli.md. */
export const ExitCode = {
  /** A normal close (1000, 1001 or a close frame without code), by either side. */
  Ok: 0,
  /** The connection could not be made: refused, DNS, reset, proxy; or any unexpected error. */
  ConnectFailed: 1,
  /** Bad arguments or options. */
  Usage: 2,
  /** The server answered the upgrade with an HTTP status other than 101, or an invalid 101. */
  Rejected: 3,
  /** TLS failed: certificate not trusted, expired or for another name, or no common protocol. */
  Tls: 4,
  /** `--timeout` elapsed, or the opening handshake took too long. */
  Timeout: 5,
  /** The connection closed abnormally: a close code other than a normal one, a protocol error, a lost transport. */
  Closed: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit codes as --help lists them. */
export const EXIT_CODES_HELP = `Exit codes: 0 normal close, 1 connection failed, 2 bad arguments, 3 upgrade refused
(HTTP status) or invalid handshake, 4 TLS failure, 5 timeout, 6 abnormal close or protocol error.`;

/** How a session ended: the exit code and, unless it is 0, the one line printed to stderr. */
export interface Outcome {
  readonly code: ExitCode;
  readonly reason?: string;
}

export const OK: Outcome = { code: ExitCode.Ok };

/** Close codes that end a session with exit code 0 (the client's iterator ends cleanly on the same). */
const NORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Normal,
  CloseCode.GoingAway,
  CloseCode.NoStatusReceived,
]);

/** Whether a close code counts as a normal end of the session. */
export function isNormalClose(code: number): boolean {
  return NORMAL_CLOSE_CODES.has(code);
}

/** Node's TLS failures, by the `code` of the system error (certificate checks, handshake alerts). */
const TLS_CODE = /CERT|^ERR_TLS_|^ERR_SSL_|^UNABLE_TO_|HOSTNAME_MISMATCH|^EPROTO$/;

function isTlsFailure(cause: unknown): boolean {
  return (
    cause instanceof Error &&
    "code" in cause &&
    typeof cause.code === "string" &&
    (TLS_CODE.test(cause.code) || ("library" in cause && cause.library === "SSL routines"))
  );
}

function closeReason(code: number, reason: string): string {
  return reason === "" ? String(code) : `${code} ${reason}`;
}

/** The outcome of a session that failed with `err` (a rejected connect, or the iterator's final error). */
export function failure(err: unknown): Outcome {
  if (err instanceof UnexpectedResponseError) {
    return {
      code: ExitCode.Rejected,
      reason: `the server refused the upgrade: ${err.message.replace(/^Unexpected server response: /, "HTTP ")}`,
    };
  }
  if (err instanceof HandshakeError) {
    return { code: ExitCode.Rejected, reason: `invalid handshake: ${err.message}` };
  }
  if (err instanceof TooManyRedirectsError || err instanceof InvalidRedirectError) {
    return { code: ExitCode.Rejected, reason: err.message };
  }
  if (err instanceof HandshakeTimeoutError) {
    return { code: ExitCode.Timeout, reason: `timed out: ${err.message}` };
  }
  if (err instanceof ProxyError) {
    return { code: ExitCode.ConnectFailed, reason: `proxy failed: ${err.message}` };
  }
  if (err instanceof ConnectError) {
    return isTlsFailure(err.cause)
      ? { code: ExitCode.Tls, reason: `TLS failed: ${(err.cause as Error).message}` }
      : { code: ExitCode.ConnectFailed, reason: `connection failed: ${err.message}` };
  }
  if (
    err instanceof HeartbeatTimeoutError ||
    (err instanceof Error && err.cause instanceof HeartbeatTimeoutError)
  ) {
    const timeout = err instanceof HeartbeatTimeoutError ? err : (err.cause as HeartbeatTimeoutError);
    return { code: ExitCode.Closed, reason: `heartbeat timed out: ${timeout.message}` };
  }
  if (err instanceof ProtocolError) {
    return { code: ExitCode.Closed, reason: `protocol error: ${err.message} (close code ${err.closeCode})` };
  }
  if (err instanceof ConnectionClosedError) {
    if (err.cause instanceof ProtocolError) return failure(err.cause);
    if (isNormalClose(err.closeCode)) return OK;
    const lost = err.received === undefined && err.sent === undefined;
    return {
      code: ExitCode.Closed,
      reason: lost
        ? `connection lost without a close frame (${err.closeCode})`
        : `closed abnormally: ${closeReason(err.closeCode, err.reason)}`,
    };
  }
  if (err instanceof AbortedError) return OK;
  return { code: ExitCode.ConnectFailed, reason: err instanceof Error ? err.message : String(err) };
}
