/**
 * The reconnect policy as pure functions: whether a failure is worth another attempt
 * ({@link isRetryable}, by error class), how long to wait ({@link Backoff}, with jitter), and what a
 * server's Retry-After asks for. The lifecycle (lifecycle.ts) applies them to every outage. The
 * rules on failures only Node reports (HTTP status, Retry-After, proxy, redirects, system codes,
 * happy eyeballs' AggregateError) are node-verdict.ts's, which the browser build leaves out.
 */
import { WebSocketError } from "@tideway/core";
import {
  AbortedError,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
} from "./errors.js";
import { decideNodeError } from "./node-verdict.js";

export { serverRetryAfter } from "./node-verdict.js";

/**
 * How waits are spread (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * - `"full"`: a uniform draw in [0, backoff]; spreads a herd of clients the most;
 * - `"decorrelated"`: a uniform draw in [minTimeout, 3 x the previous wait], capped;
 * - `"none"`: the backoff itself (tests, or a single client that must be predictable).
 */
export type Jitter = "full" | "decorrelated" | "none";

/** How to back off between reconnect attempts. */
export interface ReconnectOptions {
  /** Retries per outage once a connection has opened (so at most `retries + 1` attempts); `Infinity` allowed. */
  retries: number;
  /** Retries of the first `connect()`, before any connection opened. */
  initialRetries: number;
  /** Base of the backoff, in ms: the ceiling of the first wait. */
  minTimeout: number;
  /** Cap on any backoff ceiling, in ms (a Retry-After from the server may exceed it). */
  maxTimeout: number;
  /** Growth of the ceiling from one retry to the next. */
  factor: number;
  /** How each wait is drawn under its ceiling. */
  jitter: Jitter;
  /** A connection open this long ends its outage: the backoff and the retry budget start afresh. */
  stableAfter: number;
}

/**
 * The defaults, documented here and only here.
 * - `retries: Infinity`: a long-lived client should outlive any outage (server deploys, Wi-Fi drops, a
 *   laptop asleep); only errors that retrying cannot fix stop it (see {@link isRetryable}). The cost: a
 *   server gone for good is retried for ever, at one attempt per `maxTimeout` on average.
 * - `initialRetries: 2`: the first `connect()` tries three times (about 0-3 s of waits), so a transient
 *   refusal while a server starts is absorbed, but a wrong port or a server that is not there rejects
 *   `connect()` within seconds, with the error, as `ws` and Python `websockets` do at once.
 * - `minTimeout: 1000`, `factor: 2`, `maxTimeout: 30000`: ceilings of 1, 2, 4, 8, 16, then 30 s: fast
 *   after a blip, gentle on an overloaded server, and at most ~30 s offline once the server is back.
 * - `jitter: "full"`: after a server restart every client reconnects; drawing each wait in
 *   [0, ceiling] spreads them over the whole window, including the first wait and those at the cap.
 * - `stableAfter: 5000`: a connection that lived 5 s was a real recovery; one kicked sooner (a server
 *   accepting then closing) keeps the backoff growing, so a flapping server is not hammered.
 */
export const DEFAULT_RECONNECT: ReconnectOptions = Object.freeze({
  retries: Infinity,
  initialRetries: 2,
  minTimeout: 1000,
  maxTimeout: 30000,
  factor: 2,
  jitter: "full",
  stableAfter: 5000,
});

/**
 * The ceiling of the wait before retry number `failure` (1, 2, ...) under options as the options
 * check them (`factor >= 1`): `min(maxTimeout, minTimeout * factor ** (failure - 1))`, never NaN.
 * May be `Infinity` when `maxTimeout` is: the clock clamps timers.
 */
export function backoffCeiling(failure: number, o: ReconnectOptions): number {
  // minTimeout 0 with an overflowing factor gives 0 * Infinity = NaN: that is "no delay".
  return Math.min(o.minTimeout * o.factor ** (failure - 1), o.maxTimeout) || 0;
}

/**
 * The backoff of one chain of failures: each {@link next} draws the next wait under its ceiling,
 * per `jitter`; {@link reset} starts a new chain (a stable connection, a forced reconnect).
 */
export class Backoff {
  /** Failures in this chain: failed attempts and short-lived connections. */
  failures = 0;
  #previous = 0;
  readonly #o: ReconnectOptions;
  readonly #random: () => number;

  constructor(o: ReconnectOptions, random: () => number = Math.random) {
    this.#o = o;
    this.#random = random;
  }

