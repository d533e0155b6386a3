import pRetry from "p-retry";
import { type Clock, createSystemClock } from "./clock.js";

/** How to back off between reconnect attempts. The same knobs, and the same formula, as p-retry. */
export interface ReconnectOptions {
  /** Retries after the first attempt (so at most `retries + 1` attempts); `Infinity` allowed. */
  retries: number;
  /** Delay before the first retry, in ms. */
  minTimeout: number;
  /** Cap on any backoff delay, in ms (a Retry-After from the server may exceed it). */
  maxTimeout: number;
  /** Growth of the delay from one retry to the next. */
  factor: number;
  /** Multiply each delay by a random factor in [1, 2). */
  randomize: boolean;
}

/**
 * The defaults, documented here and only here.
 * - `retries: Infinity`: a long-lived client should outlive any outage (server deploys, Wi-Fi
 *   drops, a laptop asleep); only errors that retrying cannot fix stop it (see {@link isRetryable}),
 *   and the caller can always stop it with its AbortSignal. The cost: a server that is gone for good
 *   is retried forever, at one attempt per `maxTimeout`.
 * - `minTimeout: 1000`: one second gives a restarting server or a flapping network time to settle
 *   while still feeling immediate to a user; smaller values hammer a server that just fell over.
 * - `maxTimeout: 30000`: the longest a client stays disconnected after the server is back is about
 *   30 s; longer caps spare the server but leave users offline longer.
 * - `factor: 2`: doubling reaches the cap in 5 retries (1, 2, 4, 8, 16, then 30 s), fast enough to
 *   back off from an overloaded server, slow enough to reconnect quickly after a blip.
 * - `randomize: true`: after a server restart, every client reconnects at once; jitter spreads the
 *   herd over [delay, 2 * delay). The cost is less predictable delays (and, as in p-retry, the jitter
 *   is applied before the cap, so delays that reach `maxTimeout` are not spread).
 */
export const DEFAULT_RECONNECT: ReconnectOptions = Object.freeze({
  retries: Number.POSITIVE_INFINITY,
  minTimeout: 1000,
  maxTimeout: 30000,
  factor: 2,
  randomize: true,
});

/**
 * The backoff delay before retry number `attempt` (1-based: the wait after the first failed attempt is
 * `computeDelay(1, o)`), exactly as p-retry 7 computes it:
 * `min(maxTimeout, round(jitter * minTimeout * factor ** (attempt - 1)))`, with `jitter = random() + 1`
 * when `randomize` (so in [1, 2)), else 1. A `factor <= 0` counts as 1, as in p-retry. May return
 * `Infinity` when `maxTimeout` is `Infinity`; the clock clamps timers to about 24.8 days.
 */
