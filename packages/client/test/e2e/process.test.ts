/**
 * What only another process can observe:
 * - a closed or terminated client leaves nothing that keeps the process alive (no timer, no socket):
 *   a child process connects to a server that lives in THIS process, closes or terminates its
 *   client, and must exit by itself. Each scenario leaves something long-lived behind if the client
 *   forgets it (a 30 s backoff timer, a socket still connecting, a socket the server never closes),
 *   so a leak shows as a child killed at the bound.
 * - an error never crashes the process when nobody listens (it still rejects the pending promises):
 *   a child with no "error" listener meets a failing connection; it must see the rejection and exit
 *   0 with nothing on stderr.
 */
import { describe, expect, it } from "vitest";
import { type ChildResult, deadUrl, runChild } from "../helpers/harness.js";
import type { RawServer, WsTestServer } from "../helpers/servers.js";
import {
  onUpgradeRequest,
  serverFrame,
  startRawServer,
  startWsServer,
  switchingProtocols,
} from "../helpers/servers.js";

/** Longer than any bound below: a timer of this length left behind keeps the child alive until killed. */
const LONG = 30_000;
/** The child must exit by itself within this (tsx start-up included, on a loaded 2-core machine). */
const BOUND = 15_000;

async function withServer<S extends RawServer | WsTestServer, T>(
  server: S,
  fn: (s: S) => Promise<T>,
): Promise<T> {
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

function expectCleanExit(r: ChildResult): void {
  const context = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.killed, `the child did not exit by itself within ${BOUND} ms\n${context}`).toBe(false);
  expect(r.code, context).toBe(0);
  expect(r.stderr, context).toBe("");
}

describe.concurrent("a closed or terminated client lets the process exit", () => {
  it("after close(), with heartbeat and reconnect on, pings sent and a message read", async () => {
    await withServer(await startWsServer(), async (server) => {
      const r = await runChild(
        `
const c = new CLIENT.WebSocketClient(ARGS[0], { heartbeat: { interval: 20, timeout: ${LONG} } });
await c.connect();
await c.send("hi");
for await (const m of c) { console.log("got", m); break; }
await c.ping();
await new Promise((r) => setTimeout(r, 100)); // several heartbeat pings go out
await c.close();
console.log("closed", c.readyState);
`,
        [server.url],
        BOUND,
      );
      expectCleanExit(r);
      expect(r.stdout).toContain("got hi");
      expect(r.stdout).toContain("closed 3");
    });
  });

  it("after terminate() during a 30 s reconnect backoff", async () => {
    const url = await deadUrl();
    const r = await runChild(
      `
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: { minTimeout: ${LONG}, maxTimeout: ${LONG}, jitter: "none" } });
c.on("error", () => {});
c.once("reconnecting", (info) => { console.log("reconnecting in", info.delay); c.terminate(); });
console.log("connect:", await c.connect().catch((e) => e.code));
`,
      [url],
      BOUND,
    );
    expectCleanExit(r);
    expect(r.stdout).toContain(`reconnecting in ${LONG}`);
    expect(r.stdout).toContain("connect: WS_ERR_ABORTED");
  });

  it("after close() during the backoff that follows a dropped connection", async () => {
    const server = await startWsServer({ echo: false });
    server.wss.on("connection", (ws) => setTimeout(() => ws.terminate(), 20));
    await withServer(server, async () => {
      const r = await runChild(
        `
const c = new CLIENT.WebSocketClient(ARGS[0], {
  heartbeat: { interval: 20, timeout: 1000 },
  reconnect: { minTimeout: ${LONG}, maxTimeout: ${LONG}, jitter: "none" },
});
c.on("error", () => {});
c.once("reconnecting", (info) => { console.log("reconnecting in", info.delay); void c.close(); });
await c.connect();
for await (const _ of c) {}
console.log("iterator ended", c.readyState);
`,
        [server.url],
        BOUND,
      );
      expectCleanExit(r);
      expect(r.stdout).toContain(`reconnecting in ${LONG}`);
      expect(r.stdout).toContain("iterator ended 3");
    });
  });

  it("after close() while the server has not answered the upgrade (handshakeTimeout 30 s)", async () => {
    await withServer(await startRawServer((socket) => socket.resume()), async (server) => {
      const r = await runChild(
        `
const c = new CLIENT.WebSocketClient(ARGS[0], { handshakeTimeout: ${LONG} });
c.once("connect", () => setTimeout(() => void c.close(), 50));
console.log("connect:", await c.connect().catch((e) => e.code));
`,
        [server.url],
        BOUND,
      );
      expectCleanExit(r);
      expect(r.stdout).toContain("connect: WS_ERR_ABORTED");
    });
  });

  it("after close() when the server never closes TCP (closeTimeout bounds it)", async () => {
    await withServer(
      await startRawServer((socket) =>
        onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))),
      ),
      async (server) => {
        const r = await runChild(
          `
const c = new CLIENT.WebSocketClient(ARGS[0], { closeTimeout: 200, heartbeat: { interval: 20, timeout: ${LONG} } });
await c.connect();
const start = Date.now();
await c.close();
console.log("closed after", Date.now() - start < 2000 ? "a bounded wait" : "too long");
`,
          [server.url],
          BOUND,
        );
        expectCleanExit(r);
        expect(r.stdout).toContain("closed after a bounded wait");
      },
    );
  });

  it("after terminate() of an open connection with the heartbeat running", async () => {
    await withServer(await startWsServer(), async (server) => {
      const r = await runChild(
        `
const c = new CLIENT.WebSocketClient(ARGS[0], { heartbeat: { interval: 10, timeout: ${LONG} } });
await c.connect();
await new Promise((r) => setTimeout(r, 50));
c.terminate();
console.log("terminated", c.readyState);
`,
        [server.url],
        BOUND,
      );
      expectCleanExit(r);
      expect(r.stdout).toContain("terminated 3");
    });
  });
});

