/**
 * The lifecycle (lifecycle.ts) against real and hostile local servers: a connection that fails in its
 * first frames never half-opens, every wait is jittered and goes through the clock, onOpen's sends come
 * first, the backoff composes across failed attempts and short-lived connections, a first connect()
 * never hangs silently, misspelt options are refused, and per-attempt URL / headers / protocols.
 */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { WebSocketClient } from "../src/index.js";
import {
  client,
  deadUrl,
  nextEvent,
  onCleanup,
  rawServer,
  runChild,
  take,
  useCleanups,
  within,
  wsServer,
} from "./helpers/harness.js";
import {
  makeCert,
  onUpgradeRequest,
  serverFrame,
  sleep,
  startWssServer,
  switchingProtocols,
  waitFor,
} from "./helpers/servers.js";

useCleanups();

/** The close code in the first client frame of `bytes` (a masked close frame). */
function closeCodeSent(bytes: Buffer): number | undefined {
  if (bytes.length < 8 || bytes[0] !== 0x88) return undefined;
  const mask = bytes.subarray(2, 6);
  return (((bytes[6] as number) ^ (mask[0] as number)) << 8) | ((bytes[7] as number) ^ (mask[1] as number));
}

describe("frames that fail the protocol in the 101's own read", () => {
  const cases: [string, Buffer, number, string][] = [
    ["a masked frame", Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]), 1002, "WS_ERR_MASKED_FRAME"],
    [
      "a 64-bit length with the top bit set",
      Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]),
      1002,
      "WS_ERR_INVALID_PAYLOAD_LENGTH",
    ],
    ["a message over maxPayload", serverFrame(2, Buffer.alloc(2000)), 1009, "WS_ERR_PAYLOAD_TOO_BIG"],
  ];

  it.each(cases)(
    "%s: connect() rejects at once, open never fires, the close code goes out, the client ends closed",
    async (_label, frame, code, errorCode) => {
      let got = Buffer.alloc(0);
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "hi"), frame]));
          socket.on("data", (d: Buffer) => {
            got = Buffer.concat([got, d]);
          });
          // Hostile: it never closes TCP, so nothing may wait for it to.
        }),
      );
      const c = client(server.url, { maxPayload: 1000, closeTimeout: 60_000 });
      const events: string[] = [];
      c.on("open", () => events.push("open"));
      c.on("message", () => events.push("message"));
      c.on("error", () => {});
      const started = Date.now();
      const err = await within(
        c.connect().catch((e: unknown) => e),
        2000,
        "connect() to settle",
      );
      expect(Date.now() - started).toBeLessThan(1500);
      expect(err).toMatchObject({ code: errorCode, closeCode: code });
      expect(events).toEqual([]);
      expect(c.readyState).toBe(3);
      await waitFor(() => closeCodeSent(got) !== undefined, 2000, "the close frame");
      expect(closeCodeSent(got)).toBe(code);
      await expect(c[Symbol.asyncIterator]().next()).rejects.toBe(err);
    },
  );

  it("a retryable failure in those frames goes through the reconnect path like any failed attempt", async () => {
    const server = await rawServer((socket, index) =>
      onUpgradeRequest(socket, (key) => {
        // First connection: the server reports an internal error in a frame it sends masked (1002,
        // not retried); second: a clean connection. With a retrying verdict the client goes on.
        if (index === 0) {
          socket.write(
            Buffer.concat([
              Buffer.from(switchingProtocols(key)),
              Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x60]),
            ]),
          );
        } else socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "second")]));
      }),
    );
    const c = client(server.url, { shouldReconnect: () => true });
    c.on("error", () => {});
    const reconnecting = nextEvent(c, "reconnecting");
    await within(c.connect(), 3000, "the second connection");
    expect((await reconnecting).error).toMatchObject({ code: "WS_ERR_MASKED_FRAME" });
    expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["second"]);
  });
});

