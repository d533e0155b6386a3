import {
  type ErrorCode,
  type HandshakeError,
  type InvalidStateError,
  type ProtocolError,
  type UnexpectedResponseError,
  WebSocketError,
} from "@tideway/core";

/**
 * Stable codes of the errors the Node client adds to the core's {@link ErrorCode}s. Like the core's,
 * they never change between versions: switch on `err.code`, not on messages.
 */
export const ClientErrorCodes = {
  /** DNS failure, connection refused or reset, TLS failure: `cause` holds the system error. */
  Connect: "WS_ERR_CONNECT",
  /** The TCP connect, TLS and HTTP upgrade did not finish within `handshakeTimeout`. */
  HandshakeTimeout: "WS_ERR_HANDSHAKE_TIMEOUT",
  /** The connection ended (close frame or lost transport) before the operation completed. */
  ConnectionClosed: "WS_ERR_CONNECTION_CLOSED",
  /** The peer did not answer a ping within the heartbeat timeout. */
  HeartbeatTimeout: "WS_ERR_HEARTBEAT_TIMEOUT",
  /** `send()` while disconnected would queue more than `maxQueuedBytes`. */
  SendQueueFull: "WS_ERR_SEND_QUEUE_FULL",
  /** The `signal` passed in the options aborted the client. */
  Aborted: "WS_ERR_ABORTED",
  /** The proxy could not be reached, or refused the tunnel (HTTP 407/403/other non-2xx, SOCKS failure). */
  Proxy: "WS_ERR_PROXY",
  /** `followRedirects`: more than `maxRedirects` redirects. */
  TooManyRedirects: "WS_ERR_TOO_MANY_REDIRECTS",
  /** `followRedirects`: a redirect without a usable `Location` (missing, not http(s)/ws(s)). */
  InvalidRedirect: "WS_ERR_INVALID_REDIRECT",
  /** A `url`, `headers` or `protocols` function threw (or gave an invalid value) before an attempt. */
  Provider: "WS_ERR_PROVIDER",
  /** Browser build: the consumer fell more than `maxBufferedBytes` behind a socket that cannot pause. */
  ReceiveBufferFull: "WS_ERR_RECEIVE_BUFFER_FULL",
  /** The source of a streamed `send()` threw (or gave a chunk that is not bytes or a string). */
  StreamSource: "WS_ERR_STREAM_SOURCE",
  /** The connection ended, or the client closed, before a streamed `send()` had sent its last fragment. */
  StreamInterrupted: "WS_ERR_STREAM_INTERRUPTED",
} as const;
/** One of the {@link ClientErrorCodes}. */
export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

/** Every stable code an error from the client can carry: the core's {@link ErrorCode}s and the client's own. */
export type TidewayErrorCode = ErrorCode | ClientErrorCode;

/**
 * The code of a client error class, spelt from its name: "SendQueueFullError" -> "WS_ERR_SEND_QUEUE_FULL"
 * (as every one of ClientErrorCodes is; the tests check each), so a bundle holds one text per class.
 */
function codeOf(errorClass: { readonly name: string }): ClientErrorCode {
  return `WS_ERR_${errorClass.name
    .slice(0, -5)
    .replace(/\B(?=[A-Z])/g, "_")
    .toUpperCase()}` as ClientErrorCode;
}

/** Base of the client's own errors; `code` is one of {@link ClientErrorCodes}. */
export class ClientError extends WebSocketError<ClientErrorCode> {
  // As in the core's errors: a name of its own and `declare`d fields; the codes spelt by codeOf, so
  // a bundle that never reads ClientErrorCodes drops that table.
  static override get name(): string {
    return "ClientError";
  }
}

/** The transport could not be established. `cause` is the Node error (`ECONNREFUSED`, `ENOTFOUND`, TLS...). */
export class ConnectError extends ClientError {
  static override get name(): string {
    return "ConnectError";
  }
  declare readonly code: typeof ClientErrorCodes.Connect;
  constructor(message: string, options?: { cause?: unknown }) {
    super(codeOf(ConnectError), message, options);
  }
}

