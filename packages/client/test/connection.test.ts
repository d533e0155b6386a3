import { Buffer } from "node:buffer";
import net from "node:net";
import { constants, deflateRawSync } from "node:zlib";
import { ProtocolError } from "@tideway/core";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionHandlers } from "../src/client-connection.js";
import { Connection, nodeUtf8 } from "../src/connection.js";
import { ConnectionClosedError } from "../src/errors.js";
import type { Message } from "../src/events.js";
import { resolveOptions } from "../src/options.js";
import { collecting } from "./helpers/handlers.js";
import { ManualClock } from "./helpers/manual-clock.js";
import {
  onUpgradeRequest,
  type RawServer,
  serverFrame,
  startRawServer,
  startWsServer,
  switchingProtocols,
  type WsTestServer,
  waitFor,
} from "./helpers/servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function rawServer(fn: (socket: net.Socket) => void): Promise<RawServer> {
  const s = await startRawServer(fn);
  cleanups.push(() => s.close());
  return s;
}

function recorder() {
  const log: string[] = [];
  const handlers: ConnectionHandlers = {
    client: {},
    emit: (event: string, ..._args: unknown[]) => void log.push(event),
    deliverPart: () => {},
    onConnect: () => log.push("connect"),
    onOpen: (_conn, r) => log.push(`open ${r.status}`),
    onMessage: (m) =>
      log.push(`message ${typeof m === "string" ? m : Buffer.from(m as Uint8Array).toString()}`),
    onError: (_conn, e) => log.push(`error ${(e as { code?: string }).code}`),
    onClose: (_conn, info) => log.push(`close ${info.code} ${info.wasClean}`),
  };
  return { log, handlers };
}

function connection(url: string, handlers: ConnectionHandlers, o: Parameters<typeof resolveOptions>[1] = {}) {
  const conn = new Connection(resolveOptions(url, { heartbeat: false, closeTimeout: 200, ...o }), handlers);
  cleanups.push(() => conn.terminate());
  return conn;
}