describe("jitter and the clock", () => {
  it("the first reconnect after a stable connection is jittered, not immediate", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => setTimeout(() => ws.terminate(), 60));
    const c = client(server.url, { reconnect: { minTimeout: 200, maxTimeout: 400, stableAfter: 30 } });
    c.on("error", () => {});
    const delays: number[] = [];
    c.on("reconnecting", (r) => delays.push(r.delay));
    await c.connect();
    await waitFor(() => delays.length >= 4, 5000, "four reconnects");
    c.terminate();
    // Every one of them followed a stable connection: each is a fresh draw in [0, minTimeout].
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(200);
    }
    expect(delays.some((d) => d > 0)).toBe(true);
  });

  it("a backoff beyond what a timer can hold (maxTimeout: Infinity) waits, instead of firing after 1 ms", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => ws.terminate());
    const c = client(server.url, { reconnect: { minTimeout: 3e9, maxTimeout: Infinity, jitter: "none" } });
    c.on("error", () => {});
    const retry = nextEvent(c, "reconnecting");
    await c.connect();
    expect((await retry).delay).toBe(3e9);
    await sleep(300);
    expect(server.requests).toHaveLength(1);
    expect(c.readyState).toBe(0);
  });
});

describe("onOpen comes first", () => {
  it("orders onOpen's sends, then the queue in FIFO order, then sends made during and after onOpen", async () => {
    const server = await wsServer({ echo: false });
    const received: string[] = [];
    server.wss.on("connection", (ws) => ws.on("message", (d) => received.push(d.toString())));
    let c!: WebSocketClient;
    c = client(server.url, {
      onOpen: async (session) => {
        await session.send("auth");
        void c.send("during onOpen"); // an application send while onOpen runs: queued
        expect(c.readyState).toBe(0);
        await sleep(30);
        await session.send("subscribe");
      },
    });
    void c.send("queued 1");
    void c.send("queued 2");
    c.once("open", () => void c.send("on open event"));
    await c.connect();
    expect(c.readyState).toBe(1);
    await c.send("after");
    await waitFor(() => received.length === 7, 2000, "seven messages");
    // The "open" listener runs before onOpen: its send is queued first of the two made meanwhile.
    expect(received).toEqual([
      "auth",
      "subscribe",
      "queued 1",
      "queued 2",
      "on open event",
      "during onOpen",
      "after",
    ]);
  });
});

describe("one reconnect path", () => {
  it("the backoff composes across short-lived connections and failed attempts", async () => {
    const server = await rawServer((socket, index) =>
      onUpgradeRequest(socket, (key) => {
        if (index < 2) {
          socket.write(switchingProtocols(key));
          setTimeout(() => socket.destroy(), 5); // short-lived
        } else if (index === 2) socket.end("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
        else socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "up")]));
      }),
    );
    const c = client(server.url, { reconnect: { minTimeout: 20, maxTimeout: 10_000, jitter: "none" } });
    c.on("error", () => {});
    const retries: { attempt: number; delay: number }[] = [];
    c.on("reconnecting", (r) => retries.push({ attempt: r.attempt, delay: r.delay }));
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    expect(await within(take(it, 1), 3000, "the fourth connection")).toEqual(["up"]);
    // drop, drop, 503: one chain of failures, numbered and growing the same way.
    expect(retries).toEqual([
      { attempt: 1, delay: 20 },
      { attempt: 2, delay: 40 },
      { attempt: 3, delay: 80 },
    ]);
  });

  it("a heartbeat timeout: close not initiated by the user, reconnecting from attempt 1, a rounded message", async () => {
    const server = await rawServer((socket, index) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key)); // never answers a ping
        if (index > 0) socket.write(serverFrame(1, "second"));
      }),
    );
    const c = client(server.url, { heartbeat: { interval: 20, timeout: 30 }, closeTimeout: 50 });
    const closed = nextEvent(c, "close");
    const error = nextEvent(c, "error");
    const retry = nextEvent(c, "reconnecting");
    await c.connect();
    const info = await within(closed, 3000, "the close");
    expect(info.initiatedByUser).toBe(false);
    expect(info.sent?.code).toBe(1011);
    const err = (await error) as Error;
    expect(err).toMatchObject({ code: "WS_ERR_HEARTBEAT_TIMEOUT" });
    expect(err.message).toMatch(/^No pong for \d+ ms$/);
    expect((await retry).attempt).toBe(1);
  });

  it("a shouldReconnect that throws ends the run with what it threw, after a failed attempt or a drop", async () => {
    const bug = new Error("verdict bug");
    const shouldReconnect = () => {
      throw bug;
    };
    const refused = client(await deadUrl(), { shouldReconnect });
    refused.on("error", () => {});
    await expect(within(refused.connect(), 3000, "connect() to settle")).rejects.toBe(bug);
    expect(refused.readyState).toBe(3);

    const server = await wsServer();
    server.wss.on("connection", (ws) => setTimeout(() => ws.terminate(), 20));
    const dropped = client(server.url, { shouldReconnect });
    dropped.on("error", () => {});
    await dropped.connect();
    await expect(within(dropped[Symbol.asyncIterator]().next(), 3000, "the drop")).rejects.toBe(bug);
    expect(dropped.readyState).toBe(3);
  });
});

