/**
 * Streamed receive (`receive: "stream"`, message-stream.ts) against raw loopback servers: chunks as
 * they arrive, text never split inside a code point, fail-fast UTF-8 (1007), the limits (1009),
 * dropping a message half-read, compressed messages inflated as they arrive, and the memory of a
 * large message pulled through, measured in a fresh child process.
 */
import type net from "node:net";
import { constants, deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { ReceivedStream, WebSocketClient } from "../src/index.js";
import { type ChildResult, client, rawServer, runChild, useCleanups, within } from "./helpers/harness.js";
import { onUpgradeRequest, serverFrame, switchingProtocols } from "./helpers/servers.js";

useCleanups();

const MiB = 2 ** 20;
const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;

/** A server that answers the upgrade (with permessage-deflate when asked) and then runs `fn`. */
function server(fn: (socket: net.Socket) => void, deflate = false) {
  return rawServer((socket) =>
    onUpgradeRequest(socket, (key) => {
      const head = switchingProtocols(key);
      socket.write(
        deflate ? head.replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n") : head,
      );
      fn(socket);
    }),
  );
}

/** The client's close frame code, from the masked bytes it sends (0 until one arrives). */
function closeCodeSent(socket: net.Socket): () => number {
  let code = 0;
  socket.on("data", (b: Buffer) => {
    for (let i = 0; i + 8 <= b.length; i++) {
      if (b[i] === 0x88 && (b[i + 1]! & 0x7f) >= 2) {
        const key = b.subarray(i + 2, i + 6);
        code = ((b[i + 6]! ^ key[0]!) << 8) | (b[i + 7]! ^ key[1]!);
        socket.end(); // the server closes TCP after the close handshake (RFC 6455 7.1.1)
        return;
      }
    }
  });
  return () => code;
}

/** A compressed frame of one whole message (RSV1 set), as a permessage-deflate server sends it. */
function deflated(data: Uint8Array): Buffer {
  return deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
}
function withRsv1(frame: Buffer): Buffer {
  frame[0]! |= 0x40;
  return frame;
}

async function streamsOf(c: WebSocketClient) {
  await c.connect();
  return c.streams();
}

async function chunksOf(s: ReceivedStream): Promise<Array<string | Uint8Array>> {
  const out: Array<string | Uint8Array> = [];
  for await (const chunk of s) out.push(chunk);
  return out;
}

describe("receive: 'stream' hands out each message as a stream of chunks", () => {
  it("yields a text and a binary message in order, with text(), bytes() and chunks as they arrive", async () => {
    const s = await server((socket) => {
      socket.write(serverFrame(TEXT, "héllo ", false));
      setTimeout(() => socket.write(serverFrame(CONTINUATION, "wörld")), 20);
      setTimeout(() => socket.write(serverFrame(BINARY, Uint8Array.of(1, 2, 3))), 40);
      setTimeout(() => socket.write(serverFrame(BINARY, Uint8Array.of(4))), 60);
    });
    const c = client(s.url, { receive: "stream" });
    const streams = await streamsOf(c);
    const first = (await streams.next()).value!;
    expect(first.type).toBe("text");
    const chunks = await chunksOf(first);
    expect(chunks).toEqual(["héllo ", "wörld"]); // the first fragment came before the second was sent
    const second = (await streams.next()).value!;
    expect(second.type).toBe("binary");
    expect(await second.bytes()).toEqual(Uint8Array.of(1, 2, 3));
    expect(await (await streams.next()).value!.text()).toBe("\u0004");
  });

  it("never splits a code point across text chunks, wherever the TCP writes split the bytes", async () => {
    const text = "a€🌊é".repeat(3);
    const frame = serverFrame(TEXT, text);
    for (const at of [3, 4, 5, 6, 7, 9, 10]) {
      const s = await server((socket) => {
        socket.setNoDelay(true);
        socket.write(frame.subarray(0, at));
        setTimeout(() => socket.write(frame.subarray(at)), 20);
      });
      const c = client(s.url, { receive: "stream" });
      const streams = await streamsOf(c);
      const chunks = (await chunksOf((await streams.next()).value!)) as string[];
      expect(chunks.join("")).toBe(text);
      for (const chunk of chunks) expect(chunk).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]|\uFFFD/);
      c.terminate();
    }
  });

  it("fails fast with 1007 on bad UTF-8 in the middle of a large text frame", async () => {
    let sent = () => 0;
    const s = await server((socket) => {
      sent = closeCodeSent(socket);
      const payload = Buffer.alloc(1000, 0x61);
      payload[500] = 0xff;
      // A 16 MiB frame of which only the first 1000 bytes ever come: the client must not wait for more.
      const head = Buffer.from([0x81, 127, 0, 0, 0, 0, 0x01, 0, 0, 0]);
      // After the 101 has been read alone: a failure in the same read would fail the handshake.
      setTimeout(() => socket.write(Buffer.concat([head, payload])), 20);
    });
    const c = client(s.url, { receive: "stream", reconnect: false });
    const streams = await streamsOf(c);
    const stream = (await streams.next()).value!;
    const error = await within(chunksOf(stream), 5000, "the 1007").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "WS_ERR_INVALID_UTF8", closeCode: 1007 });
    await within(
      (async () => {
        while (sent() === 0) await new Promise((r) => setTimeout(r, 5));
      })(),
      5000,
      "the close frame",
    );
    expect(sent()).toBe(1007);
  });

  it("closes with 1009 past maxStreamedPayload, and past maxPayload for one frame", async () => {
    const run = async (options: { maxStreamedPayload?: number; maxPayload?: number }) => {
      let sent = () => 0;
      const s = await server((socket) => {
        sent = closeCodeSent(socket);
        const part = new Uint8Array(64 * 1024);
        const frames = [
          serverFrame(BINARY, part, false),
          serverFrame(CONTINUATION, part, false),
          serverFrame(CONTINUATION, part, true),
        ];
        setTimeout(() => socket.write(Buffer.concat(frames)), 20);
      });
      const c = client(s.url, { receive: "stream", reconnect: false, ...options });
      const streams = await streamsOf(c);
      // A frame too big fails at its header, before its message starts: then streams() throws.
      const error = await streams
        .next()
        .then((r) => chunksOf(r.value!))
        .catch((e: unknown) => e);
      await within(
        (async () => {
          while (sent() === 0) await new Promise((r) => setTimeout(r, 5));
        })(),
        5000,
        "the close frame",
      );
      return { error, sent: sent() };
    };
    for (const options of [{ maxStreamedPayload: 100_000 }, { maxPayload: 60_000 }]) {
      const { error, sent } = await run(options);
      expect(error).toMatchObject({ code: "WS_ERR_PAYLOAD_TOO_BIG", closeCode: 1009 });
      expect(sent).toBe(1009);
    }
    // Unlimited by default: the message streams although it is over maxPayload.
    const s = await server((socket) => {
      const part = new Uint8Array(64 * 1024).fill(9);
      const frames = [serverFrame(BINARY, part, false), serverFrame(CONTINUATION, part)];
      socket.write(Buffer.concat([...frames, ...frames]));
    });
    const c = client(s.url, { receive: "stream", maxPayload: 100_000 });
    const streams = await streamsOf(c);
    const chunks = (await chunksOf((await streams.next()).value!)) as Uint8Array[];
    expect(chunks.reduce((n, b) => n + b.length, 0)).toBe(128 * 1024);
    // ...but collecting it respects maxPayload.
    await expect((await streams.next()).value!.bytes()).rejects.toThrow(RangeError);
  });

  it("skips the rest of a message dropped half-read, by break or by taking the next stream", async () => {
    const s = await server((socket) => {
      const part = new Uint8Array(256 * 1024).fill(1);
      const frames = [serverFrame(BINARY, part, false)];
      for (let i = 0; i < 30; i++) frames.push(serverFrame(CONTINUATION, part, false));
      frames.push(serverFrame(CONTINUATION, part), serverFrame(TEXT, "second"));
      frames.push(serverFrame(BINARY, part), serverFrame(TEXT, "fourth"));
      socket.write(Buffer.concat(frames));
    });
    const c = client(s.url, { receive: "stream", highWaterMark: 64 * 1024 });
    const streams = await streamsOf(c);
    const first = (await streams.next()).value!;
    for await (const chunk of first) {
      expect((chunk as Uint8Array).length).toBeGreaterThan(0);
      break; // 8 MiB left unread
    }
    expect(await (await streams.next()).value!.text()).toBe("second");
    const third = (await streams.next()).value!;
    expect(third.type).toBe("binary"); // not read at all: taking the next one drops it
    expect(await within((await streams.next()).value!.text(), 5000, "the fourth message")).toBe("fourth");
  });

  it("inflates compressed messages as they arrive, with or without context takeover", async () => {
    const text = "streamed 🌊 text ".repeat(5000);
    const bytes = new TextEncoder().encode(text);
    const compressed = deflated(bytes);
    const half = compressed.length >> 1;
    const s = await server((socket) => {
      socket.write(
        Buffer.concat([
          withRsv1(serverFrame(TEXT, compressed.subarray(0, half), false)),
          serverFrame(CONTINUATION, compressed.subarray(half)),
          withRsv1(serverFrame(BINARY, deflated(Uint8Array.of(5, 6, 7)))),
          serverFrame(TEXT, "plain"),
        ]),
      );
    }, true);
    const c = client(s.url, { receive: "stream" });
    const streams = await streamsOf(c);
    const chunks = (await chunksOf((await streams.next()).value!)) as string[];
    expect(chunks.join("")).toBe(text);
    for (const chunk of chunks) expect(chunk).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]|\uFFFD/);
    expect(await (await streams.next()).value!.bytes()).toEqual(Uint8Array.of(5, 6, 7));
    expect(await (await streams.next()).value!.text()).toBe("plain");
  });

  it("fails a compressed message with 1007 for bad UTF-8 once inflated, 1009 past the limit", async () => {
    const run = async (payload: Uint8Array, options: { maxStreamedPayload?: number }) => {
      let sent = () => 0;
      const s = await server((socket) => {
        sent = closeCodeSent(socket);
        socket.write(withRsv1(serverFrame(TEXT, deflated(payload))));
      }, true);
      const c = client(s.url, { receive: "stream", reconnect: false, ...options });
      const streams = await streamsOf(c);
      // A frame too big fails at its header, before its message starts: then streams() throws.
      const error = await streams
        .next()
        .then((r) => chunksOf(r.value!))
        .catch((e: unknown) => e);
      await within(
        (async () => {
          while (sent() === 0) await new Promise((r) => setTimeout(r, 5));
        })(),
        5000,
        "the close frame",
      );
      return { error, sent: sent() };
    };
    const bad = Buffer.alloc(100_000, 0x61);
    bad[90_000] = 0xc0;
    expect(await run(bad, {})).toMatchObject({
      error: { code: "WS_ERR_INVALID_UTF8", closeCode: 1007 },
      sent: 1007,
    });
    expect(await run(Buffer.alloc(4 * MiB, 0x61), { maxStreamedPayload: MiB })).toMatchObject({
      error: { code: "WS_ERR_PAYLOAD_TOO_BIG", closeCode: 1009 },
      sent: 1009,
    });
  });

  it("keeps whole messages and streams apart: each mode throws on the other's iterator", async () => {
    const streaming = client("ws://127.0.0.1:1", { receive: "stream" });
    expect(() => streaming[Symbol.asyncIterator]()).toThrow(/client\.streams\(\)/);
    const whole = client("ws://127.0.0.1:1");
    expect(() => whole.streams()).toThrow(/receive: "stream"/);
    expect(() => client("ws://127.0.0.1:1", { receive: "streams" as "stream" })).toThrow(TypeError);
    expect(() => client("ws://127.0.0.1:1", { maxStreamedPayload: 0 })).toThrow(TypeError);
  });
});