describe("Connection", () => {
  it("reports connect, open, then the frames that came with the 101, then close", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(
          Buffer.concat([
            Buffer.from(switchingProtocols(key)),
            serverFrame(1, "a"),
            serverFrame(0x9, "p"),
            serverFrame(2, "b"),
            serverFrame(0x8, Buffer.from([0x03, 0xe8])),
          ]),
        );
        socket.once("data", () => setTimeout(() => socket.end(), 10)); // after our close echo
      }),
    );
    const { log, handlers } = recorder();
    const conn = connection(server.url, handlers);
    const response = await conn.open();
    expect(response.status).toBe(101);
    const info = await conn.closed;
    expect(log).toEqual(["connect", "open 101", "message a", "ping", "message b", "close 1000 true"]);
    expect(info).toMatchObject({ code: 1000, wasClean: true, initiatedByUser: false });
  });

  it("answers a server's ping before any handler runs, even if the handler throws", async () => {
    let got = Buffer.alloc(0);
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(0x9, "hi")]));
        socket.on("data", (d: Buffer) => {
          got = Buffer.concat([got, d]);
        });
      }),
    );
    const { handlers } = recorder();
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.on("uncaughtException", onUncaught);
    cleanups.push(() => process.off("uncaughtException", onUncaught));
    const conn = connection(server.url, {
      ...handlers,
      emit: () => {
        throw new Error("listener bug");
      },
    });
    await conn.open();
    await waitFor(() => got.length >= 8, 1000, "the pong");
    expect(got[0]).toBe(0x8a); // FIN + pong
    expect(got[1]).toBe(0x80 | 2); // masked, 2 bytes
    const mask = got.subarray(2, 6);
    expect(Buffer.from(got.subarray(6, 8).map((b, i) => b ^ (mask[i] ?? 0))).toString()).toBe("hi");
    await waitFor(() => errors.length === 1, 1000, "the listener error to surface");
    expect(conn.state).toBe(1);
  });

  it("fails the handshake with 1002 on a masked frame in the 101's read, never opening, and sends the close frame", async () => {
    let got = Buffer.alloc(0);
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        const masked = Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]);
        socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), masked]));
        socket.on("data", (d: Buffer) => {
          got = Buffer.concat([got, d]);
        });
      }),
    );
    const { log, handlers } = recorder();
    const conn = connection(server.url, handlers);
    const err = await conn.open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({ code: "WS_ERR_MASKED_FRAME", closeCode: 1002 });
    expect(conn.opened).toBe(false);
    expect(log).toEqual(["connect"]);
    const info = await conn.closed;
    expect(info.sent?.code).toBe(1002);
    // The close frame the server received carries 1002.
    await waitFor(() => got.length >= 8, 2000, "the close frame");
    const mask = got.subarray(2, 6);
    const body = Buffer.from(got.subarray(6, 8).map((b, i) => b ^ (mask[i] ?? 0)));
    expect(got[0]).toBe(0x88);
    expect(body.readUInt16BE(0)).toBe(1002);
  });

  it("fails with 1002 on a masked server frame after the open and sends the close frame", async () => {
    let got = Buffer.alloc(0);
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        const masked = Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]);
        setTimeout(() => socket.write(masked), 20);
        socket.on("data", (d: Buffer) => {
          got = Buffer.concat([got, d]);
          socket.end();
        });
      }),
    );
    const { log, handlers } = recorder();
    const conn = connection(server.url, handlers);
    await conn.open();
    const info = await conn.closed;
    expect(log).toContain("error WS_ERR_MASKED_FRAME");
    expect(conn.error).toBeInstanceOf(ProtocolError);
    expect(info.wasClean).toBe(false);
    expect(info.initiatedByUser).toBe(false);
    expect(info.sent?.code).toBe(1002);
    const mask = got.subarray(2, 6);
    const body = Buffer.from(got.subarray(6, 8).map((b, i) => b ^ (mask[i] ?? 0)));
    expect(got[0]).toBe(0x88);
    expect(body.readUInt16BE(0)).toBe(1002);
  });

  it("rejects a send still in the socket buffer when the connection dies", async () => {
    let server: net.Socket | undefined;
    const srv = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        server = socket;
        socket.write(switchingProtocols(key));
        socket.pause(); // stop reading: the client's writes pile up
      }),
    );
    const { handlers } = recorder();
    const conn = connection(srv.url, handlers);
    await conn.open();
    const big = conn.send(new Uint8Array(32 * 2 ** 20), true);
    await waitFor(() => conn.bufferedAmount > 0, 1000, "buffered bytes");
    server?.destroy();
    const err = await big.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as ConnectionClosedError).closeCode).toBe(1006);
  });

  it("plugs Node's UTF-8 into the core: lone surrogates encode as U+FFFD", () => {
    expect(Buffer.from(nodeUtf8.encode("a\uD800b")).toString("hex")).toBe("61efbfbd62");
    expect(nodeUtf8.isValid(Buffer.from([0xc3, 0xa9]))).toBe(true);
    expect(nodeUtf8.isValid(Buffer.from([0xc3]))).toBe(false);
    expect(nodeUtf8.decode(Buffer.from("é"))).toBe("é");
  });
});

