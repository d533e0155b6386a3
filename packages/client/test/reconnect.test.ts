import type net from "node:net";
import { HandshakeError, InvalidStateError, ProtocolError, UnexpectedResponseError } from "@tideway/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocketServer } from "ws";
import {
  AbortedError,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  InvalidRedirectError,
  ProviderError,
  ProxyError,
  SendQueueFullError,
  TooManyRedirectsError,
} from "../src/errors.js";
import { WebSocketClient } from "../src/index.js";
import {
  Backoff,
  backoffCeiling,
  DEFAULT_RECONNECT,
  isRetryable,
  type ReconnectOptions,
} from "../src/reconnect.js";
import {
  client,
  deadUrl,
  nextEvent,
  onCleanup,
  rawServer,
  take,
  within,
  wsServer,
} from "./helpers/harness.js";
import { ManualClock } from "./helpers/manual-clock.js";
import { onUpgradeRequest, serverFrame, sleep, switchingProtocols, waitFor } from "./helpers/servers.js";

const noJitter: ReconnectOptions = { ...DEFAULT_RECONNECT, jitter: "none" };

/** An error shaped like Node's system errors (a foreign error: classified by its code). */
function sysError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

/** The core's answer to a non-101 status. */
function httpError(status: number, headers: Record<string, string> = {}): UnexpectedResponseError {
  return new UnexpectedResponseError({ status, statusText: "", headers, rawHeaders: [] }, new Uint8Array());
}

const closeInfo = (code: number, wasClean = true, initiatedByUser = false) => ({
  code,
  reason: "",
  wasClean,
  initiatedByUser,
  sent: undefined,
  received: undefined,
});

/** A sequence of values for the jitter source. */
function randoms(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}