/** The whole opening handshake (TCP, TLS, HTTP upgrade) took longer than `handshakeTimeout`. */
export class HandshakeTimeoutError extends ClientError {
  static override get name(): string {
    return "HandshakeTimeoutError";
  }
  declare readonly code: typeof ClientErrorCodes.HandshakeTimeout;
  declare readonly timeout: number;
  constructor(timeout: number) {
    super(codeOf(HandshakeTimeoutError), `Handshake timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/** How a connection ended: the close frames exchanged, if any (RFC 6455 section 7.1.5-7.1.6). */
export interface CloseInfo {
  /** The code received from the server; 1005 if its frame had no code, 1006 if none arrived. */
  readonly code: number;
  readonly reason: string;
  /** True when both close frames were exchanged and the transport closed without error. */
  readonly wasClean: boolean;
  /**
   * True when the application started the close (`close()`, `reconnect()`, `terminate()`); false when
   * the server did, or the client failed the connection itself (heartbeat timeout, protocol error).
   */
  readonly initiatedByUser: boolean;
  readonly sent: Readonly<{ code: number; reason: string }> | undefined;
  readonly received: Readonly<{ code: number; reason: string }> | undefined;
}

/**
 * The connection ended before an operation (a send, a ping, an iteration) could complete, or ended
 * abnormally. Carries the close codes, like websockets' `ConnectionClosedError`.
 */
export class ConnectionClosedError extends ClientError {
  static override get name(): string {
    return "ConnectionClosedError";
  }
  declare readonly code: typeof ClientErrorCodes.ConnectionClosed;
  declare readonly closeCode: number;
  declare readonly reason: string;
  declare readonly wasClean: boolean;
  declare readonly sent: CloseInfo["sent"];
  declare readonly received: CloseInfo["received"];
  constructor(info: CloseInfo, options?: { cause?: unknown; message?: string }) {
    super(
      codeOf(ConnectionClosedError),
      options?.message ?? `Connection closed: ${info.code}${info.reason ? ` ${info.reason}` : ""}`,
      options,
    );
    this.closeCode = info.code;
    this.reason = info.reason;
    this.wasClean = info.wasClean;
    this.sent = info.sent;
    this.received = info.received;
  }
}

/** The server did not answer a ping in time; the client fails the connection with 1011 and reconnects. */
export class HeartbeatTimeoutError extends ClientError {
  static override get name(): string {
    return "HeartbeatTimeoutError";
  }
  declare readonly code: typeof ClientErrorCodes.HeartbeatTimeout;
  /** The close code the client fails the connection with: RFC 6455 has none for it; 1011 as websockets' keepalive. */
  readonly closeCode = 1011;
  declare readonly elapsed: number;
  constructor(elapsed: number) {
    super(codeOf(HeartbeatTimeoutError), `No pong for ${Math.round(elapsed)} ms`);
    this.elapsed = elapsed;
  }
}

/**
 * Browser build: received messages waiting for a slow consumer passed `maxBufferedBytes` beyond
 * `highWaterMark`. A browser `WebSocket` cannot stop reading, so the client fails the connection
 * rather than hold an unbounded backlog.
 */
export class ReceiveBufferFullError extends ClientError {
  static override get name(): string {
    return "ReceiveBufferFullError";
  }
  declare readonly code: typeof ClientErrorCodes.ReceiveBufferFull;
  declare readonly limit: number;
  constructor(buffered: number, limit: number) {
    super(codeOf(ReceiveBufferFullError), `${buffered} bytes unread, over maxBufferedBytes (${limit})`);
    this.limit = limit;
  }
}

/** A `send()` made while disconnected did not fit in `maxQueuedBytes`. Nothing was queued. */
export class SendQueueFullError extends ClientError {
  static override get name(): string {
    return "SendQueueFullError";
  }
  declare readonly code: typeof ClientErrorCodes.SendQueueFull;
  constructor(queued: number, size: number, limit: number) {
    super(codeOf(SendQueueFullError), `${queued} bytes queued + ${size}, over maxQueuedBytes (${limit})`);
  }
}

/** The options' `signal` aborted connecting; `cause` is `signal.reason`. */
export class AbortedError extends ClientError {
  static override get name(): string {
    return "AbortedError";
  }
  declare readonly code: typeof ClientErrorCodes.Aborted;
  constructor(reason: unknown) {
    super(codeOf(AbortedError), "Aborted", { cause: reason });
  }
}

/**
 * The proxy failed: unreachable (`cause` is the system error), or it refused the tunnel. `status` is
 * the HTTP status of a CONNECT refusal (407 credentials missing or wrong, 403 forbidden, 502 target
 * unreachable...); `socksReply` the SOCKS reply code (SOCKS5: 1 general failure, 2 not allowed by
 * ruleset, 3 network unreachable, 4 host unreachable, 5 connection refused, 6 TTL expired, 7 command
 * not supported, 8 address type not supported; SOCKS4: 91-93); `authFailed` is true when a SOCKS5
 * proxy rejected the username/password or accepted none of the offered methods.
 */
export class ProxyError extends ClientError {
  static override get name(): string {
    return "ProxyError";
  }
  declare readonly code: typeof ClientErrorCodes.Proxy;
  /** The proxy URL, without credentials. */
  declare readonly proxy: string;
  declare readonly status: number | undefined;
  declare readonly socksReply: number | undefined;
  declare readonly authFailed: boolean;
  constructor(
    proxy: string,
    message: string,
    details: { status?: number; socksReply?: number; authFailed?: boolean; cause?: unknown } = {},
  ) {
    super(codeOf(ProxyError), message, details.cause === undefined ? undefined : { cause: details.cause });
    this.proxy = proxy;
    this.status = details.status;
    this.socksReply = details.socksReply;
    this.authFailed = details.authFailed ?? false;
  }
}

/** More than `maxRedirects` redirects were followed. `to` is the redirect that was refused. */
export class TooManyRedirectsError extends ClientError {
  static override get name(): string {
    return "TooManyRedirectsError";
  }
  declare readonly code: typeof ClientErrorCodes.TooManyRedirects;
  declare readonly maxRedirects: number;
  declare readonly to: string;
  constructor(maxRedirects: number, to: string) {
    super(codeOf(TooManyRedirectsError), `Too many redirects (maxRedirects is ${maxRedirects}): ${to}`);
    this.maxRedirects = maxRedirects;
    this.to = to;
  }
}

/** A 3xx to follow has no `Location`, or one that is not a http:, https:, ws: or wss: URL. */
export class InvalidRedirectError extends ClientError {
  static override get name(): string {
    return "InvalidRedirectError";
  }
  declare readonly code: typeof ClientErrorCodes.InvalidRedirect;
  declare readonly status: number;
  declare readonly location: string | undefined;
  constructor(status: number, location: string | undefined, reason: string) {
    super(codeOf(InvalidRedirectError), `Cannot follow redirect ${status}: ${reason}`);
    this.status = status;
    this.location = location;
  }
}

/**
 * A `url`, `headers` or `protocols` function given to the client threw, or returned a value the
 * client refuses, before an attempt. `cause` is what it threw; the reconnect verdict follows it.
 */
export class ProviderError extends ClientError {
  static override get name(): string {
    return "ProviderError";
  }
  declare readonly code: typeof ClientErrorCodes.Provider;
  /** Which option's function failed. */
  declare readonly option: "url" | "headers" | "protocols";
  constructor(option: "url" | "headers" | "protocols", cause: unknown) {
    super(
      codeOf(ProviderError),
      `The ${option} function failed: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      { cause },
    );
    this.option = option;
  }
}