describe("a first connect() never hangs silently with the defaults", () => {
  it("a refused port: a few jittered retries, each reported, then connect() rejects", async () => {
    const url = await deadUrl();
    const c = new WebSocketClient(url);
    onCleanup(() => c.terminate());
    const retries: number[] = [];
    c.on("reconnecting", (r) => retries.push(r.attempt));
    const err = await within(
      c.connect().catch((e: unknown) => e),
      6000,
      "connect() to reject",
    );
    expect(err).toMatchObject({ code: "WS_ERR_CONNECT" });
    expect(retries).toEqual([1, 2]);
    expect(c.readyState).toBe(3);
  });

  it("a name that does not resolve: connect() rejects at once, without retrying", async () => {
    const c = new WebSocketClient("ws://tideway-test.invalid/");
    onCleanup(() => c.terminate());
    const retries: unknown[] = [];
    c.on("reconnecting", (r) => retries.push(r));
    const err = await within(
      c.connect().catch((e: unknown) => e),
      5000,
      "connect() to reject",
    );
    expect(err).toMatchObject({ code: "WS_ERR_CONNECT" });
    expect((err as Error & { cause?: { code?: string } }).cause?.code).toMatch(/ENOTFOUND|EAI_AGAIN/);
    if ((err as { cause: { code: string } }).cause.code === "ENOTFOUND") expect(retries).toEqual([]);
  });

  it("a TLS port reached with ws://: connect() rejects at once, without retrying", async () => {
    const server = await startWssServer(makeCert());
    onCleanup(() => server.close());
    const c = new WebSocketClient(server.url.replace("wss:", "ws:"));
    onCleanup(() => c.terminate());
    const retries: unknown[] = [];
    c.on("reconnecting", (r) => retries.push(r));
    const err = await within(
      c.connect().catch((e: unknown) => e),
      5000,
      "connect() to reject",
    );
    expect(err).toMatchObject({ code: "WS_ERR_UNEXPECTED_EOF" });
    expect(retries).toEqual([]);
  });
});

describe("options", () => {
  it("refuses misspelt option names, naming them", () => {
    expect(() => new WebSocketClient("ws://localhost/", { reconect: false } as never)).toThrow(
      new TypeError("Unknown option: reconect"),
    );
    expect(() => new WebSocketClient("ws://localhost/", { reconnect: { retires: 1 } } as never)).toThrow(
      /Unknown option: reconnect\.retires/,
    );
    expect(() => new WebSocketClient("ws://localhost/", { heartbeat: { intervall: 1 } } as never)).toThrow(
      /heartbeat\.intervall/,
    );
    expect(() => new WebSocketClient("ws://localhost/", { reconnect: { jitter: "some" } } as never)).toThrow(
      /reconnect\.jitter/,
    );
  });
});

