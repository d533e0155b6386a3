/**
 * Issue 3 item 5 (heartbeat), against real servers: a healthy connection is never killed because the
 * client itself paused reading for backpressure; server pings are answered; the heartbeat's own pings
 * measure `client.latency`; a peer that keeps sending data but never answers pings is alive.
 */
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_HEARTBEAT, HeartbeatTimeoutError, WebSocketClient } from "../src/index.js";
import {
  client,
  nextEvent,
  rawServer,
  recordEvents,
  take,
  useCleanups,
  within,
  wsServer,
} from "./helpers/harness.js";
import { onUpgradeRequest, serverFrame, sleep, switchingProtocols, waitFor } from "./helpers/servers.js";

useCleanups();

const HEARTBEAT = { interval: 50, timeout: 100 };

describe("the heartbeat and backpressure", () => {
  it("a consumer that stalls for many timeouts while the socket is paused: no timeout, no reconnect, all in order", async () => {
    const server = await wsServer({ echo: false });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const count = 320; // 20 MiB: far more than the socket buffers hold, so the server must wait
    server.wss.on("connection", (ws) => {
      for (let i = 0; i < count; i++) {
        chunk.writeUInt32BE(i, 0);
        ws.send(Buffer.from(chunk));
      }
    });
    const c = client(server.url, { heartbeat: HEARTBEAT, highWaterMark: 128 * 1024 });
    const events = recordEvents(c);
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 1)).toHaveLength(1);
    // Stall for 8 heartbeat timeouts. The client has stopped reading: its pings' pongs, if any, sit
    // behind megabytes of unread data, so only the pause of the heartbeat keeps the connection alive.
    await sleep(8 * HEARTBEAT.timeout);
    // The pause is real: most of the 20 MiB still waits on the server side.
    expect(server.clients[0]?.bufferedAmount).toBeGreaterThan(4 * 2 ** 20);
    const rest = await within(take(it, count - 1), 10_000, "the rest of the flood");
    expect(rest.map((m) => Buffer.from(m as Uint8Array).readUInt32BE(0))).toEqual(
      Array.from({ length: count - 1 }, (_, i) => i + 1),
    );
    // After resuming, the heartbeat still runs and the connection is healthy: a ping round trip works.
    await sleep(2 * HEARTBEAT.interval);
    expect(await within(c.ping(), 2000, "a ping after the flood")).toBeGreaterThanOrEqual(0);
    expect(events).toEqual(["connect", "open"]);
    expect(server.requests).toHaveLength(1);
  }, 20_000);

  it("a steadily slow consumer (pause/resume cycles) keeps a healthy connection", async () => {
    const server = await wsServer({ echo: false });
    const count = 120;
    server.wss.on("connection", (ws) => {
      for (let i = 0; i < count; i++) {
        const b = Buffer.alloc(32 * 1024, 1);
        b.writeUInt32BE(i, 0);
        ws.send(b);
      }
    });
    const c = client(server.url, { heartbeat: { interval: 20, timeout: 40 }, highWaterMark: 64 * 1024 });
    const events = recordEvents(c);
    await c.connect();
    const got: number[] = [];
    for await (const m of c) {
      got.push(Buffer.from(m as Uint8Array).readUInt32BE(0));
      await sleep(5); // 600 ms in all: 15 timeouts
      if (got.length === count) break;
    }
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(events).toEqual(["connect", "open"]);
  }, 20_000);
});