/**
 * The source of a streamed `send()` threw, or gave a chunk that is neither bytes nor a string: `cause`
 * is what it threw. The message cannot be completed, so the client fails the connection with
 * `closeCode` 1011 (as Python websockets does); the reconnect verdict follows `cause`, as for a
 * {@link ProviderError}. The close frame says only "streamed message failed", never the cause.
 */
export class StreamSourceError extends ClientError {
  static override get name(): string {
    return "StreamSourceError";
  }
  declare readonly code: typeof ClientErrorCodes.StreamSource;
  /** The close code the client fails the connection with. */
  readonly closeCode = 1011;
  constructor(cause: unknown) {
    super(
      codeOf(StreamSourceError),
      `The source of a streamed message failed: ${(cause as Error | undefined)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/**
 * A streamed `send()` stopped before its last fragment: the connection ended (`cause` is a
 * {@link ConnectionClosedError}), or `close()`, `terminate()` or `reconnect()` was called (`cause` is
 * an `InvalidStateError`). The fragments already sent are lost with the connection; nothing is
 * resent. `fragmentsSent` says how far it got.
 */
export class StreamInterruptedError extends ClientError {
  static override get name(): string {
    return "StreamInterruptedError";
  }
  declare readonly code: typeof ClientErrorCodes.StreamInterrupted;
  /** Fragments written before the interruption (0: nothing of the message reached the wire). */
  declare readonly fragmentsSent: number;
  constructor(fragmentsSent: number, cause: unknown) {
    super(
      codeOf(StreamInterruptedError),
      `Streamed message interrupted after ${fragmentsSent} fragment(s): ${(cause as Error | undefined)?.message ?? String(cause)}`,
      { cause },
    );
    this.fragmentsSent = fragmentsSent;
  }
}

/**
 * The errors the client raises, as one union: its own ({@link ClientError} and subclasses) and the
 * core's it lets through (a failed upgrade, a peer breaking the protocol, a call in the wrong state).
 * Comparing `code` narrows it to one class: `if (err.code === "WS_ERR_PROXY") err.status`.
 */
export type TidewayError =
  | AbortedError
  | ConnectError
  | ConnectionClosedError
  | HandshakeTimeoutError
  | HeartbeatTimeoutError
  | InvalidRedirectError
  | ProviderError
  | ProxyError
  | ReceiveBufferFullError
  | SendQueueFullError
  | StreamInterruptedError
  | StreamSourceError
  | TooManyRedirectsError
  | HandshakeError
  | UnexpectedResponseError
  | ProtocolError
  | InvalidStateError;
