import pRetry from "p-retry";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../src/clock.js";
import { InvalidRedirectError, ProxyError, TooManyRedirectsError } from "../src/errors.js";
import {
  computeDelay,
  DEFAULT_RECONNECT,
  isRetryable,
  MAX_RETRY_AFTER_MS,
  type ReconnectOptions,
  type RetryInfo,
  retryAfterMs,
  runWithReconnect,
} from "../src/reconnect.js";

const noJitter: ReconnectOptions = { ...DEFAULT_RECONNECT, randomize: false };

/** An error shaped like Node's system errors. */
function sysError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

/** An error shaped like the core's UnexpectedResponseError. */
function httpError(status: number, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(`Unexpected server response: ${status}`), {
    code: "WS_ERR_UNEXPECTED_RESPONSE",
    status,
    headers,
  });
}

/** Lets promise reactions run until `cond` holds (bounded; real time is a few ms at most). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise<void>((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("computeDelay", () => {
  it("follows min(maxTimeout, minTimeout * factor^(attempt-1)) without randomize", () => {
    const table = Array.from({ length: 10 }, (_, i) => computeDelay(i + 1, noJitter));
    expect(table).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
    const gentle = { ...noJitter, minTimeout: 100, factor: 1.5, maxTimeout: 1000 };
    expect(Array.from({ length: 10 }, (_, i) => computeDelay(i + 1, gentle))).toEqual([
      100, 150, 225, 338, 506, 759, 1000, 1000, 1000, 1000,
    ]);
  });

  it("treats attempt < 1 as 1, factor <= 0 as 1, and never returns NaN", () => {
    expect(computeDelay(0, noJitter)).toBe(1000);
    expect(computeDelay(4, { ...noJitter, factor: 0 })).toBe(1000);
    expect(computeDelay(5000, { ...noJitter, minTimeout: 0, maxTimeout: Number.POSITIVE_INFINITY })).toBe(0);
  });

  it("multiplies by a jitter in [1, 2) when randomize, before the cap", () => {
    const o = { ...DEFAULT_RECONNECT };
    expect(computeDelay(1, o, () => 0)).toBe(1000);
    expect(computeDelay(1, o, () => 0.5)).toBe(1500);
    expect(computeDelay(3, o, () => 0.25)).toBe(5000);
    expect(computeDelay(5, o, () => 0.9999)).toBe(30000); // 31998 capped
    for (let attempt = 1; attempt <= 10; attempt++) {
      const base = computeDelay(attempt, noJitter);
      for (let i = 0; i < 50; i++) {
        const d = computeDelay(attempt, o);
        expect(d).toBeGreaterThanOrEqual(base);
        expect(d).toBeLessThanOrEqual(Math.min(2 * base, o.maxTimeout));
      }
    }
  });

  it("matches the delays p-retry 7 itself waits", async () => {
    const options = { retries: 8, minTimeout: 7, maxTimeout: 500, factor: 1.7, randomize: true };
    vi.spyOn(Math, "random").mockReturnValue(0.37);
    const waited: number[] = [];
    // Run every p-retry timer at once, recording its delay.
    vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms: number) => {
      waited.push(ms);
      queueMicrotask(fn);
      return 0 as unknown as ReturnType<typeof setTimeout>;
    }) as typeof setTimeout);
    await expect(
      pRetry(() => {
        throw new Error("fail");
      }, options),
    ).rejects.toThrow("fail");
    vi.restoreAllMocks();
    expect(waited).toHaveLength(8);
    expect(waited).toEqual(Array.from({ length: 8 }, (_, i) => computeDelay(i + 1, options, () => 0.37)));
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");

  it("reads delta-seconds", () => {
    expect(retryAfterMs({ "retry-after": "120" }, now)).toBe(120_000);
    expect(retryAfterMs({ "retry-after": "0" }, now)).toBe(0);
    expect(retryAfterMs({ "retry-after": " 5 " }, now)).toBe(5000);
    expect(retryAfterMs({ "Retry-After": "3" }, now)).toBe(3000);
  });

  it("reads an HTTP-date in any of its three forms, relative to now", () => {
    expect(retryAfterMs({ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" }, now)).toBe(30_000);
    expect(retryAfterMs({ "retry-after": "Wednesday, 21-Oct-15 07:29:00 GMT" }, now)).toBe(60_000);
    expect(retryAfterMs({ "retry-after": "Wed Oct 21 07:28:10 2015" }, now)).toBe(10_000);
  });

  it("a date in the past means now", () => {
    expect(retryAfterMs({ "retry-after": "Wed, 21 Oct 2015 07:00:00 GMT" }, now)).toBe(0);
  });

  it("caps at one hour", () => {
    expect(retryAfterMs({ "retry-after": "999999999" }, now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs({ "retry-after": "Thu, 22 Oct 2015 07:28:00 GMT" }, now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it("returns undefined for a missing or invalid header", () => {
    for (const value of [
      "",
      "soon",
      "1.5",
      "-1",
      "+3",
      "12abc",
      "0x10",
      "Wed, garbage",
      "Funday, 1 Jan 2020",
    ]) {
      expect(retryAfterMs({ "retry-after": value }, now), value).toBeUndefined();
    }
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ "x-retry-after": "5" }, now)).toBeUndefined();
  });
});

describe("isRetryable", () => {
  const table: [string, unknown, boolean][] = [
    ...[
      "ECONNREFUSED",
      "ECONNRESET",
      "ETIMEDOUT",
      "EPIPE",
      "ENOTFOUND",
      "EAI_AGAIN",
      "EHOSTUNREACH",
      "ENETUNREACH",
    ].map((code): [string, unknown, boolean] => [code, sysError(code), true]),
    ["EACCES (unknown system error)", sysError("EACCES"), false],
    ["TLS: expired certificate", sysError("CERT_HAS_EXPIRED"), false],
    ["TLS: self-signed", sysError("DEPTH_ZERO_SELF_SIGNED_CERT"), false],
    ["TLS: altname", sysError("ERR_TLS_CERT_ALTNAME_INVALID"), false],
    ["TLS: unable to verify", sysError("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), false],
    ["TLS: wrong version", sysError("ERR_SSL_WRONG_VERSION_NUMBER"), false],
    ["TLS handshake timeout", sysError("ERR_TLS_HANDSHAKE_TIMEOUT"), true],
    ["TimeoutError (AbortSignal.timeout)", new DOMException("timed out", "TimeoutError"), true],
    ["AbortError (user abort)", new DOMException("aborted", "AbortError"), false],
    ["handshake timeout", { code: "WS_ERR_HANDSHAKE_TIMEOUT" }, true],
    ["heartbeat death", { code: "WS_ERR_HEARTBEAT_TIMEOUT", closeCode: 1011 }, true],
    ["unexpected EOF", { code: "WS_ERR_UNEXPECTED_EOF" }, true],
    [
      "connect error wrapping ECONNREFUSED",
      { code: "WS_ERR_CONNECT", cause: sysError("ECONNREFUSED") },
      true,
    ],
    [
      "connect error wrapping a bad certificate",
      { code: "WS_ERR_CONNECT", cause: sysError("CERT_HAS_EXPIRED") },
      false,
    ],
    ["connect error with no cause", { code: "WS_ERR_CONNECT" }, true],
    ["aborted by the client's signal", { code: "WS_ERR_ABORTED" }, false],
    ["send queue full", { code: "WS_ERR_SEND_QUEUE_FULL" }, false],
    ["invalid state", { code: "WS_ERR_INVALID_STATE" }, false],
    ["invalid accept", { code: "WS_ERR_INVALID_ACCEPT" }, false],
    ["protocol error (closeCode 1002)", { code: "WS_ERR_INVALID_OPCODE", closeCode: 1002 }, false],
    ["too big (closeCode 1009)", { code: "WS_ERR_PAYLOAD_TOO_BIG", closeCode: 1009 }, false],
    ...[400, 401, 403, 404, 405, 426, 301, 302, 501, 505].map((s): [string, unknown, boolean] => [
      `HTTP ${s}`,
      httpError(s),
      false,
    ]),
    ...[408, 429, 500, 502, 503, 504, 520].map((s): [string, unknown, boolean] => [
      `HTTP ${s}`,
      httpError(s),
      true,
    ]),
    ["bare status 503", { status: 503 }, true],
    ...[1001, 1006, 1011, 1012, 1013, 1014].map((code): [string, unknown, boolean] => [
      `close ${code}`,
      { code, reason: "", wasClean: code !== 1006 },
      true,
    ]),
    ...[1000, 1002, 1003, 1005, 1007, 1008, 1009, 1010, 1015, 3000, 4000].map(
      (code): [string, unknown, boolean] => [`close ${code}`, { code, reason: "", wasClean: true }, false],
    ),
    [
      "close 1006 initiated by the user",
      { code: 1006, reason: "", wasClean: false, initiatedByUser: true },
      false,
    ],
    [
      "close 1001 initiated by the user",
      { code: 1001, reason: "", wasClean: true, initiatedByUser: true },
      false,
    ],
    ["ConnectionClosedError 1006", { code: "WS_ERR_CONNECTION_CLOSED", closeCode: 1006 }, true],
    ["ConnectionClosedError 1000", { code: "WS_ERR_CONNECTION_CLOSED", closeCode: 1000 }, false],
    [
      "ConnectionClosedError by the user",
      { code: "WS_ERR_CONNECTION_CLOSED", closeCode: 1006, initiatedByUser: true },
      false,
    ],
    ["unclean close without a code", { wasClean: false }, true],
    // Proxies: a refusal is final, a proxy that could not reach the server (or that we could not reach) is not.
    ["proxy 407", new ProxyError("http://p", "refused", { status: 407 }), false],
    ["proxy 403", new ProxyError("http://p", "refused", { status: 403 }), false],
    ["proxy 400", new ProxyError("http://p", "refused", { status: 400 }), false],
    ["proxy 502", new ProxyError("http://p", "refused", { status: 502 }), true],
    ["proxy 503", new ProxyError("http://p", "refused", { status: 503 }), true],
    ["proxy unreachable", new ProxyError("http://p", "x", { cause: sysError("ECONNREFUSED") }), true],
    ["proxy closed before answering", new ProxyError("http://p", "closed"), true],
    ["SOCKS bad credentials", new ProxyError("socks5://p", "x", { authFailed: true }), false],
    ["SOCKS 2 not allowed", new ProxyError("socks5://p", "x", { socksReply: 2 }), false],
    ["SOCKS 8 address type", new ProxyError("socks5://p", "x", { socksReply: 8 }), false],
    ["SOCKS 4 host unreachable", new ProxyError("socks5://p", "x", { socksReply: 4 }), true],
    ["SOCKS 5 connection refused", new ProxyError("socks5://p", "x", { socksReply: 5 }), true],
    ["too many redirects", new TooManyRedirectsError(10, "ws://x/"), false],
    ["invalid redirect", new InvalidRedirectError(302, undefined, "no Location header"), false],
    ["AggregateError of refusals", new AggregateError([sysError("ECONNREFUSED"), sysError("EACCES")]), true],
    ["AggregateError of unknowns", new AggregateError([sysError("EACCES")]), false],
    ["error caused by ECONNRESET", new Error("wrapped", { cause: sysError("ECONNRESET") }), true],
    ["plain Error", new Error("bug"), false],
    ["TypeError", new TypeError("x is not a function"), false],
    ["string", "ECONNRESET", false],
    ["null", null, false],
    ["undefined", undefined, false],
  ];

  it.each(table)("%s -> %s", (_label, reason, expected) => {
    expect(isRetryable(reason)).toBe(expected);
  });

  it("does not loop on a cyclic cause chain", () => {
    const a: { cause?: unknown } = {};
    a.cause = a;
    expect(isRetryable(a)).toBe(false);
  });
});

describe("runWithReconnect", () => {
  const fast: ReconnectOptions = { retries: 3, minTimeout: 1, maxTimeout: 5, factor: 2, randomize: false };

  it("retries a transient error `retries` times, then rejects with the original error", async () => {
    const err = sysError("ECONNREFUSED");
    const attempts: number[] = [];
    const retries: RetryInfo[] = [];
    await expect(
      runWithReconnect(
        async (attempt) => {
          attempts.push(attempt);
          throw err;
        },
        { ...fast, onRetry: (info) => retries.push(info) },
      ),
    ).rejects.toBe(err);
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(retries.map((r) => [r.attempt, r.delay, r.retriesLeft])).toEqual([
      [1, 1, 2],
      [2, 2, 1],
      [3, 4, 0],
    ]);
    expect(retries.every((r) => r.error === err && r.retryAfter === undefined)).toBe(true);
  });

  it("resolves with the first successful attempt's result", async () => {
    const attempts: number[] = [];
    const result = await runWithReconnect(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw sysError("ECONNRESET");
        return "connected";
      },
      { ...fast },
    );
    expect(result).toBe("connected");
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("stops at once on a 401 with the original error", async () => {
    const err = httpError(401);
    const onRetry = vi.fn();
    const attemptFn = vi.fn(async () => {
      throw err;
    });
    await expect(runWithReconnect(attemptFn, { ...fast, onRetry })).rejects.toBe(err);
    expect(attemptFn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it("with retries: 0, makes one attempt and rejects with its error", async () => {
    const err = sysError("ECONNRESET");
    const attemptFn = vi.fn(async () => {
      throw err;
    });
    await expect(runWithReconnect(attemptFn, { ...fast, retries: 0 })).rejects.toBe(err);
    expect(attemptFn).toHaveBeenCalledTimes(1);
  });

  it("passes the original rejection, even a non-Error or a TypeError, to shouldReconnect", async () => {
    const seen: unknown[] = [];
    const typeError = new TypeError("flaky");
    await expect(
      runWithReconnect(
        async (attempt) => {
          throw attempt === 1 ? typeError : "a string";
        },
        {
          ...fast,
          shouldReconnect: (reason) => {
            seen.push(reason);
            return reason instanceof TypeError; // p-retry alone would never retry a TypeError
          },
        },
      ),
    ).rejects.toBe("a string");
    expect(seen).toEqual([typeError, "a string"]);
  });

  it("rejects with what onRetry throws", async () => {
    const boom = new Error("listener failed");
    await expect(
      runWithReconnect(
        async () => {
          throw sysError("ECONNRESET");
        },
        {
          ...fast,
          onRetry: () => {
            throw boom;
          },
        },
      ),
    ).rejects.toBe(boom);
  });

  it("waits computeDelay on the injected clock, with the injected jitter", async () => {
    const clock = new ManualClock();
    const attempts: number[] = [];
    const delays: number[] = [];
    const done = runWithReconnect(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw sysError("ETIMEDOUT");
        return attempt;
      },
      {
        ...DEFAULT_RECONNECT,
        clock,
        random: () => 0.5,
        onRetry: (info) => delays.push(info.delay),
      },
    );
    await until(() => clock.pendingTimers === 1);
    expect(delays).toEqual([1500]);
    clock.advance(1499);
    await until(() => true);
    expect(attempts).toEqual([1]);
    clock.advance(1);
    await until(() => clock.pendingTimers === 1);
    expect(attempts).toEqual([1, 2]);
    expect(delays).toEqual([1500, 3000]);
    clock.advance(3000);
    await expect(done).resolves.toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it("honours Retry-After on 503 and 429 when it exceeds the backoff", async () => {
    for (const status of [503, 429]) {
      const clock = new ManualClock();
      const attempts: number[] = [];
      const infos: RetryInfo[] = [];
      const done = runWithReconnect(
        async (attempt) => {
          attempts.push(attempt);
          if (attempt === 1) throw httpError(status, { "retry-after": "2" });
          return "ok";
        },
        { ...fast, clock, onRetry: (info) => infos.push(info) },
      );
      await until(() => clock.pendingTimers === 1);
      expect(infos.map((i) => [i.delay, i.retryAfter])).toEqual([[2000, 2000]]);
      clock.advance(1999);
      await until(() => true);
      expect(attempts).toEqual([1]);
      clock.advance(1);
      await expect(done).resolves.toBe("ok");
      expect(attempts).toEqual([1, 2]);
    }
  });

  it("keeps the backoff when it exceeds Retry-After, and ignores Retry-After on other statuses", async () => {
    const infos: RetryInfo[] = [];
    const clock = new ManualClock();
    const done = runWithReconnect(
      async (attempt) => {
        if (attempt === 1) throw httpError(503, { "retry-after": "1" });
        if (attempt === 2) throw httpError(502, { "retry-after": "60" });
        return "ok";
      },
      { ...noJitter, minTimeout: 5000, clock, onRetry: (info) => infos.push(info) },
    );
    await until(() => clock.pendingTimers === 1);
    clock.advance(5000);
    await until(() => infos.length === 2);
    clock.advance(10_000);
    await expect(done).resolves.toBe("ok");
    expect(infos.map((i) => [i.delay, i.retryAfter])).toEqual([
      [5000, 1000],
      [10_000, undefined],
    ]);
  });

  it("rejects promptly with the signal's reason when aborted during a wait, leaving no timer", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const reason = new Error("closed by user");
    const attemptFn = vi.fn(async () => {
      throw sysError("ECONNREFUSED");
    });
    const done = runWithReconnect(attemptFn, { ...DEFAULT_RECONNECT, clock, signal: controller.signal });
    await until(() => clock.pendingTimers === 1);
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    expect(attemptFn).toHaveBeenCalledTimes(1);
  });

  it("rejects promptly on abort with the real clock and a long backoff", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const done = runWithReconnect(
      async () => {
        throw sysError("ECONNREFUSED");
      },
      {
        ...noJitter,
        minTimeout: 60_000,
        signal: controller.signal,
        onRetry: () => queueMicrotask(() => controller.abort()),
      },
    );
    await expect(done).rejects.toMatchObject({ name: "AbortError" });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("never calls attemptFn when the signal is already aborted", async () => {
    const reason = new Error("already");
    const attemptFn = vi.fn(async () => "x");
    await expect(runWithReconnect(attemptFn, { ...fast, signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    expect(attemptFn).not.toHaveBeenCalled();
  });

  it("rejects with the signal's reason when aborted during an attempt", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const attemptFn = vi.fn(
      (_attempt: number) =>
        new Promise<string>((_resolve, reject) => {
          controller.signal.addEventListener("abort", () => reject(new Error("attempt cancelled")));
        }),
    );
    const done = runWithReconnect(attemptFn, { ...fast, signal: controller.signal });
    await until(() => attemptFn.mock.calls.length === 1);
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(attemptFn).toHaveBeenCalledTimes(1);
  });

  it("validates its options", async () => {
    const attemptFn = async () => "x";
    await expect(runWithReconnect(attemptFn, { ...fast, retries: -1 })).rejects.toThrow(RangeError);
    await expect(runWithReconnect(attemptFn, { ...fast, minTimeout: Number.NaN })).rejects.toThrow(
      RangeError,
    );
    await expect(runWithReconnect(attemptFn, { ...fast, factor: Number.POSITIVE_INFINITY })).rejects.toThrow(
      RangeError,
    );
  });
});