export function computeDelay(
  attempt: number,
  o: ReconnectOptions,
  random: () => number = Math.random,
): number {
  const n = attempt >= 1 ? Math.floor(attempt) : 1;
  const factor = o.factor > 0 ? o.factor : 1;
  const jitter = o.randomize ? random() + 1 : 1;
  const delay = Math.min(Math.round(jitter * o.minTimeout * factor ** (n - 1)), o.maxTimeout);
  // minTimeout 0 with an overflowing factor gives 0 * Infinity = NaN: that is "no delay".
  return Number.isNaN(delay) ? 0 : delay;
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

/**
 * System and library error codes of transient network failures.
 * ENOTFOUND (no such host) is retried: Node reports it not only for a typo but also when the
 * machine is offline (macOS) and while a new service's DNS name is not yet published (Kubernetes
 * rollouts); a long-lived client must survive those, and a typo is visible to the caller in the
 * first `onRetry`/"reconnecting" report, bounded to one attempt per `maxTimeout`. EAI_AGAIN is the
 * resolver's own "temporary failure".
 */
const RETRYABLE_SYSTEM_CODES: ReadonlySet<string> = new Set([
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
  "ENOTFOUND",
  "UND_ERR_SOCKET",
  // Our own transient failures (packages/client/src/errors.ts and the core).
  "WS_ERR_UNEXPECTED_EOF",
]);

/** Codes of failures that retrying cannot fix (local misuse, the user's own abort, a full queue). */
const FATAL_CODES: ReadonlySet<string> = new Set([
  "ABORT_ERR",
  "WS_ERR_ABORTED",
  "WS_ERR_SEND_QUEUE_FULL",
  "WS_ERR_INVALID_STATE",
  "WS_ERR_INVALID_ARGUMENT",
]);

/** Any "...TIMEOUT"/"...TIMEDOUT" code: handshake, heartbeat, TLS handshake, connect timeouts. */
const TIMEOUT_CODE = /TIME_?OUT$|TIMEDOUT$/;

/**
 * TLS certificate and protocol failures: an expired, self-signed or mismatched certificate, or a
 * server that does not speak TLS, will not change by retrying (checked after TIMEOUT_CODE, so
 * ERR_TLS_HANDSHAKE_TIMEOUT is retried).
 */
const TLS_CODE = /CERT|^ERR_TLS_|^ERR_SSL_|^UNABLE_TO_|HOSTNAME_MISMATCH|^EPROTO$/;

/** Whether an HTTP status answering the upgrade request is worth another attempt. */
function isRetryableStatus(status: number): boolean {
  if (status === 408 || status === 429) return true; // Request Timeout, Too Many Requests.
  // 501 Not Implemented and 505 HTTP Version Not Supported describe the server, not its load.
  if (status >= 500 && status <= 599) return status !== 501 && status !== 505;
  return false; // 3xx (redirects are not followed), 4xx: the same request gets the same answer.
}

type Fields = {
  code?: unknown;
  socksReply?: unknown;
  authFailed?: unknown;
  status?: unknown;
  closeCode?: unknown;
  wasClean?: unknown;
  initiatedByUser?: unknown;
  name?: unknown;
  cause?: unknown;
  errors?: unknown;
};

/**
 * The default `shouldReconnect`: whether a connection failure or loss is worth another attempt.
 * Fields are read duck-typed, so this module depends on no error class.
 *
 * | reason | retry? |
 * |---|---|
 * | anything with `initiatedByUser: true` (the user closed) | no |
 * | `name: "AbortError"`, code `ABORT_ERR`, `WS_ERR_ABORTED` (the user's signal) | no |
 * | `name: "TimeoutError"`, any code ending in `TIMEOUT`/`TIMEDOUT` (`ETIMEDOUT`, `WS_ERR_HANDSHAKE_TIMEOUT`, `WS_ERR_HEARTBEAT_TIMEOUT`, `ERR_TLS_HANDSHAKE_TIMEOUT`...) | yes |
 * | network codes `ECONNREFUSED`, `ECONNRESET`, `ECONNABORTED`, `EPIPE`, `EHOSTUNREACH`, `EHOSTDOWN`, `ENETUNREACH`, `ENETDOWN`, `ENETRESET`, `EADDRNOTAVAIL`, `EAI_AGAIN`, `ENOTFOUND`, `UND_ERR_SOCKET`, `WS_ERR_UNEXPECTED_EOF` | yes |
 * | TLS codes (`*CERT*`, `ERR_TLS_*`, `ERR_SSL_*`, `UNABLE_TO_*`, `HOSTNAME_MISMATCH`, `EPROTO`) | no |
 * | `WS_ERR_UNEXPECTED_RESPONSE` (or no code) with `status` 408, 429, 5xx except 501/505 | yes |
 * | same with any other status (3xx, 400, 401, 403, 404, other 4xx, 501, 505) | no |
 * | `WS_ERR_CONNECT`: decided by its `cause`; yes if the cause says nothing | per cause / yes |
 * | `WS_ERR_PROXY` refusals: `status` 407, 403 (and other statuses as above: 502-504 yes), `authFailed`, `socksReply` 2, 7, 8 (not allowed, unsupported) | no |
 * | `WS_ERR_PROXY` other SOCKS replies (1, 3-6), or an unreachable proxy: by its `cause`, else | yes |
 * | `closeCode` (errors) or numeric `code` (close events) 1001, 1006, 1011, 1012, 1013, 1014 | yes |
 * | any other close code (1000, 1002, 1003, 1005, 1007-1010, 1015, 3000-4999) | no |
 * | a close event with `wasClean: false` and no code | yes |
 * | `WS_ERR_SEND_QUEUE_FULL`, `WS_ERR_INVALID_STATE`, `WS_ERR_INVALID_ARGUMENT` | no |
 * | an AggregateError (`errors` array, as Node's happy eyeballs) | yes if any member is |
 * | otherwise: decided by `cause` (up to 8 levels), else | no |
 *
 * Unknown errors default to "no": a reconnect loop must not hide a bug behind retries. Pass your own
 * `shouldReconnect` (which may call this one) to retry more.
 */
export function isRetryable(reason: unknown): boolean {
  return decide(reason, 0) ?? false;
}

/** true/false when `reason` settles the question, undefined when it says nothing. */
function decide(reason: unknown, depth: number): boolean | undefined {
  if (depth > 8 || reason === null || typeof reason !== "object") return undefined;
  const r = reason as Fields;
  if (r.initiatedByUser === true) return false;
  if (r.name === "AbortError") return false;
  if (r.name === "TimeoutError") return true;

  if (typeof r.code === "string") {
    const code = r.code;
    if (FATAL_CODES.has(code)) return false;
    if (RETRYABLE_SYSTEM_CODES.has(code) || TIMEOUT_CODE.test(code)) return true;
    if (TLS_CODE.test(code)) return false;
    if (code === "WS_ERR_UNEXPECTED_RESPONSE" && typeof r.status === "number") {
      return isRetryableStatus(r.status);
    }
    if (code === "WS_ERR_CONNECT") return decide(r.cause, depth + 1) ?? true;
    if (code === "WS_ERR_PROXY") return decideProxy(r, depth);
  } else if (typeof r.status === "number") {
    return isRetryableStatus(r.status);
  }

  const closeCode =
    typeof r.closeCode === "number" ? r.closeCode : typeof r.code === "number" ? r.code : undefined;
  if (closeCode !== undefined) return RETRYABLE_CLOSE_CODES.has(closeCode);
  if (r.wasClean === false) return true;

  if (Array.isArray(r.errors)) {
    const verdicts = r.errors.map((e) => decide(e, depth + 1));
    if (verdicts.includes(true)) return true;
    if (verdicts.includes(false)) return false;
  }
  // One of our own codes not listed above (handshake validation, protocol errors without a close
  // code) is a definite "no", so that a WS_ERR_CONNECT wrapping it is not retried by default.
  return (
    decide(r.cause, depth + 1) ??
    (typeof r.code === "string" && r.code.startsWith("WS_ERR_") ? false : undefined)
  );
}

/** SOCKS5 replies a retry cannot change: 2 not allowed by ruleset, 7 command / 8 address type not supported. */
const FATAL_SOCKS_REPLIES: ReadonlySet<number> = new Set([2, 7, 8]);

/**
 * A proxy that refused us (407 credentials, 403 policy, bad SOCKS credentials) answers the same
 * again; a proxy that could not reach the server (502, SOCKS "host unreachable") or that we could
 * not reach may do better next time.
 */
function decideProxy(r: Fields, depth: number): boolean {
  if (r.authFailed === true) return false;
  if (typeof r.status === "number") return isRetryableStatus(r.status);
  if (typeof r.socksReply === "number") return !FATAL_SOCKS_REPLIES.has(r.socksReply);
  return decide(r.cause, depth + 1) ?? true;
}

/** What `onRetry` learns before each wait. */
export interface RetryInfo {
  /** The attempt that just failed (1-based); the next one is `attempt + 1`. */
  readonly attempt: number;
  /** How long runWithReconnect will now wait, in ms: the backoff, or the server's Retry-After if longer. */
  readonly delay: number;
  /** Why the attempt failed (the original rejection, unwrapped). */
  readonly error: unknown;
  /** Retries left after the coming one (`Infinity` when unbounded). */
  readonly retriesLeft: number;
  /** The server's Retry-After in ms (on a 429 or 503 answer), if it sent one. */
  readonly retryAfter: number | undefined;
}

export interface RunWithReconnectOptions extends ReconnectOptions {
  /**
   * Aborting rejects with `signal.reason` at once during a wait (and clears its timer). During an
   * attempt, `attemptFn` should observe the same signal itself: runWithReconnect rejects when the
   * attempt settles (p-retry then discards a result obtained after the abort).
   */
  signal?: AbortSignal;
  /** Whether a failure is worth another attempt. Default {@link isRetryable}. A throw rejects with it. */
  shouldReconnect?: (reason: unknown) => boolean;
  /** Called before each wait (the client emits "reconnecting" from it). A throw rejects with it. */
  onRetry?: (info: RetryInfo) => void;
  /** Time source of the waits (tests pass a ManualClock). */
  clock?: Clock;
  /** Source of the jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Let the process exit during a wait, as p-retry's `unref`. Default false: a client that is
   * reconnecting is doing what the user asked, and a process that exits silently mid-backoff (its
   * `for await` just never resumes) would be a worse surprise than one that stays up. Ignored when
   * `clock` is given.
   */
  unref?: boolean;
}

/** Carries a rejection through p-retry untouched (p-retry turns non-Errors and TypeErrors into its own). */
class AttemptFailure extends Error {
  readonly reason: unknown;
  constructor(reason: unknown) {
    super("reconnect attempt failed");
    this.reason = reason;
  }
}

/**
 * Calls `attemptFn(1)`, `attemptFn(2)`, ... until one resolves, waiting a backoff between attempts;
 * resolves with that result. Rejects with the ORIGINAL error (never a wrapper) of the first failure
 * `shouldReconnect` refuses, or of the last attempt once `retries` are spent; with `signal.reason` if
 * aborted; or with what `onRetry`/`shouldReconnect` threw. Each call starts a fresh backoff, so the
 * backoff resets after a successful connect.
 *
 * Design: p-retry drives the loop (attempt numbering, the retry budget, the abort checks), but
 * p-retry 7 has no per-error delay, and a 429/503 with Retry-After must wait at least that long. So
 * p-retry is given zero timeouts (it then sets no timer at all) and the wait happens in its
 * `onFailedAttempt` hook, which p-retry awaits before the next attempt (its README's own way to add
 * a delay). That hook decides (shouldReconnect), computes the delay with {@link computeDelay} (p-retry's
 * own formula) raised to the Retry-After, reports it through `onRetry`, and sleeps on the injected
 * clock, abortably. Throwing from the hook is p-retry's documented way to stop with a given error.
 */
export async function runWithReconnect<T>(
  attemptFn: (attempt: number) => Promise<T>,
  o: RunWithReconnectOptions,
): Promise<T> {
  validate(o);
  const clock = o.clock ?? createSystemClock({ unref: o.unref ?? false });
  const shouldReconnect = o.shouldReconnect ?? isRetryable;
  const random = o.random ?? Math.random;
  try {
    return await pRetry(
      async (attempt: number) => {
        try {
          return await attemptFn(attempt);
        } catch (err) {
          throw new AttemptFailure(err);
        }
      },
      {
        retries: o.retries,
        // p-retry's own wait is zero: the hook below waits instead.
        minTimeout: 0,
        maxTimeout: 0,
        factor: 1,
        randomize: false,
        ...(o.signal ? { signal: o.signal } : {}),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          const reason = error instanceof AttemptFailure ? error.reason : error;
          o.signal?.throwIfAborted();
          if (retriesLeft <= 0 || !shouldReconnect(reason)) throw reason;
          const retryAfter = serverRetryAfter(reason);
          const delay = Math.max(computeDelay(attemptNumber, o, random), retryAfter ?? 0);
          o.onRetry?.({
            attempt: attemptNumber,
            delay,
            error: reason,
            retriesLeft: retriesLeft - 1,
            retryAfter,
          });
          await sleep(delay, clock, o.signal);
        },
      },
    );
  } catch (err) {
    throw err instanceof AttemptFailure ? err.reason : err;
  }
}

