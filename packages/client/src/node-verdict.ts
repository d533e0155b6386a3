/**
 * The reconnect verdict's Node-only rules: the failures only the Node transport reports (an HTTP
 * status refusing the upgrade and its Retry-After, the stream ending mid-handshake, a proxy, a
 * redirect, Node system and TLS error codes, happy eyeballs' AggregateError). reconnect.ts applies
 * them inside `isRetryable`; node-verdict-browser.ts stands in for this module in the browser build,
 * whose WebSocket reports none of them.
 */
import { HandshakeError, ProtocolError, UnexpectedResponseError, WebSocketError } from "@tideway/core";
import { InvalidRedirectError, ProxyError, TooManyRedirectsError } from "./errors.js";

/**
 * The verdict on one of the errors only the Node transport raises (the core runs the handshake and the
 * protocol only there), on a foreign error's string `code` (a Node system or TLS error) or on the
 * members of an AggregateError, or undefined for any other `reason`. `decideOther` is reconnect.ts's
 * verdict on another error (a proxy error's `cause`, a member; undefined when it says nothing);
 * `retryableCloseCodes` its close codes worth a retry.
 */
export function decideNodeError(
  reason: object,
  context: { readonly everOpened?: boolean },
  decideOther: (other: unknown) => boolean | undefined,
  retryableCloseCodes: ReadonlySet<number>,
): boolean | undefined {
  const everOpened = context.everOpened === true;
  if (reason instanceof UnexpectedResponseError) return isRetryableStatus(reason.status);
  if (reason instanceof WebSocketError) {
    // The stream ended before the handshake was done. Before any connection opened it is most likely not
    // a WebSocket server at all (a TLS port reached with ws:, another service); later, a server restarting.
    if (reason.code === "WS_ERR_UNEXPECTED_EOF") return everOpened;
    if (reason instanceof ProxyError) return decideProxy(reason, decideOther);
    if (reason instanceof TooManyRedirectsError || reason instanceof InvalidRedirectError) return false;
    if (reason instanceof HandshakeError) return false;
    if (reason instanceof ProtocolError) return retryableCloseCodes.has(reason.closeCode);
    return undefined;
  }
  const { code, errors } = reason as { code?: unknown; errors?: unknown };
  if (typeof code === "string") {
    if (TRANSIENT_SYSTEM_CODES.has(code)) return true;
    if (code === "ENOTFOUND") return everOpened;
    if (TLS_CODE.test(code)) return false;
  }
  // An AggregateError (happy eyeballs: one failure per address tried): retried if any member is, else
  // refused if any is.
  const verdicts = Array.isArray(errors) ? errors.map(decideOther) : [];
  return verdicts.includes(true) || (verdicts.includes(false) ? false : undefined);
}

/**
 * System error codes of transient network failures (Node's, and undici's socket error). ENOTFOUND is
 * retried only once a connection has opened: before that it is most likely a typo, and `connect()`
 * fails at once; later it is what an offline laptop or a DNS rollout looks like.
 */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENETRESET",
  "EADDRNOTAVAIL",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "ERR_TLS_HANDSHAKE_TIMEOUT",
]);

/** TLS certificate and protocol failures: an expired, self-signed or mismatched certificate stays so. */
const TLS_CODE = /CERT|^ERR_TLS_|^ERR_SSL_|^UNABLE_TO_|HOSTNAME_MISMATCH|^EPROTO$/;

/** Whether an HTTP status answering the upgrade request is worth another attempt. */
function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true; // Request Timeout, Too Many Requests.
  // 501 Not Implemented and 505 HTTP Version Not Supported describe the server, not its load.
  if (status >= 500 && status <= 599) return status !== 501 && status !== 505;
  return false; // 3xx (redirects not followed), 4xx: the same request gets the same answer.
}

/** SOCKS5 replies a retry cannot change: 2 not allowed by ruleset, 7 command / 8 address type not supported. */
const FATAL_SOCKS_REPLIES: ReadonlySet<number> = new Set([2, 7, 8]);

/**
 * A proxy that refused us (407 credentials, 403 policy, bad SOCKS credentials) answers the same
 * again; a proxy that could not reach the server (502, SOCKS "host unreachable") or that we could
 * not reach may do better next time.
 */
function decideProxy(r: ProxyError, decideOther: (other: unknown) => boolean | undefined): boolean {
  if (r.authFailed) return false;
  if (r.status !== undefined) return isRetryableStatus(r.status);
  if (r.socksReply !== undefined) return !FATAL_SOCKS_REPLIES.has(r.socksReply);
  return decideOther(r.cause) ?? true;
}

/**
 * Upper bound on a server's Retry-After: one hour. A server asking for more is probably misconfigured
 * (or means "days"); waiting an hour and asking again costs one request, while honouring a huge value
 * would leave the client silently offline.
 */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/** An HTTP-date starts with a day name: "Sun, 06 Nov 1994 ...", "Sunday, 06-Nov-94 ...", "Sun Nov  6 ...". */
const HTTP_DATE_START = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i;

/**
 * The wait a `Retry-After` header asks for, in ms, or undefined if there is none or it is invalid.
 * "Retry-After = HTTP-date / delay-seconds" (RFC 9110 section 10.2.3), where delay-seconds is
 * `1*DIGIT` (so "1.5" and "-1" are invalid). A date in the past means 0. Capped at
 * {@link MAX_RETRY_AFTER_MS}. The header name is matched case-insensitively.
 */
export function retryAfterMs(headers: Record<string, string>, now: number = Date.now()): number | undefined {
  const value = headerValue(headers, "retry-after")?.trim();
  if (value === undefined || value === "") return undefined;
  let ms: number;
  if (/^\d+$/.test(value)) {
    ms = Number(value) * 1000;
  } else if (HTTP_DATE_START.test(value)) {
    // HTTP-dates are always GMT; the asctime form does not say so, and Date.parse would read it as
    // local time.
    const date = Date.parse(/GMT$/i.test(value) ? value : `${value} GMT`);
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - now);
  } else {
    return undefined;
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  let value: unknown = headers[name];
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  // Node's IncomingHttpHeaders may hold arrays; the first value wins.
  if (Array.isArray(value)) value = value[0];
  return typeof value === "string" ? value : undefined;
}

/** The Retry-After of a 429 or 503 handshake answer (the statuses RFC 9110 gives it a meaning for). */
export function serverRetryAfter(reason: unknown): number | undefined {
  if (!(reason instanceof UnexpectedResponseError)) return undefined;
  if (reason.status !== 429 && reason.status !== 503) return undefined;
  return retryAfterMs(reason.headers as Record<string, string>);
}
