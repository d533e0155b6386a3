// The fast paths of connection.ts (issue 7): sends of one tick coalesced into one write, messages
// delivered as views without copies, ping() with the heartbeat disabled. Against a real `ws` server.
import net from "node:net";
import { ClientProtocol } from "@tideway/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection, type ConnectionHandlers } from "../src/connection.js";
import { directReadsForTests } from "../src/direct-reads.js";
import type { Message } from "../src/events.js";
import { resolveOptions } from "../src/options.js";
import { sleep, startWsServer, type WsTestServer, waitFor } from "./helpers/servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(o: { echo?: boolean } = {}): Promise<WsTestServer> {
  const s = await startWsServer(o);
  cleanups.push(() => s.close());
  return s;
}

/** Connection handlers that collect the messages and ignore everything else. */
function collecting(messages: Message[]): ConnectionHandlers {
  return {
    onConnect: () => {},
    onOpen: () => {},
    onMessage: (m) => messages.push(m),
    onPing: () => {},
    onPong: () => {},
    onError: () => {},
    onClose: () => {},
  };
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
    for (const send of sends) await expect(send).rejects.toMatchObject({ code: "WS_ERR_CONNECTION_CLOSED" });
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

describe("large payloads read straight into their message (plain TCP, Node's onread)", () => {
  const sizes = [0, 1, 125, 16 * 1024 - 1, 16 * 1024 + 10, 65_536, 3 * 65_536 + 7, 2 ** 20 + 3, 5 * 2 ** 20];
  const payload = (size: number, seed: number) =>
    Buffer.from(Uint8Array.from({ length: size }, (_, i) => ((i + seed) * 2654435761) >>> 24));

  function open(url: string, messages: Message[], o: Parameters<typeof resolveOptions>[1] = {}) {
    const conn = new Connection(
      resolveOptions(url, { heartbeat: false, closeTimeout: 200, ...o }),
      collecting(messages),
    );
    cleanups.push(() => conn.terminate());
    return conn;
  }

  it.each(["uint8array", "buffer"] as const)(
    "arrive intact as %s, in order, between small ones and pings, with the regions used",
    async (binaryType) => {
      const offered = vi.spyOn(ClientProtocol.prototype, "receiveBuffer");
      cleanups.push(() => offered.mockRestore());
      const fed = vi.spyOn(ClientProtocol.prototype, "receiveData");
      cleanups.push(() => fed.mockRestore());
      const s = await server({ echo: false });
      s.wss.on("connection", (ws) => {
        sizes.forEach((size, i) => {
          ws.send(payload(size, i));
          ws.send(`after ${i}`);
          if (i % 3 === 0) ws.ping("p");
        });
        ws.send("x".repeat(100_000) + "é");
      });
      const messages: Message[] = [];
      const conn = open(s.url, messages, { binaryType });
      await conn.open();
      await waitFor(() => messages.length === 2 * sizes.length + 1, 10_000, "every message");
      sizes.forEach((size, i) => {
        const m = messages[2 * i] as Uint8Array;
        expect(binaryType === "buffer" ? Buffer.isBuffer(m) : m.constructor === Uint8Array).toBe(true);
        expect(Buffer.compare(Buffer.from(m.buffer, m.byteOffset, m.byteLength), payload(size, i))).toBe(0);
        expect(messages[2 * i + 1]).toBe(`after ${i}`);
      });
      expect(messages.at(-1)).toBe("x".repeat(100_000) + "é");
      expect(offered.mock.results.filter((r) => r.value !== undefined).length).toBeGreaterThan(
        sizes.length / 2,
      );
      // The socket really read into them: chunks fed to the protocol that lie in an offered region.
      const regions = new Set(offered.mock.results.map((r) => (r.value as Uint8Array | undefined)?.buffer));
      const inPlace = fed.mock.calls.filter(([chunk]) => regions.has(chunk.buffer));
      expect(inPlace.length).toBeGreaterThan(0);
    },
  );

  it("reads a stream into buffers of the socket's own, intact, and counts none once closed", async () => {
    const allocations = vi.spyOn(Buffer, "allocUnsafeSlow");
    cleanups.push(() => allocations.mockRestore());
    const s = await server({ echo: false });
    s.wss.on("connection", (ws) => {
      for (let i = 0; i < 2048; i++) ws.send(payload(1024, i)); // a 2 MiB burst of 1 KiB, then quiet
    });
    const conns = Array.from({ length: 3 }, () => {
      const messages: Message[] = [];
      return { conn: open(s.url, messages), messages };
    });
    await Promise.all(conns.map(({ conn }) => conn.open()));
    await waitFor(() => conns.every(({ messages }) => messages.length === 2048), 10_000, "every burst");
    // 64 KiB read buffers of the sockets' own (the shared scratch buffer is one of those at most).
    expect(allocations.mock.calls.filter(([size]) => size === 64 * 1024).length).toBeGreaterThan(2);
    expect(directReadsForTests.ownedReadBuffers()).toBeLessThanOrEqual(3);
    for (const { messages } of conns) {
      const intact = messages.map((m, i) => {
        const bytes = m as Uint8Array;
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(payload(1024, i));
      });
      expect(intact.every(Boolean)).toBe(true);
    }
    for (const { conn } of conns) conn.terminate();
    await Promise.all(conns.map(({ conn }) => conn.closed));
    expect(directReadsForTests.ownedReadBuffers()).toBe(0);
  });

  it("stop reading while paused (mid-message or between), and resume with every byte intact", async () => {
    const s = await server({ echo: false });
    const big = [3 * 2 ** 20, 2 ** 20 + 1, 70_000, 5 * 2 ** 20].map((size, i) => payload(size, i));
    const sent = { bytes: 0 };
    s.wss.on("connection", (ws) => {
      for (const p of big) ws.send(p);
      ws.send("end");
      sent.bytes = big.reduce((n, p) => n + p.length, 0);
    });
    const messages: Message[] = [];
    const conn = open(s.url, messages);
    await conn.open();
    conn.pause();
    for (let round = 0; messages.length < big.length + 1; round++) {
      // Paused: no message arrives, the server's bytes wait in the socket buffers.
      const before = messages.length;
      await sleep(40);
      expect(messages.length).toBe(before);
      conn.resume();
      await sleep(round % 2 === 0 ? 0 : 5);
      conn.pause();
      expect(round).toBeLessThan(2000);
    }
    conn.resume();
    expect(messages.at(-1)).toBe("end");
    big.forEach((p, i) => {
      const m = messages[i] as Uint8Array;
      expect(Buffer.compare(Buffer.from(m.buffer, m.byteOffset, m.byteLength), p)).toBe(0);
    });
    // Pausing and resuming never counts a socket's own read buffer twice.
    conn.terminate();
    await conn.closed;
    expect(directReadsForTests.ownedReadBuffers()).toBe(0);
  }, 60_000);
});