// Sends of one tick coalesced into one write, messages delivered as views without copies, ping() with
// the heartbeat disabled.
describe("fast paths, against a ws server", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function server(o: { echo?: boolean } = {}): Promise<WsTestServer> {
    const s = await startWsServer(o);
    cleanups.push(() => s.close());
    return s;
  }

  /** A connection whose socket counts the writes it hands to the OS. */
  function counted(url: string, messages: Message[], o: Parameters<typeof resolveOptions>[1] = {}) {
    const writes = { count: 0 };
    const handlers = collecting(messages);
    const conn = new Connection(
      resolveOptions(url, {
        heartbeat: false,
        closeTimeout: 200,
        ...o,
        createConnection: ({ host, port }) => {
          const socket = net.connect({ host, port });
          // Counts what reaches the handle: one _write or _writev per syscall the stream makes
          // (writes issued while corked leave together in one _writev).
          const counting = socket as unknown as Record<"_write" | "_writev", (...args: unknown[]) => unknown>;
          for (const method of ["_write", "_writev"] as const) {
            const original = counting[method]!.bind(socket);
            counting[method] = (...args: unknown[]) => {
              writes.count++;
              return original(...args);
            };
          }
          return socket;
        },
      }),
      handlers,
    );
    cleanups.push(() => conn.terminate());
    return { conn, writes };
  }

  describe("send coalescing", () => {
    it("writes the sends of one tick in one write, in order, and settles all their promises", async () => {
      const s = await server();
      const messages: Message[] = [];
      const { conn, writes } = counted(s.url, messages);
      await conn.open();
      const before = writes.count;
      const sends = Array.from({ length: 200 }, (_, i) => conn.send(`m${i}`, false));
      expect(conn.bufferedAmount).toBeGreaterThan(0); // queued bytes count before the flush
      await Promise.all(sends);
      expect(writes.count - before).toBe(1);
      await waitFor(() => messages.length === 200);
      expect(messages).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    });

    it("sends strings encoded in place by the core, counting their frame's bytes as buffered", async () => {
      const s = await server();
      const messages: Message[] = [];
      const { conn } = counted(s.url, messages);
      await conn.open();
      const before = conn.bufferedAmount;
      const texts = ["", "é", "日本語 😀", "lone \uD800 surrogate", "a".repeat(42), "x".repeat(6000)];
      const sends = [conn.send(texts[1]!, false)];
      expect(conn.bufferedAmount - before).toBe(2 + 6); // UTF-8 bytes and the masked frame header
      for (const t of texts) sends.push(conn.send(t, false));
      await Promise.all(sends);
      await waitFor(() => messages.length === texts.length + 1);
      const decoded = texts.map((t) => Buffer.from(t, "utf8").toString());
      expect(messages).toEqual([decoded[1], ...decoded]);
    });

    it("does not hold a lone message for a timer: it is written before the next macrotask", async () => {
      const s = await server();
      const { conn, writes } = counted(s.url, []);
      await conn.open();
      const before = writes.count;
      void conn.send(new Uint8Array([1, 2, 3]), true);
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(writes.count - before).toBe(1);
    });

    it("writes a long burst in several writes rather than holding it all until the end of the tick", async () => {
      const s = await server({ echo: false });
      const { conn, writes } = counted(s.url, []);
      await conn.open();
      const before = writes.count;
      const payload = new Uint8Array(1024);
      const sends = Array.from({ length: 256 }, () => conn.send(payload, true)); // 256 KiB in one tick
      expect(writes.count - before).toBeGreaterThan(1);
      await Promise.all(sends);
      expect(writes.count - before).toBeLessThan(32);
    });

    it("rejects every send of a batch when the connection dies before the write", async () => {
      const s = await server({ echo: false });
      const { conn } = counted(s.url, []);
      await conn.open();
      const sends = [conn.send("a", false), conn.send("b", false)];
      conn.terminate();
      for (const send of sends)
        await expect(send).rejects.toMatchObject({ code: "WS_ERR_CONNECTION_CLOSED" });
    });
  });

  describe("received binary messages", () => {
    it.each([
      ["uint8array", (m: Message) => m.constructor === Uint8Array],
      ["buffer", (m: Message) => Buffer.isBuffer(m)],
      ["arraybuffer", (m: Message) => m instanceof ArrayBuffer],
    ] as const)("arrive as %s with the right bytes, small and large", async (binaryType, isType) => {
      const s = await server();
      const messages: Message[] = [];
      const { conn } = counted(s.url, messages, { binaryType });
      await conn.open();
      const small = Uint8Array.from({ length: 16 }, (_, i) => i);
      const large = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251); // spans many chunks
      await conn.send(small, true);
      await conn.send(large, true);
      await waitFor(() => messages.length === 2);
      for (const [m, expected] of [
        [messages[0]!, small],
        [messages[1]!, large],
      ] as const) {
        expect(isType(m)).toBe(true);
        expect(new Uint8Array(m as ArrayBuffer)).toEqual(expected);
      }
    });
  });

  describe("received text messages", () => {
    it("keep a leading U+FEFF (a BOM is part of the message) and decode multi-byte text", async () => {
      const s = await server();
      const messages: Message[] = [];
      const { conn } = counted(s.url, messages);
      await conn.open();
      const texts = ["\ufeff", "\ufeffhi", "h\u00e9llo \u{1f600}", "x".repeat(70_000)];
      for (const text of texts) await conn.send(text, false);
      await waitFor(() => messages.length === texts.length);
      expect(messages).toEqual(texts);
    });
  });

  describe("ping() with the heartbeat disabled", () => {
    it("measures a round trip, and rejects once the connection is closed", async () => {
      const s = await server();
      const { conn } = counted(s.url, []);
      await conn.open();
      expect(conn.latency).toBeUndefined();
      const rtt = await conn.ping();
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(conn.latency).toBe(rtt);
      await conn.close();
      await expect(conn.ping()).rejects.toMatchObject({ code: "WS_ERR_CONNECTION_CLOSED" });
    });

    it("rejects before the handshake", async () => {
      const s = await server();
      const { conn } = counted(s.url, []);
      await expect(conn.ping()).rejects.toThrow(/idle/);
      await conn.open();
    });
  });
});

