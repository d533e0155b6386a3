/**
 * Issue 3 items 3 (receiving) and 4 (sending), the parts the other tests leave out: `bufferedAmount`
 * in bytes (queued and in the socket), `maxQueuedBytes` at its edge and by default, a fresh mask key
 * per frame, send() rejecting when the connection dies, invalid UTF-8 failing with 1007, the
 * iterator ending when the user closes, and the delivery rule with both a listener and a loop.
 */
import { Buffer } from "node:buffer";
import type net from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionClosedError, DEFAULT_MAX_QUEUED_BYTES, SendQueueFullError } from "../src/index.js";
import { client, rawServer, take, useCleanups, within, wsServer } from "./helpers/harness.js";
import { onUpgradeRequest, serverFrame, sleep, switchingProtocols, waitFor } from "./helpers/servers.js";

useCleanups();

/** Parses masked client frames (7-bit and 16-bit lengths) out of `bytes`. */
function clientFrames(bytes: Buffer): { opcode: number; mask: Buffer; payload: Buffer }[] {
  const out: { opcode: number; mask: Buffer; payload: Buffer }[] = [];
  let off = 0;
  while (off + 2 <= bytes.length) {
    let len = (bytes[off + 1] ?? 0) & 0x7f;
    let head = 2;
    if (len === 126) {
      len = bytes.readUInt16BE(off + 2);
      head = 4;
    }
    if (off + head + 4 + len > bytes.length) break;
    const mask = bytes.subarray(off + head, off + head + 4);
    const payload = Buffer.from(bytes.subarray(off + head + 4, off + head + 4 + len)).map(
      (b, i) => b ^ (mask[i % 4] ?? 0),
    );
    out.push({ opcode: (bytes[off] ?? 0) & 0x0f, mask: Buffer.from(mask), payload: Buffer.from(payload) });
    off += head + 4 + len;
  }
  return out;
}

/** A server that accepts the upgrade and then never reads: the client's writes pile up. */
async function stalledServer() {
  let serverSocket: net.Socket | undefined;
  const server = await rawServer((socket) =>
    onUpgradeRequest(socket, (key) => {
      serverSocket = socket;
      socket.write(switchingProtocols(key));
      socket.pause();
    }),
  );
  return { server, serverSocket: () => serverSocket };
}

describe("bufferedAmount", () => {
  it("counts queued sends in bytes (UTF-8 for text) and drops to 0 once they are flushed", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url);
    const sends = [c.send("é€"), c.send(new Uint8Array(10)), c.send(new ArrayBuffer(3))];
    expect(c.bufferedAmount).toBe(2 + 3 + 10 + 3);
    await c.connect();
    await Promise.all(sends);
    await waitFor(() => c.bufferedAmount === 0, 1000, "bufferedAmount 0");
  });

  it("counts bytes the socket has not handed to the OS while the server does not read", async () => {
    const { server, serverSocket } = await stalledServer();
    const c = client(server.url);
    await c.connect();
    const sent = c.send(new Uint8Array(16 * 2 ** 20));
    let settled = false;
    void sent.then(() => {
      settled = true;
    });
    await waitFor(() => c.bufferedAmount > 0, 1000, "bytes in the socket buffer");
    expect(c.bufferedAmount).toBeLessThanOrEqual(16 * 2 ** 20 + 14);
    expect(settled).toBe(false); // not handed to the OS yet
    serverSocket()?.resume();
    await within(sent, 5000, "the send once the server reads");
    await waitFor(() => c.bufferedAmount === 0, 2000, "bufferedAmount 0");
  });
});

describe("maxQueuedBytes", () => {
  it("a send that exactly fills the queue fits; one more byte rejects; the queue goes out in order", async () => {
    const server = await wsServer({ echo: false });
    const received: string[] = [];
    server.wss.on("connection", (ws) => ws.on("message", (d) => received.push(d.toString())));
    const c = client(server.url, { maxQueuedBytes: 8 });
    const a = c.send("abcd");
    const b = c.send("é€"); // 5 bytes would not fit...
    const bErr = await b.catch((e: unknown) => e);
    expect(bErr).toBeInstanceOf(SendQueueFullError);
    const d = c.send("efgh"); // ...but 4 more bytes fill it exactly
    expect(c.bufferedAmount).toBe(8);
    await expect(c.send("x")).rejects.toBeInstanceOf(SendQueueFullError);
    await c.connect();
    await Promise.all([a, d]);
    await waitFor(() => received.length === 2, 1000, "two messages");
    expect(received).toEqual(["abcd", "efgh"]);
  });

  it(`defaults to ${DEFAULT_MAX_QUEUED_BYTES} bytes (4 MiB)`, async () => {
    const c = client("ws://127.0.0.1:9/");
    expect(DEFAULT_MAX_QUEUED_BYTES).toBe(4 * 2 ** 20);
    const fits = c.send(new Uint8Array(DEFAULT_MAX_QUEUED_BYTES));
    await expect(c.send(new Uint8Array(1))).rejects.toBeInstanceOf(SendQueueFullError);
    c.terminate();
    await expect(fits).rejects.toThrow();
  });
});