function validate(o: ReconnectOptions): void {
  if (!(o.retries >= 0)) throw new RangeError(`retries must be >= 0 or Infinity, got ${o.retries}`);
  if (!(o.minTimeout >= 0) || !Number.isFinite(o.minTimeout)) {
    throw new RangeError(`minTimeout must be a finite number >= 0, got ${o.minTimeout}`);
  }
  if (!(o.maxTimeout >= 0)) throw new RangeError(`maxTimeout must be >= 0, got ${o.maxTimeout}`);
  if (Number.isNaN(o.factor) || !Number.isFinite(o.factor)) {
    throw new RangeError(`factor must be a finite number, got ${o.factor}`);
  }
}

/** The Retry-After of a 429 or 503 handshake answer (the statuses RFC 9110 gives it a meaning for). */
function serverRetryAfter(reason: unknown): number | undefined {
  if (reason === null || typeof reason !== "object") return undefined;
  const r = reason as { status?: unknown; headers?: unknown; response?: { headers?: unknown } };
  if (r.status !== 429 && r.status !== 503) return undefined;
  const headers = r.headers ?? r.response?.headers;
  if (headers === null || typeof headers !== "object") return undefined;
  return retryAfterMs(headers as Record<string, string>);
}

/** Waits `ms` on `clock`; rejects with `signal.reason` as soon as it aborts, clearing the timer. */
function sleep(ms: number, clock: Clock, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (!(ms > 0)) {
      resolve();
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