describe("Connection: backpressure before work", () => {
  const MiB = 2 ** 20;
  /** `count` binary messages of 1 MiB filled with their index, each compressed alone (~1 KiB). */
  function inflatingFrames(count: number): Buffer {
    return Buffer.concat(
      Array.from({ length: count }, (_, i) => {
        const body = deflateRawSync(Buffer.alloc(MiB, i), { finishFlush: constants.Z_SYNC_FLUSH });
        const payload = body.subarray(0, -4);
        return Buffer.concat([Buffer.from([0xc2, 126, payload.length >> 8, payload.length & 0xff]), payload]);
      }),
    );
  }

  const transports: [string, Parameters<typeof resolveOptions>[1]][] = [
    ["reads into the connection (plain TCP)", {}],
    [
      "'data' events (a custom transport)",
      { createConnection: ({ host, port }) => net.connect({ host, port }) },
    ],
  ];

  /** A server that sends its 101 (permessage-deflate) and `frames` in one write, then ends if `end`. */
  function deflateServer(frames: Buffer, end: boolean): Promise<RawServer> {
    return rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        const head = switchingProtocols(key).replace(
          "\r\n\r\n",
          "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
        );
        const bytes = Buffer.concat([Buffer.from(head), frames]);
        if (end) socket.end(bytes);
        else socket.write(bytes);
      }),
    );
  }

  it.each(transports)(
    "a stream that ends while paused: the rest comes after resume(), then the close: %s",
    async (_name, o) => {
      const server = await deflateServer(inflatingFrames(10), true);
      const { log, handlers } = recorder();
      let conn: Connection | undefined;
      let messages = 0;
      conn = connection(server.url, { ...handlers, onMessage: () => ++messages === 3 && conn?.pause() }, o);
      await conn.open();
      await waitFor(() => messages === 3, 3000, "three messages");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect({ messages, log }).toEqual({ messages: 3, log: ["connect", "open 101"] });
      conn.resume();
      const info = await conn.closed;
      expect(messages).toBe(10);
      expect(info.code).toBe(1006);
    },
  );

  it("terminate() or close() while a paused connection's end waits: it ends at once", async () => {
    for (const end of ["terminate", "close"] as const) {
      const server = await deflateServer(inflatingFrames(10), true);
      let conn: Connection | undefined;
      let messages = 0;
      const tcp = {
        createConnection: ({ host, port }: { host: string; port: number }) => net.connect({ host, port }),
      };
      conn = connection(
        server.url,
        { ...recorder().handlers, onMessage: () => ++messages === 3 && conn?.pause() },
        tcp,
      );
      await conn.open();
      await waitFor(() => messages === 3, 3000, "three messages");
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (end === "terminate") conn.terminate();
      else void conn.close();
      const info = await conn.closed;
      expect(info.initiatedByUser).toBe(true);
      expect(messages).toBe(3);
    }
  });

  it.each(transports)(
    "pausing in a message handler stops the inflating of the read: %s",
    async (_name, o) => {
      const COUNT = 40;
      // The 101 and every message in one write: ~40 KiB, one read for the client.
      const server = await deflateServer(inflatingFrames(COUNT), false);
      const firstBytes: number[] = [];
      let conn: Connection | undefined;
      const handlers: ConnectionHandlers = {
        ...recorder().handlers,
        onMessage: (m) => {
          firstBytes.push((m as Uint8Array)[0]!);
          // A consumer past its high-water mark every 3 messages.
          if (firstBytes.length % 3 === 0) conn?.pause();
        },
      };
      conn = connection(server.url, handlers, o);
      await conn.open();
      for (let stop = 3; stop < COUNT; stop += 3) {
        await waitFor(() => firstBytes.length >= stop, 3000, `message ${stop}`);
        // Paused: the rest of the read waits, compressed; nothing more is dispatched.
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(firstBytes.length).toBe(stop);
        conn.resume();
      }
      await waitFor(() => firstBytes.length === COUNT, 3000, "every message");
      expect(firstBytes).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    },
  );
});