describe("sends after close()", () => {
  it("an unawaited send after close() never crashes the process", async () => {
    const server = await wsServer();
    const r = await runChild(
      `
const c = new CLIENT.WebSocketClient(ARGS[0]);
await c.connect();
void c.close();
c.send("late");
await new Promise((resolve) => setTimeout(resolve, 100));
console.log("alive", c.readyState);
`,
      [server.url],
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("alive 3");
  });
});

describe("per-attempt URL, headers and protocols", () => {
  it("calls the functions before every attempt: a fresh token, another endpoint, other protocols", async () => {
    const first = await wsServer({ echo: false, handleProtocols: (p) => [...p][0] ?? false });
    const second = await wsServer({ echo: false, handleProtocols: (p) => [...p][0] ?? false });
    first.wss.on("connection", (ws) => setTimeout(() => ws.terminate(), 20));
    const urls = [first.url, second.url];
    let n = 0;
    const c = new WebSocketClient(async () => urls[Math.min(n, 1)] as string, {
      heartbeat: false,
      reconnect: { minTimeout: 10, maxTimeout: 20 },
      headers: () => ({ Authorization: `Bearer token-${++n}` }),
      protocols: async () => [`v${n}`],
    });
    onCleanup(() => c.terminate());
    c.on("error", () => {});
    await c.connect();
    await waitFor(() => second.requests.length === 1, 3000, "the second endpoint");
    expect(first.requests[0]?.headers.authorization).toBe("Bearer token-1");
    expect(first.requests[0]?.headers["sec-websocket-protocol"]).toBe("v1");
    expect(second.requests[0]?.headers.authorization).toBe("Bearer token-2");
    expect(second.requests[0]?.headers["sec-websocket-protocol"]).toBe("v2");
    await waitFor(() => c.readyState === 1, 2000, "open again");
    expect(c.url).toBe(`${second.url}/`);
    expect(c.protocol).toBe("v2");
  });

  it("what a function throws fails the attempt with a ProviderError, not retried unless its cause is", async () => {
    const server = await wsServer();
    const c = client(server.url, {
      headers: () => {
        throw new TypeError("no token");
      },
    });
    const retries: unknown[] = [];
    c.on("reconnecting", (r) => retries.push(r));
    c.on("error", () => {});
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "WS_ERR_PROVIDER", option: "headers" });
    expect((err as Error).cause).toBeInstanceOf(TypeError);
    expect(retries).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it("a provided header the handshake owns is the provider's failure", async () => {
    const server = await wsServer();
    const c = client(server.url, { headers: async () => ({ "Sec-WebSocket-Key": "x" }) });
    c.on("error", () => {});
    await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_PROVIDER" });
  });

  it("refuses a URL function's invalid URL with a ProviderError", async () => {
    const c = new WebSocketClient(() => "ftp://x/", { reconnect: false });
    onCleanup(() => c.terminate());
    c.on("error", () => {});
    await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_PROVIDER", option: "url" });
  });
});

describe("commands while onOpen runs", () => {
  it("close() from onOpen ends the run after the closing handshake: clean close, connect() rejects", async () => {
    const server = await wsServer();
    let c!: WebSocketClient;
    c = client(server.url, {
      onOpen: async () => {
        void c.close(4000, "bye");
      },
    });
    const closed = nextEvent(c, "close");
    await expect(c.connect()).rejects.toMatchObject({ code: "WS_ERR_ABORTED" });
    expect(await closed).toMatchObject({ code: 4000, wasClean: true, initiatedByUser: true });
    expect(c.readyState).toBe(3);
  });

  it("reconnect() from onOpen closes that connection and opens the next one", async () => {
    const server = await wsServer();
    let opens = 0;
    let c!: WebSocketClient;
    c = client(server.url, {
      onOpen: () => {
        if (++opens === 1) c.reconnect(0);
      },
    });
    const response = await within(c.connect(), 3000, "connect() to resolve on the second connection");
    expect(response.status).toBe(101);
    expect(opens).toBe(2);
    expect(c.readyState).toBe(1);
    expect(server.requests).toHaveLength(2);
  });
});
