import { ClientProtocol } from "@tideway/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Connection } from "../src/connection.js";
import { directReadsForTests } from "../src/direct-reads.js";
import type { Message } from "../src/events.js";
import { resolveOptions } from "../src/options.js";
import { collecting } from "./helpers/handlers.js";
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