describe("Connection: the heartbeat, made at its first ping", () => {
  /** An open connection on a manual clock (heartbeat every 1000 ms) and the pings its server saw. */
  async function opened() {
    const s = await startWsServer();
    cleanups.push(() => s.close());
    const pings: number[] = [];
    s.wss.on("connection", (ws) => ws.on("ping", () => pings.push(clock.now())));
    const clock = new ManualClock();
    const conn = new Connection(
      // Object.assign, not a spread: the resolved options inherit their defaults.
      Object.assign(
        resolveOptions(s.url, { heartbeat: { interval: 1000, timeout: 500 }, closeTimeout: 200 }),
        {
          clock,
        },
      ),
      collecting([]),
    );
    cleanups.push(() => conn.terminate());
    await conn.open();
    return { conn, clock, pings };
  }

  /** Lets the pings written so far reach the server. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it("sends the first ping one interval after the open, then one per interval", async () => {
    const { conn, clock, pings } = await opened();
    clock.advance(999);
    await settle();
    expect(pings).toEqual([]);
    expect(conn.latency).toBeUndefined();
    clock.advance(1);
    await waitFor(() => pings.length === 1);
    await waitFor(() => conn.latency !== undefined); // the server's pong matched the ping
    clock.advance(1000);
    await waitFor(() => pings.length === 2);
    expect(pings).toEqual([1000, 2000]);
  });

  it("a ping() before the first heartbeat ping leaves that one due one interval after the open", async () => {
    const { conn, clock, pings } = await opened();
    clock.advance(400);
    await conn.ping();
    clock.advance(599);
    await settle();
    expect(pings).toEqual([400]);
    clock.advance(1);
    await waitFor(() => pings.length === 2);
    expect(pings).toEqual([400, 1000]);
  });

  it("pauses before the first ping: none while paused, the first one interval after resume()", async () => {
    const { conn, clock, pings } = await opened();
    conn.pause();
    clock.advance(5000);
    await settle();
    expect(pings).toEqual([]);
    conn.resume();
    clock.advance(999);
    await settle();
    expect(pings).toEqual([]);
    clock.advance(1);
    await waitFor(() => pings.length === 1);
    expect(pings).toEqual([6000]);
  });

  it("a close before the first ping leaves no timer on the clock", async () => {
    const { conn, clock, pings } = await opened();
    expect(clock.pendingTimers).toBe(1); // the heartbeat wheel's
    await conn.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(5000);
    expect(pings).toEqual([]);
  });
});