  /** Counts a failure and returns the wait before the next attempt, in ms (at least `retryAfter`). */
  next(retryAfter?: number): number {
    const o = this.#o;
    const min = o.minTimeout;
    // A uniform draw in [0, range]; 0 without jitter.
    const draw = (range: number) => (o.jitter === "none" ? 0 : Math.round(this.#random() * range));
    let delay = backoffCeiling(++this.failures, o);
    if (o.jitter === "full") delay = draw(delay);
    // The options keep maxTimeout >= minTimeout, so the range is never negative.
    if (o.jitter === "decorrelated")
      delay = min + draw(Math.min(Math.max(this.#previous * 3, min), o.maxTimeout) - min);
    // A server's Retry-After is a floor; jitter on top of it still spreads the clients it answered.
    if (retryAfter !== undefined && retryAfter >= delay) delay = retryAfter + draw(min);
    this.#previous = delay;
    return delay;
  }

  reset(): void {
    this.failures = 0;
    this.#previous = 0;
  }
}

/**
 * Close codes after which a new connection may well succeed (RFC 6455 section 7.4.1 and the IANA
 * registry). Every other code is a deliberate end (1000, 1005), a fault that reconnecting reproduces
 * (1002 protocol error, 1003/1007 bad data, 1008 policy, 1009 too big, 1010 missing extension,
 * 1015 TLS), or an application code (3000-4999) whose meaning only the application knows.
 */
const RETRYABLE_CLOSE_CODES: ReadonlySet<number> = new Set([
  1001, // Going Away: the server is shutting down or restarting.
  1006, // Abnormal: the transport ended without a close frame (network loss, crash).
  1011, // Internal Error: server-side failure; also our heartbeat timeout.
  1012, // Service Restart.
  1013, // Try Again Later: overload.
  1014, // Bad Gateway: an intermediary could not reach the upstream.
]);

/** What the verdict may depend on besides the failure itself. */
export interface RetryContext {
  /** A connection of this client has opened before (ENOTFOUND is then retried). */
  readonly everOpened?: boolean;
}

/**
 * The default `shouldReconnect`: whether a failure (an error, or a {@link CloseInfo}) is worth another
 * attempt. Decided by the error's class; foreign errors (Node system errors, found as `cause`) by
 * their `code`.
 *
 * | failure | retry? |
 * |---|---|
 * | `AbortedError`, a `name: "AbortError"`, anything with `initiatedByUser: true` | no |
 * | `HandshakeTimeoutError`, `HeartbeatTimeoutError`, a `name: "TimeoutError"` | yes |
 * | `UnexpectedResponseError` with status 408, 429, 5xx except 501/505 | yes |
 * | `UnexpectedResponseError` with any other status (3xx, 4xx, 501, 505) | no |
 * | the stream ended during the handshake (`WS_ERR_UNEXPECTED_EOF`) | yes once a connection has opened, else no |
 * | other `HandshakeError`s (not a WebSocket server, bad accept, subprotocol...) | no |
 * | `ProxyError`: `authFailed`, status 407/403/other 4xx, SOCKS replies 2, 7, 8 | no |
 * | `ProxyError` otherwise (502-504, other SOCKS replies, unreachable proxy): its `cause`, else | yes |
 * | `ConnectError`: by its `cause`; yes if the cause says nothing | per cause / yes |
 * | system codes ECONNREFUSED, ECONNRESET, ECONNABORTED, ETIMEDOUT, EPIPE, EHOSTUNREACH, EHOSTDOWN, ENETUNREACH, ENETDOWN, ENETRESET, EADDRNOTAVAIL, EAI_AGAIN, UND_ERR_SOCKET, ERR_TLS_HANDSHAKE_TIMEOUT | yes |
 * | ENOTFOUND (no such host) | yes once a connection has opened, else no |
 * | TLS codes (`*CERT*`, `ERR_TLS_*`, `ERR_SSL_*`, `UNABLE_TO_*`, `HOSTNAME_MISMATCH`, `EPROTO`) | no |
 * | `ConnectionClosedError`, `ProtocolError`, a `CloseInfo`: close code 1001, 1006, 1011, 1012, 1013, 1014 | yes |
 * | the same with any other close code (1000, 1002, 1003, 1005, 1007-1010, 1015, 3000-4999) | no |
 * | `ProviderError` (a url/headers/protocols function threw): its `cause`, else | no |
 * | `TooManyRedirectsError`, `InvalidRedirectError`, `SendQueueFullError`, `InvalidStateError` | no |
 * | an AggregateError (Node's happy eyeballs): yes if any member is, else no if any is | per member |
 * | anything else: its `cause` (up to 8 levels), else | no |
 *
 * Unknown errors default to "no": a reconnect loop must not hide a bug behind retries. Pass your own
 * `shouldReconnect` (which may call this one) to retry more. A browser reports no handshake or protocol
 * error of the core, no HTTP status, proxy, redirect, system or TLS code, no AggregateError: there, the
 * other rows decide.
 */
export function isRetryable(reason: unknown, context: RetryContext = {}): boolean {
  return decide(reason, context, 0) ?? false;
}

/** What a foreign error or a close event may carry. */
type ForeignFields = {
  code?: unknown;
  name?: unknown;
  initiatedByUser?: unknown;
  wasClean?: unknown;
  cause?: unknown;
};

/**
 * true/false when `reason` settles the question, undefined when it says nothing. Our classes by
 * class; foreign errors (Node system errors, DOMExceptions) and close events duck-typed.
 */
function decide(reason: unknown, context: RetryContext, depth: number): boolean | undefined {
  if (depth > 8 || reason === null || typeof reason !== "object") return undefined;
  const r = reason as ForeignFields;
  const next = (cause: unknown) => decide(cause, context, depth + 1);
  if (reason instanceof AbortedError || r.initiatedByUser === true || r.name === "AbortError") return false;
  if (reason instanceof HandshakeTimeoutError || reason instanceof HeartbeatTimeoutError) return true;
  if (r.name === "TimeoutError") return true;
  // A ConnectionClosedError or a CloseInfo: its close code.
  const closeCode = reason instanceof ConnectionClosedError ? reason.closeCode : r.code;
  if (typeof closeCode === "number") return RETRYABLE_CLOSE_CODES.has(closeCode);
  // A close event without a code.
  if (r.wasClean === false) return true;
  return (
    // What only Node reports: the core's handshake and protocol errors, proxy, redirects, system codes,
    // happy eyeballs' AggregateError.
    decideNodeError(reason, context, next, RETRYABLE_CLOSE_CODES) ??
    // The cause; when it says nothing, a ConnectError is retried, our other errors are not.
    next(r.cause) ??
    (reason instanceof WebSocketError ? reason instanceof ConnectError : undefined)
  );
}