describe("heartbeat behaviour on a real connection", () => {
  it("answers the server's pings with pongs carrying the same payload, and emits 'ping'", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url);
    const pinged = nextEvent(c, "ping");
    await c.connect();
    const ws = server.clients[0];
    const pong = new Promise<string>((resolve) => ws?.once("pong", (d) => resolve(d.toString())));
    ws?.ping("are you there");
    expect(await within(pong, 2000, "the pong")).toBe("are you there");
    expect(Buffer.from(await pinged).toString()).toBe("are you there");
  });

  it("sends heartbeat pings every interval and records latency without any ping() call", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url, { heartbeat: { interval: 30, timeout: 1000 } });
    await c.connect();
    let pings = 0;
    server.clients[0]?.on("ping", () => pings++);
    expect(c.latency).toBeUndefined();
    await waitFor(() => pings >= 3, 2000, "three heartbeat pings");
    expect(c.latency).toBeGreaterThanOrEqual(0);
    expect(c.latency).toBeLessThan(1000);
  });

  it("client.latency keeps the last round trip after the client is closed", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    const rtt = await c.ping();
    await c.close();
    expect(c.latency).toBe(rtt);
  });

  it("a peer that streams data but never answers pings is not declared dead", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed) clearInterval(timer);
          else socket.write(serverFrame(1, `tick ${i++}`));
        }, 10);
        socket.on("close", () => clearInterval(timer));
      }),
    );
    const c = client(server.url, { heartbeat: { interval: 20, timeout: 40 } });
    const events = recordEvents(c);
    await c.connect();
    const got = await within(take(c[Symbol.asyncIterator](), 30), 3000, "30 ticks"); // ~300 ms: 7 timeouts
    expect(got[29]).toBe("tick 29");
    expect(events).toEqual(["connect", "open"]);
  });

  it("a silent peer is declared dead: HeartbeatTimeoutError, close 1011 sent, then a reconnect", async () => {
    const received: Buffer[] = [];
    const server = await rawServer((socket, index) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        if (index === 0) socket.on("data", (d: Buffer) => received.push(d));
      }),
    );
    const c = client(server.url, { heartbeat: { interval: 20, timeout: 40 }, closeTimeout: 50 });
    const error = nextEvent(c, "error");
    const closed = nextEvent(c, "close");
    const reopened = new Promise<void>((resolve) => {
      let opens = 0;
      c.on("open", () => {
        if (++opens === 2) resolve();
      });
    });
    await c.connect();
    expect(await within(error, 2000, "the heartbeat error")).toBeInstanceOf(HeartbeatTimeoutError);
    const info = await within(closed, 2000, "the close event");
    expect(info.sent?.code).toBe(1011);
    expect(info.wasClean).toBe(false);
    await within(reopened, 2000, "the reconnect");
    // The first connection saw a ping (opcode 0x9), then a close frame (0x8) carrying 1011.
    const bytes = Buffer.concat(received);
    const opcodes: number[] = [];
    let closeCode: number | undefined;
    for (let off = 0; off + 6 <= bytes.length; ) {
      const op = (bytes[off] ?? 0) & 0x0f;
      const len = (bytes[off + 1] ?? 0) & 0x7f;
      opcodes.push(op);
      if (op === 0x8) {
        const mask = bytes.subarray(off + 2, off + 6);
        closeCode =
          (((bytes[off + 6] ?? 0) ^ (mask[0] ?? 0)) << 8) | ((bytes[off + 7] ?? 0) ^ (mask[1] ?? 0));
      }
      off += 6 + len;
    }
    expect(opcodes[0]).toBe(0x9);
    expect(opcodes).toContain(0x8);
    expect(closeCode).toBe(1011);
  });
});

describe("the heartbeat is on by default", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Lets real I/O run while setTimeout is faked. */
  async function until(cond: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 2000 && !cond(); i++) await new Promise<void>((r) => setImmediate(r));
    if (!cond()) throw new Error(`never happened: ${what}`);
  }

  it(`pings after ${DEFAULT_HEARTBEAT.interval} ms and declares a silent peer dead ${DEFAULT_HEARTBEAT.timeout} ms later`, async () => {
    const frames: number[] = [];
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        socket.on("data", (d: Buffer) => frames.push((d[0] ?? 0) & 0x0f));
      }),
    );
    // Only the timers are faked (the client's clock calls the global setTimeout): no 40 s wait.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const c = new WebSocketClient(server.url, { reconnect: false }); // heartbeat: the default
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    await c.connect();
    vi.advanceTimersByTime(DEFAULT_HEARTBEAT.interval - 1);
    await new Promise<void>((r) => setImmediate(r));
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(1);
    await until(() => frames.includes(0x9), "the default heartbeat ping");
    vi.advanceTimersByTime(DEFAULT_HEARTBEAT.timeout);
    await until(() => errors.length > 0, "the heartbeat timeout");
    expect(errors[0]).toBeInstanceOf(HeartbeatTimeoutError);
    c.terminate();
  });
});