describe("sending on an open connection", () => {
  it("masks every frame with a fresh random key", async () => {
    const chunks: Buffer[] = [];
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        socket.on("data", (d: Buffer) => chunks.push(d));
      }),
    );
    const c = client(server.url);
    await c.connect();
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => c.send(`m${i}`)));
    await waitFor(() => clientFrames(Buffer.concat(chunks)).length === n, 2000, `${n} frames`);
    const frames = clientFrames(Buffer.concat(chunks));
    expect(frames.map((f) => f.payload.toString())).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    // 200 keys out of 2^32: a repeat means keys are reused (a 1-in-200,000 chance otherwise).
    expect(new Set(frames.map((f) => f.mask.toString("hex"))).size).toBe(n);
  });

  it("send() rejects with ConnectionClosedError when the connection dies before the frame leaves", async () => {
    const { server, serverSocket } = await stalledServer();
    const c = client(server.url, { reconnect: false });
    c.on("error", () => {});
    await c.connect();
    const big = c.send(new Uint8Array(32 * 2 ** 20));
    await waitFor(() => c.bufferedAmount > 0, 1000, "buffered bytes");
    serverSocket()?.destroy();
    const err = await within(
      big.catch((e: unknown) => e),
      2000,
      "the rejection",
    );
    expect(err).toBeInstanceOf(ConnectionClosedError);
  });

  it("a send nobody awaits that fails is not an unhandled rejection, written or queued", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { server, serverSocket } = await stalledServer();
      const c = client(server.url, { reconnect: false });
      c.on("error", () => {});
      const queued = c.send("queued before the handshake"); // waits in the send queue
      await c.connect();
      await queued;
      void c.send(new Uint8Array(32 * 2 ** 20)); // stuck in the socket: the server does not read
      await waitFor(() => c.bufferedAmount > 0, 1000, "buffered bytes");
      serverSocket()?.destroy();
      await within(new Promise<void>((resolve) => c.once("close", () => resolve())), 2000, "the close event");
      const never = client("ws://127.0.0.1:9/", { reconnect: false });
      never.on("error", () => {});
      void never.send("queued, then rejected when the client closes");
      await never.close();
      await sleep(20); // unhandled rejections are reported after the microtask queue drains
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("send() throws a TypeError for data it cannot send", () => {
    const c = client("ws://127.0.0.1:9/");
    expect(() => c.send(42 as never)).toThrow(TypeError);
    expect(() => c.send({} as never)).toThrow(TypeError);
  });
});

describe("receiving", () => {
  it("invalid UTF-8 in a text message fails the connection with 1007", async () => {
    const chunks: Buffer[] = [];
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        // After the open: frames in the 101's own read would fail connect() itself.
        setTimeout(
          () =>
            socket.write(
              Buffer.concat([serverFrame(1, "valid"), serverFrame(1, Buffer.from([0x61, 0xff, 0x62]))]),
            ),
          20,
        );
        socket.on("data", (d: Buffer) => {
          chunks.push(d);
          socket.end();
        });
      }),
    );
    const c = client(server.url, { closeTimeout: 100 });
    c.on("error", () => {});
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    expect(await it.next()).toEqual({ done: false, value: "valid" });
    const err = await within(
      it.next().catch((e: unknown) => e),
      2000,
      "the error",
    );
    expect(err).toMatchObject({ closeCode: 1007 });
    const close = clientFrames(Buffer.concat(chunks)).find((f) => f.opcode === 0x8);
    expect(close?.payload.readUInt16BE(0)).toBe(1007);
  });

  it("a pending for-await ends when the user closes, after the messages already queued", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => {
      ws.send("a");
      ws.send("b");
    });
    const c = client(server.url);
    await c.connect();
    await sleep(30); // "a" and "b" wait in the queue
    const got: unknown[] = [];
    const loop = (async () => {
      for await (const m of c) {
        got.push(m);
        if (got.length === 2) void c.close();
      }
    })();
    await within(loop, 2000, "the loop to end after close()");
    expect(got).toEqual(["a", "b"]);
  });

  it("with a 'message' listener AND an active loop, both see every message once, in order", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url);
    const heard: unknown[] = [];
    c.on("message", (m) => heard.push(m));
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    const first = it.next(); // the loop is active from here
    server.clients[0]?.send("x");
    server.clients[0]?.send("y");
    expect(await first).toEqual({ done: false, value: "x" });
    expect(await take(it, 1)).toEqual(["y"]);
    expect(heard).toEqual(["x", "y"]);
  });

  it("after a loop returns, messages a listener takes are not queued: the next loop starts at the next message", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url, { highWaterMark: 1024 });
    let heard = 0;
    c.on("message", () => heard++);
    await c.connect();
    const first = c[Symbol.asyncIterator]();
    const pending = first.next();
    server.clients[0]?.send("first");
    expect(await pending).toEqual({ done: false, value: "first" });
    await first.return?.();
    // No loop is active: 50 KiB go to the listener only (queued, they would pass highWaterMark).
    for (let i = 0; i < 50; i++) server.clients[0]?.send(Buffer.alloc(1024));
    await waitFor(() => heard === 51, 2000, "50 messages to the listener");
    const second = c[Symbol.asyncIterator]();
    const next = second.next();
    server.clients[0]?.send("after");
    expect(await within(next, 2000, "the next loop's message")).toEqual({ done: false, value: "after" });
  });
});