describe("backoffCeiling", () => {
  it("follows min(maxTimeout, minTimeout * factor^(failure-1))", () => {
    const o = { ...noJitter, minTimeout: 100, maxTimeout: 1000, factor: 2 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffCeiling(n, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("never returns NaN (minTimeout 0 with an overflowing factor is no delay)", () => {
    expect(backoffCeiling(5000, { ...noJitter, minTimeout: 0, factor: 10, maxTimeout: Infinity })).toBe(0);
  });

  it("may be Infinity with maxTimeout: Infinity (the clock clamps timers)", () => {
    expect(backoffCeiling(2000, { ...noJitter, maxTimeout: Infinity })).toBe(Infinity);
  });
});

describe("Backoff", () => {
  it("full jitter draws in [0, ceiling], including the first wait and those at the cap", () => {
    const o: ReconnectOptions = { ...DEFAULT_RECONNECT, minTimeout: 100, maxTimeout: 400 };
    const b = new Backoff(o, randoms(0, 0.5, 0.999));
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([0, 100, 400, 0, 200, 400]);
  });

  it("decorrelated jitter draws in [minTimeout, 3 x the previous wait], capped", () => {
    const o: ReconnectOptions = {
      ...DEFAULT_RECONNECT,
      jitter: "decorrelated",
      minTimeout: 100,
      maxTimeout: 1000,
    };
    const b = new Backoff(o, randoms(1));
    // 100, then up to 300, 900, then capped at 1000.
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([100, 300, 900, 1000]);
    const low = new Backoff(o, randoms(0));
    expect([low.next(), low.next(), low.next()]).toEqual([100, 100, 100]);
  });

  it("counts failures and starts afresh after reset()", () => {
    const b = new Backoff({ ...noJitter, minTimeout: 10 });
    expect([b.next(), b.next(), b.next()]).toEqual([10, 20, 40]);
    expect(b.failures).toBe(3);
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(10);
  });

  it("waits at least a server's Retry-After, jittered on top of it", () => {
    const b = new Backoff({ ...DEFAULT_RECONNECT, minTimeout: 100 }, randoms(0.5));
    expect(b.next(5000)).toBe(5050);
    expect(new Backoff(noJitter).next(5000)).toBe(5000);
    // A backoff longer than the Retry-After wins.
    expect(new Backoff({ ...noJitter, minTimeout: 9000, maxTimeout: 9000 }).next(5000)).toBe(9000);
  });

  it("spreads 10,000 clients of a restarted server: no 100 ms window holds over 20% of the reconnects", () => {
    // Every client lost a stable connection at t = 0: the first wait of a fresh chain, with the
    // defaults, scheduled on one injected clock.
    const clock = new ManualClock();
    const times: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const delay = new Backoff(DEFAULT_RECONNECT).next();
      clock.setTimeout(() => times.push(clock.now()), delay);
    }
    clock.advance(DEFAULT_RECONNECT.minTimeout);
    expect(times).toHaveLength(10_000);
    const histogram = new Array<number>(10).fill(0);
    for (const t of times) histogram[Math.min(9, Math.floor(t / 100))]!++;
    const share = Math.max(...histogram) / times.length;
    console.log(
      `reconnects per 100 ms window (first wait after a stable connection): ${histogram.join(" ")}`,
    );
    expect(share).toBeLessThanOrEqual(0.2);
    // The same at the cap (every client deep in an outage).
    const capped = Array.from({ length: 10_000 }, () => {
      const b = new Backoff(DEFAULT_RECONNECT);
      for (let i = 0; i < 7; i++) b.next();
      return b.next();
    });
    const windows = new Map<number, number>();
    for (const t of capped) windows.set(Math.floor(t / 100), (windows.get(Math.floor(t / 100)) ?? 0) + 1);
    expect(Math.max(...windows.values()) / capped.length).toBeLessThanOrEqual(0.2);
  });
});

describe("isRetryable", () => {
  const closed = (code: number, initiatedByUser = false) =>
    new ConnectionClosedError(closeInfo(code, code !== 1006, initiatedByUser));
  const table: [string, unknown, boolean][] = [
    ...["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"].map(
      (code): [string, unknown, boolean] => [code, sysError(code), true],
    ),
    ["ENOTFOUND before any connection opened", sysError("ENOTFOUND"), false],
    ["EACCES (unknown system error)", sysError("EACCES"), false],
    ["TLS: expired certificate", sysError("CERT_HAS_EXPIRED"), false],
    ["TLS: self-signed", sysError("DEPTH_ZERO_SELF_SIGNED_CERT"), false],
    ["TLS: altname", sysError("ERR_TLS_CERT_ALTNAME_INVALID"), false],
    ["TLS: unable to verify", sysError("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), false],
    ["TLS: wrong version", sysError("ERR_SSL_WRONG_VERSION_NUMBER"), false],
    ["TLS handshake timeout", sysError("ERR_TLS_HANDSHAKE_TIMEOUT"), true],
    ["TimeoutError (AbortSignal.timeout)", new DOMException("timed out", "TimeoutError"), true],
    ["AbortError (user abort)", new DOMException("aborted", "AbortError"), false],
    ["HandshakeTimeoutError", new HandshakeTimeoutError(10), true],
    ["HeartbeatTimeoutError", new HeartbeatTimeoutError(10), true],
    ["unexpected EOF during the first handshake", new HandshakeError("WS_ERR_UNEXPECTED_EOF", "eof"), false],
    ["not a WebSocket server (invalid HTTP)", new HandshakeError("WS_ERR_INVALID_HTTP", "garbage"), false],
    ["invalid accept", new HandshakeError("WS_ERR_INVALID_ACCEPT", "bad accept"), false],
    ["ConnectError wrapping ECONNREFUSED", new ConnectError("x", { cause: sysError("ECONNREFUSED") }), true],
    ["ConnectError wrapping ENOTFOUND", new ConnectError("x", { cause: sysError("ENOTFOUND") }), false],
    [
      "ConnectError wrapping a bad certificate",
      new ConnectError("x", { cause: sysError("CERT_HAS_EXPIRED") }),
      false,
    ],
    ["ConnectError with no cause", new ConnectError("x"), true],
    ["AbortedError (the client's signal)", new AbortedError(undefined), false],
    ["SendQueueFullError", new SendQueueFullError(1, 1, 1), false],
    ["InvalidStateError", new InvalidStateError("x"), false],
    ["ProtocolError 1002", new ProtocolError("WS_ERR_INVALID_OPCODE", "x"), false],
    ["ProtocolError 1009", new ProtocolError("WS_ERR_PAYLOAD_TOO_BIG", "x"), false],
    ["ProtocolError 1011 (internal)", new ProtocolError("WS_ERR_INTERNAL", "x"), true],
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
    ["a bare object with status 503 (not our class)", { status: 503 }, false],
    ["a look-alike of the old duck-typed shape", { code: "WS_ERR_HANDSHAKE_TIMEOUT" }, false],
    ...[1001, 1006, 1011, 1012, 1013, 1014].map((code): [string, unknown, boolean] => [
      `close ${code}`,
      closeInfo(code, code !== 1006),
      true,
    ]),
    ...[1000, 1002, 1003, 1005, 1007, 1008, 1009, 1010, 1015, 3000, 4000].map(
      (code): [string, unknown, boolean] => [`close ${code}`, closeInfo(code), false],
    ),
    ["close 1006 initiated by the user", closeInfo(1006, false, true), false],
    ["close 1001 initiated by the user", closeInfo(1001, true, true), false],
    ["ConnectionClosedError 1006", closed(1006), true],
    ["ConnectionClosedError 1011", closed(1011), true],
    ["ConnectionClosedError 1000", closed(1000), false],
    ["unclean close without a code", { wasClean: false }, true],
    ["ProviderError caused by ECONNRESET", new ProviderError("headers", sysError("ECONNRESET")), true],
    ["ProviderError caused by a bug", new ProviderError("url", new TypeError("x is undefined")), false],
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
    [
      "AggregateError of an abort",
      new AggregateError([new AbortedError(undefined), sysError("EACCES")]),
      false,
    ],
    [
      "AggregateError whose own code decides nothing: its members",
      Object.assign(new AggregateError([sysError("ETIMEDOUT")]), { code: "EACCES" }),
      true,
    ],
    [
      "AggregateError whose own code decides",
      Object.assign(new AggregateError([]), { code: "ECONNRESET" }),
      true,
    ],
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

  it("retries ENOTFOUND once a connection has opened (offline laptop, DNS rollout)", () => {
    expect(isRetryable(sysError("ENOTFOUND"), { everOpened: true })).toBe(true);
    expect(isRetryable(new ConnectError("x", { cause: sysError("ENOTFOUND") }), { everOpened: true })).toBe(
      true,
    );
  });

  it("does not loop on a cyclic cause chain", () => {
    const a: { cause?: unknown } = {};
    a.cause = a;
    expect(isRetryable(a)).toBe(false);
  });
});

// The backoff grows, is capped and resets; Retry-After on a 429; a failing first connect() retries;
// shouldReconnect; 400/401/403 are final; reconnect(delayMs); open and onOpen on every connection; the
// signal; each close code.
describe("against real servers", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A raw server that completes every handshake and keeps the sockets, so the test can drop them. */
  async function acceptingServer(onOpen: (socket: net.Socket, index: number) => void = () => {}) {
    return rawServer((socket, index) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, `conn ${index}`)]));
        onOpen(socket, index);
      }),
    );
  }

  describe("backoff", () => {
    it("grows by factor per attempt and is capped by maxTimeout", async () => {
      const url = await deadUrl();
      const c = client(url, {
        reconnect: { initialRetries: 5, minTimeout: 5, maxTimeout: 30, factor: 2, jitter: "none" },
      });
      const delays: number[] = [];
      c.on("reconnecting", (r) => delays.push(r.delay));
      await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_CONNECT" });
      expect(delays).toEqual([5, 10, 20, 30, 30]);
    });

    it("draws each wait in [0, ceiling] with full jitter (the default)", async () => {
      const url = await deadUrl();
      const c = client(url, { reconnect: { initialRetries: 4, minTimeout: 10, maxTimeout: 10_000 } });
      const delays: number[] = [];
      c.on("reconnecting", (r) => delays.push(r.delay));
      await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_CONNECT" });
      expect(delays).toHaveLength(4);
      delays.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(10 * 2 ** i);
      });
    });

    it("resets after a connection that stayed up (stableAfter), not after short-lived ones", async () => {
      const server = await acceptingServer();
      const c = client(server.url, {
        reconnect: { minTimeout: 100, maxTimeout: 10_000, factor: 2, jitter: "none", stableAfter: 300 },
      });
      const delays: number[] = [];
      c.on("reconnecting", (r) => delays.push(r.delay));
      let opens = 0;
      c.on("open", () => opens++);
      await c.connect();
      server.sockets[0]?.destroy(); // lived 0 ms
      await waitFor(() => opens === 2, 3000, "second open");
      await sleep(400); // the second connection stays up past stableAfter
      server.sockets[1]?.destroy();
      await waitFor(() => opens === 3, 3000, "third open");
      server.sockets[2]?.destroy(); // short-lived again
      await waitFor(() => opens === 4, 3000, "fourth open");
      // Without the reset the delays would keep growing: 100, 200, 400.
      expect(delays).toEqual([100, 100, 200]);
    });
  });

  describe("the first connect()", () => {
    it("retries a refused connection until the server comes up (the documented default)", async () => {
      const first = await rawServer(() => {});
      const port = first.port;
      await first.close();
      const c = client(`ws://127.0.0.1:${port}`, { reconnect: { minTimeout: 20, maxTimeout: 40 } });
      const retried = nextEvent(c, "reconnecting");
      const connecting = c.connect();
      expect((await retried).error).toMatchObject({ code: "WS_ERR_CONNECT" });
      // Now bring a server up on that port (the helpers bind port 0; this test needs the old port).
      const wss = new WebSocketServer({ host: "127.0.0.1", port });
      onCleanup(
        () =>
          new Promise<void>((resolve) => {
            for (const ws of wss.clients) ws.terminate();
            wss.close(() => resolve());
          }),
      );
      await new Promise<void>((resolve) => wss.once("listening", resolve));
      const response = await within(connecting, 3000, "connect() after the server came up");
      expect(response.status).toBe(101);
    });

    it("reconnecting is on by default: a refused first connect() is retried within minTimeout (1 s), jittered", async () => {
      const url = await deadUrl();
      const c = new WebSocketClient(url, { heartbeat: false }); // reconnect: the default
      onCleanup(() => c.terminate());
      c.on("error", () => {});
      const retry = nextEvent(c, "reconnecting");
      const connecting = c.connect().catch((e: unknown) => e);
      const info = await within(retry, 2000, "the first reconnecting event");
      expect(info.attempt).toBe(1);
      expect(info.delay).toBeGreaterThanOrEqual(0);
      expect(info.delay).toBeLessThanOrEqual(1000);
      c.terminate();
      expect(await connecting).toBeInstanceOf(AbortedError);
    });

    it("with reconnect: false fails on the first error without retrying", async () => {
      const url = await deadUrl();
      const c = client(url, { reconnect: false });
      const retries: unknown[] = [];
      c.on("reconnecting", (r) => retries.push(r));
      await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_CONNECT" });
      expect(retries).toEqual([]);
    });
  });

  describe("the default policy and shouldReconnect", () => {
    it.each([400, 401, 403, 404])("a %i answer is final: one request, connect() rejects", async (status) => {
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, () => socket.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\n\r\n`)),
      );
      const c = client(server.url);
      c.on("error", () => {});
      await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_UNEXPECTED_RESPONSE", status });
      await sleep(50);
      expect(server.sockets).toHaveLength(1);
    });

    it("shouldReconnect can retry a 404", async () => {
      const server = await rawServer((socket, index) =>
        onUpgradeRequest(socket, (key) => {
          if (index === 0) socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
          else socket.write(switchingProtocols(key));
        }),
      );
      const reasons: unknown[] = [];
      const c = client(server.url, {
        shouldReconnect: (reason) => {
          reasons.push(reason);
          return true;
        },
      });
      c.on("error", () => {});
      expect((await c.connect()).status).toBe(101);
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toMatchObject({ status: 404 });
    });

    it("shouldReconnect can refuse a drop the default would retry; the iterator throws it", async () => {
      const server = await acceptingServer((socket) => setTimeout(() => socket.destroy(), 20));
      const reasons: unknown[] = [];
      const c = client(server.url, {
        shouldReconnect: (reason) => {
          reasons.push(reason);
          return false;
        },
      });
      c.on("error", () => {});
      await c.connect();
      const err = await (async () => {
        for await (const _ of c) {
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionClosedError);
      expect((err as ConnectionClosedError).closeCode).toBe(1006);
      expect(reasons).toEqual([err]);
      expect(server.sockets).toHaveLength(1);
    });

    it("honours Retry-After on a 429: the next attempt waits at least that long", async () => {
      const times: number[] = [];
      const server = await rawServer((socket, index) =>
        onUpgradeRequest(socket, (key) => {
          times.push(Date.now());
          if (index === 0)
            socket.end("HTTP/1.1 429 Slow Down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
          else socket.write(switchingProtocols(key));
        }),
      );
      const c = client(server.url, { reconnect: { minTimeout: 10, maxTimeout: 20 } });
      c.on("error", () => {});
      const retry = nextEvent(c, "reconnecting");
      await within(c.connect(), 4000, "connect after Retry-After");
      expect((await retry).delay).toBeGreaterThanOrEqual(1000);
      expect(times).toHaveLength(2);
      expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(950);
    });
  });

  describe("reconnect(delayMs), open and onOpen on every connection", () => {
    it("reconnect(0) cuts a long backoff wait short", async () => {
      let up = false;
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          if (up) socket.write(switchingProtocols(key));
          else socket.end("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
        }),
      );
      const c = client(server.url, { reconnect: { minTimeout: 20_000, maxTimeout: 20_000, jitter: "none" } });
      c.on("error", () => {});
      const retrying = nextEvent(c, "reconnecting");
      const connecting = c.connect();
      expect((await retrying).delay).toBeGreaterThanOrEqual(20_000);
      up = true;
      c.reconnect(0);
      expect((await within(connecting, 2000, "connect() after reconnect(0)")).status).toBe(101);
    });

    it("reconnect(delayMs) on a closed client starts it again after the delay", async () => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      await c.close();
      const reopened = nextEvent(c, "open");
      const start = Date.now();
      c.reconnect(60);
      await within(reopened, 2000, "open after reconnect()");
      expect(Date.now() - start).toBeGreaterThanOrEqual(55);
      await c.send("back");
      expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["back"]);
    });

    it("emits open and runs onOpen on every automatic reconnect, before queued sends", async () => {
      const frames: string[][] = [];
      const server = await acceptingServer((socket, index) => {
        frames[index] = [];
        socket.on("data", (d: Buffer) => {
          // Unmask small single-frame client messages (each data event here holds whole frames).
          for (let off = 0; off + 6 <= d.length; ) {
            const len = (d[off + 1] ?? 0) & 0x7f;
            const mask = d.subarray(off + 2, off + 6);
            const payload = Buffer.from(d.subarray(off + 6, off + 6 + len)).map(
              (b, i) => b ^ (mask[i % 4] ?? 0),
            );
            if (((d[off] ?? 0) & 0x0f) === 1) frames[index]?.push(Buffer.from(payload).toString());
            off += 6 + len;
          }
        });
        if (index < 2) setTimeout(() => socket.destroy(), 40);
      });
      const onOpenCalls: number[] = [];
      const c = client(server.url, {
        onOpen: async (cl, response) => {
          expect(response.status).toBe(101);
          onOpenCalls.push(onOpenCalls.length);
          await sleep(10);
          await cl.send(`auth ${onOpenCalls.length}`);
        },
      });
      c.on("error", () => {});
      let opens = 0;
      c.on("open", () => opens++);
      c.on("close", () => {
        void c.send(`queued after close ${opens}`).catch(() => {});
      });
      await c.connect();
      const got = await within(take(c[Symbol.asyncIterator](), 3), 3000, "three connections");
      expect(got).toEqual(["conn 0", "conn 1", "conn 2"]);
      expect(opens).toBe(3);
      expect(onOpenCalls).toEqual([0, 1, 2]);
      await waitFor(() => (frames[2]?.length ?? 0) >= 2, 2000, "frames on the third connection");
      expect(frames[1]).toEqual(["auth 2", "queued after close 1"]);
      expect(frames[2]).toEqual(["auth 3", "queued after close 2"]);
    });

    it("an onOpen that throws fails the connection with 1011; connect() and queued sends reject with its error", async () => {
      const server = await wsServer({ echo: false });
      const serverSaw = new Promise<number>((resolve) =>
        server.wss.on("connection", (ws) => ws.on("close", (code) => resolve(code))),
      );
      const bug = new Error("subscribe failed");
      const c = client(server.url, {
        onOpen: () => {
          throw bug;
        },
      });
      c.on("error", () => {});
      const queued = c.send("never sent").catch((e: unknown) => e);
      expect(await c.connect().catch((e: unknown) => e)).toBe(bug);
      expect(await queued).toBe(bug);
      expect(await within(serverSaw, 2000, "the server's close")).toBe(1011);
      expect(server.requests).toHaveLength(1); // an unknown error is not retried by default
    });

    it("the signal aborts a reconnect loop in its backoff and ends the iterator cleanly", async () => {
      const server = await acceptingServer((socket) => setTimeout(() => socket.destroy(), 20));
      const ac = new AbortController();
      const c = client(server.url, {
        signal: ac.signal,
        reconnect: { minTimeout: 20_000, maxTimeout: 20_000 },
      });
      c.on("error", () => {});
      c.once("reconnecting", () => ac.abort(new Error("stop")));
      await c.connect();
      const got: unknown[] = [];
      await within(
        (async () => {
          for await (const m of c) got.push(m);
        })(),
        2000,
        "the iterator to end",
      );
      expect(got).toEqual(["conn 0"]);
      expect(server.sockets).toHaveLength(1);
      await expect(c.connect()).rejects.toBeInstanceOf(AbortedError);
    });
  });

  describe("the server closes with each close code", () => {
    const retried = new Set([1001, 1011, 1012, 1013, 1014]);
    const normal = new Set([1000, 1001, 1005]);
    it.each([1000, 1001, 1002, 1003, 1005, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])(
      "close code %i: reported, then the policy reconnects or ends the iterator",
      async (code) => {
        const server = await wsServer({ echo: false });
        let n = 0;
        server.wss.on("connection", (ws) => {
          ws.send(`conn ${n}`);
          if (n++ === 0) {
            if (code === 1005) ws.close();
            else ws.close(code, `reason ${code}`);
          }
        });
        const c = new WebSocketClient(server.url, {
          heartbeat: false,
          reconnect: { minTimeout: 10, maxTimeout: 20 },
        });
        onCleanup(() => c.terminate());
        c.on("error", () => {});
        const closed = nextEvent(c, "close");
        await c.connect();
        const it = c[Symbol.asyncIterator]();
        expect(await it.next()).toEqual({ done: false, value: "conn 0" });
        const info = await within(closed, 2000, "the close event");
        expect(info).toMatchObject({ code, reason: code === 1005 ? "" : `reason ${code}`, wasClean: true });
        if (retried.has(code)) {
          expect(await within(it.next(), 2000, "the next connection's message")).toEqual({
            done: false,
            value: "conn 1",
          });
        } else if (normal.has(code)) {
          expect(await within(it.next(), 2000, "the end")).toEqual({ done: true, value: undefined });
          expect(server.requests).toHaveLength(1);
        } else {
          const err = await within(
            it.next().catch((e: unknown) => e),
            2000,
            "the error",
          );
          expect(err).toBeInstanceOf(ConnectionClosedError);
          expect(err).toMatchObject({ closeCode: code, reason: `reason ${code}` });
          expect(server.requests).toHaveLength(1);
        }
      },
    );
  });
});