describe.concurrent("an error with no 'error' listener never crashes the process", () => {
  it("connection refused: connect() rejects, the process exits 0", async () => {
    const url = await deadUrl();
    const r = await runChild(
      `
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false });
const sent = c.send("queued").catch((e) => e.code);
console.log("connect:", await c.connect().catch((e) => e.code));
console.log("send:", await sent);
`,
      [url],
      BOUND,
    );
    expectCleanExit(r);
    expect(r.stdout).toContain("connect: WS_ERR_CONNECT");
    expect(r.stdout).toContain("send: WS_ERR_CONNECT");
  });

  it("a 404 under the default policy: connect() rejects, the process exits 0", async () => {
    await withServer(
      await startRawServer((socket) =>
        onUpgradeRequest(socket, () => socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone")),
      ),
      async (server) => {
        const r = await runChild(
          `
const c = new CLIENT.WebSocketClient(ARGS[0]);
console.log("connect:", await c.connect().catch((e) => e.code + " " + e.status));
`,
          [server.url],
          BOUND,
        );
        expectCleanExit(r);
        expect(r.stdout).toContain("connect: WS_ERR_UNEXPECTED_RESPONSE 404");
      },
    );
  });

  it("the server kills an open connection: the iterator throws, the process exits 0", async () => {
    const server = await startWsServer({ echo: false });
    server.wss.on("connection", (ws) => {
      ws.send("one");
      setTimeout(() => ws.terminate(), 30);
    });
    await withServer(server, async () => {
      const r = await runChild(
        `
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false });
await c.connect();
try { for await (const m of c) console.log("got", m); } catch (e) { console.log("iterator:", e.code, e.closeCode); }
`,
        [server.url],
        BOUND,
      );
      expectCleanExit(r);
      expect(r.stdout).toContain("got one");
      expect(r.stdout).toContain("iterator: WS_ERR_CONNECTION_CLOSED 1006");
    });
  });

  it("a heartbeat timeout: the iterator throws, the process exits 0", async () => {
    await withServer(
      await startRawServer((socket) =>
        onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))),
      ),
      async (server) => {
        const r = await runChild(
          `
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: { interval: 20, timeout: 40 }, closeTimeout: 100 });
await c.connect();
try { for await (const _ of c) {} } catch (e) { console.log("iterator:", e.code); }
`,
          [server.url],
          BOUND,
        );
        expectCleanExit(r);
        expect(r.stdout).toContain("iterator: WS_ERR_HEARTBEAT_TIMEOUT");
      },
    );
  });

  it("a protocol error from the server (masked frame): the iterator throws 1002, the process exits 0", async () => {
    await withServer(
      await startRawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "ok")]));
          const masked = Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]);
          setTimeout(() => socket.write(masked), 50);
          socket.on("data", () => socket.end());
        }),
      ),
      async (server) => {
        const r = await runChild(
          `
const c = new CLIENT.WebSocketClient(ARGS[0], { closeTimeout: 100 });
await c.connect();
try { for await (const m of c) console.log("got", m); } catch (e) { console.log("iterator:", e.code, e.closeCode); }
`,
          [server.url],
          BOUND,
        );
        expectCleanExit(r);
        expect(r.stdout).toContain("got ok");
        expect(r.stdout).toContain("iterator: WS_ERR_MASKED_FRAME 1002");
      },
    );
  });

  it("a masked frame in the same read as the 101: connect() rejects at once with 1002, no open, the iterator throws", async () => {
    await withServer(
      await startRawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          const masked = Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]);
          socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "ok"), masked]));
          // A hostile server: it never closes TCP.
        }),
      ),
      async (server) => {
        const r = await runChild(
          `
const c = new CLIENT.WebSocketClient(ARGS[0], { closeTimeout: 60000 });
c.on("open", () => console.log("open fired"));
const started = Date.now();
const err = await c.connect().catch((e) => e);
console.log("connect:", err.code, err.closeCode, Date.now() - started < 2000 ? "fast" : "slow", c.readyState);
try { for await (const m of c) console.log("got", m); } catch (e) { console.log("iterator:", e.code); }
`,
          [server.url],
          BOUND,
        );
        expectCleanExit(r);
        expect(r.stdout).toContain("connect: WS_ERR_MASKED_FRAME 1002 fast 3");
        expect(r.stdout).not.toContain("open fired");
        expect(r.stdout).toContain("iterator: WS_ERR_MASKED_FRAME");
      },
    );
  });

  it("reconnecting gives up after the server went away: nothing crashes, the client ends closed", async () => {
    const server = await startWsServer({ echo: false });
    server.wss.on("connection", () => {
      // Drop the client, and refuse every later attempt.
      void server.close();
    });
    const r = await runChild(
      `
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: { retries: 2, minTimeout: 10, maxTimeout: 20 } });
let retries = 0;
c.on("reconnecting", () => retries++);
await c.connect();
const sent = new Promise((resolve) => c.once("close", () => resolve(c.send("during the outage").catch((e) => e.code))));
console.log("send:", await sent);
while (c.readyState !== 3) await new Promise((r) => setTimeout(r, 10));
console.log("gave up after", retries, "reconnecting events");
`,
      [server.url],
      BOUND,
    );
    await server.close();
    expectCleanExit(r);
    expect(r.stdout).toContain("send: WS_ERR_CONNECT");
    expect(r.stdout).toMatch(/gave up after [1-9]\d* reconnecting events/);
  });
});