/** Streamed message size for the memory test: TIDEWAY_STREAM_MIB=256 for the full-size run. */
const STREAM_MIB = Number(process.env.TIDEWAY_STREAM_MIB ?? 32);

describe("a large message streamed down takes constant memory", () => {
  it(`pulls a ${STREAM_MIB} MiB message in 64 MiB frames with RSS growth under 32 MiB`, async () => {
    const total = STREAM_MIB * MiB;
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < block.length; i++) block[i] = (i * 31) & 0xff;
    // Frames of 64 MiB (the default maxPayload bounds each frame): one for the CI size.
    const FRAME = 64 * MiB;
    const s = await server((socket) => {
      let sent = 0;
      // Written as the client reads: the socket's own backpressure keeps this process small too.
      const more = () => {
        while (sent < total) {
          if (sent % FRAME === 0) {
            const length = Math.min(FRAME, total - sent);
            const head = Buffer.alloc(10);
            head[0] = (sent === 0 ? BINARY : CONTINUATION) | (sent + length === total ? 0x80 : 0);
            head[1] = 127;
            head.writeBigUInt64BE(BigInt(length), 2);
            socket.write(head);
          }
          sent += block.length;
          if (!socket.write(block)) {
            socket.once("drain", more);
            return;
          }
        }
      };
      more();
    });
    const r: ChildResult = await runChild(
      `
const gc = globalThis.gc;
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: false, receive: "stream" });
await c.connect();
gc();
const connected = process.memoryUsage().rss;
// A GC every 4 MiB, as the streamed-send test does: RSS then shows what the client holds, not
// chunks already dropped that the young generation has not collected yet.
let fromConnect = 0;
let bytes = 0;
let sum = 0;
let chunks = 0;
let nextGc = 4 * 2 ** 20;
const started = Date.now();
const streams = c.streams();
const { value: stream } = await streams.next();
for await (const chunk of stream) {
  // Every 4099th byte of the message, wherever the chunks begin.
  for (let i = (4099 - (bytes % 4099)) % 4099; i < chunk.length; i += 4099) sum = (sum + chunk[i]) >>> 0;
  bytes += chunk.length;
  chunks++;
  if (bytes >= nextGc) {
    nextGc += 4 * 2 ** 20;
    gc();
    fromConnect = Math.max(fromConnect, process.memoryUsage().rss - connected);
  }
}
c.terminate();
console.log(JSON.stringify({ bytes, sum, chunks, fromConnect, ms: Date.now() - started }));
`,
      [s.url],
      120_000,
      ["--expose-gc"],
    );
    const context = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
    expect(r.code, context).toBe(0);
    const f = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>;
    let sum = 0;
    for (let p = 0; p < total; p += 4099) sum = (sum + block[p % MiB]!) >>> 0;
    expect(f.bytes).toBe(total);
    expect(f.sum).toBe(sum);
    expect(f.fromConnect, JSON.stringify(f)).toBeLessThan(32 * MiB);
    console.log(`streamed ${STREAM_MIB} MiB: ${JSON.stringify(f)}`);
  }, 150_000);
});
