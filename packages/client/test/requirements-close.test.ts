/**
 * Issue 3 item 7 (closing), the parts the other tests leave out: every kind of invalid close code
 * and a reason over 123 BYTES (not characters) throw RangeError at once, in any state; close() on a
 * closed or never-connected client resolves at once; concurrent close() calls settle together; close()
 * and terminate() during the handshake reject connect(); `await using` on the `connect()` helper.
 */
import { describe, expect, it } from "vitest";
import { AbortedError, connect, ReadyState } from "../src/index.js";
import { client, rawServer, useCleanups, wsServer } from "./helpers/harness.js";
import { onUpgradeRequest, switchingProtocols } from "./helpers/servers.js";

useCleanups();

describe("close() arguments", () => {
  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 1000.5, Number.NaN])(
    "close(%s) throws RangeError synchronously",
    async (code) => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      expect(() => c.close(code)).toThrow(RangeError);
      expect(c.readyState).toBe(ReadyState.OPEN);
    },
  );

  it.each([1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999])("close(%i) is accepted", async (code) => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    const serverSaw = new Promise<number>((resolve) => server.clients[0]?.on("close", (c) => resolve(c)));
    await c.close(code);
    expect(await serverSaw).toBe(code);
  });

  it("measures the reason in UTF-8 bytes: 123 bytes pass, 124 throw", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    expect(() => c.close(1000, "é".repeat(62))).toThrow(RangeError); // 62 characters, 124 bytes
    const reason = `${"é".repeat(61)}a`; // 123 bytes
    const serverSaw = new Promise<string>((resolve) =>
      server.clients[0]?.on("close", (_, r) => resolve(r.toString())),
    );
    await c.close(1000, reason);
    expect(await serverSaw).toBe(reason);
  });

  it("throws RangeError on a client that never connected too", () => {
    const c = client("ws://127.0.0.1:9/");
    expect(() => c.close(1006)).toThrow(RangeError);
    expect(() => c.close(1000, "x".repeat(124))).toThrow(RangeError);
  });
});

describe("close() timing and states", () => {
  it("on a closed client resolves at once, even when the first close waited closeTimeout", async () => {
    const server = await rawServer(
      (socket) => onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))), // never closes TCP
    );
    const c = client(server.url, { closeTimeout: 300 });
    await c.connect();
    let start = Date.now();
    await c.close();
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    start = Date.now();
    await c.close();
    expect(Date.now() - start).toBeLessThan(20);
  });

  it("on a client that never connected resolves at once", async () => {
    const c = client("ws://127.0.0.1:9/");
    const start = Date.now();
    await c.close();
    expect(Date.now() - start).toBeLessThan(20);
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("concurrent close() calls settle together, and one close frame is sent", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    let closes = 0;
    c.on("close", () => closes++);
    await Promise.all([c.close(4000, "a"), c.close(4001, "b"), c.close()]);
    expect(c.readyState).toBe(ReadyState.CLOSED);
    expect(closes).toBe(1);
  });

  it("close() during the handshake rejects connect() with AbortedError", async () => {
    const server = await rawServer((socket) => socket.resume()); // never answers
    const c = client(server.url, { handshakeTimeout: 5000 });
    const connecting = c.connect().catch((e: unknown) => e);
    c.once("connect", () => void c.close());
    expect(await connecting).toBeInstanceOf(AbortedError);
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("terminate() during the handshake rejects connect() at once", async () => {
    const server = await rawServer((socket) => socket.resume());
    const c = client(server.url, { handshakeTimeout: 5000 });
    const connecting = c.connect().catch((e: unknown) => e);
    await new Promise<void>((resolve) => c.once("connect", () => resolve()));
    const start = Date.now();
    c.terminate();
    expect(await connecting).toBeInstanceOf(AbortedError);
    expect(Date.now() - start).toBeLessThan(200);
  });

  it("await using on connect() closes with 1000 at the end of the scope", async () => {
    const server = await wsServer();
    const serverSaw = new Promise<number>((resolve) =>
      server.wss.on("connection", (ws) => ws.on("close", (code) => resolve(code))),
    );
    {
      await using c = await connect(server.url, { heartbeat: false });
      await c.send("in scope");
    }
    expect(await serverSaw).toBe(1000);
  });
});
