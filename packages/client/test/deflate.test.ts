/**
 * permessage-deflate on node:zlib: the codec alone (round trips, context takeover, window bits, the
 * decompression bomb), then the whole client against `ws` under every parameter combination,
 * against Python `websockets` (which compresses by default), and against raw servers sending what
 * no conforming server sends (a bomb, a corrupt stream, fragmented compressed messages).
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type net from "node:net";
import { constants, deflateRawSync, inflateRawSync } from "node:zlib";
import {
  ClientProtocol,
  type DeflateParams,
  END_OF_STREAM,
  ErrorCodes,
  Opcode,
  type Outgoing,
  ProtocolError,
  ServerProtocol,
} from "@tideway/core";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { PerMessageDeflateOptions, WebSocket as WsSocket } from "ws";
import {
  inflateTakesDictionary,
  newZlibCodec,
  SlidingWindow,
  withStoredPrefix,
  ZlibCodec,
  ZlibStreamCodec,
} from "../src/deflate.js";
import {
  type BinaryType,
  type CloseInfo,
  WebSocketClient,
  type WebSocketClientOptions,
} from "../src/index.js";
import { SyncZlibStream } from "../src/zlib-sync.js";
import { type PythonServer, startPythonServer } from "./helpers/python-server.js";
import {
  onUpgradeRequest,
  type RawServer,
  startRawServer,
  startWsServer,
  type WsTestServer,
} from "./helpers/servers.js";

const MiB = 2 ** 20;
const DEFAULTS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

/** A JSON market-data message of about `size` bytes; `n` varies it, as consecutive updates do. */
function jsonMessage(size: number, n: number): string {
  const rows: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const row = JSON.stringify({
      id: n * 1000 + i,
      sym: "BTCUSDT",
      px: (64000 + ((n * 7 + i) % 100) / 8).toFixed(2),
      qty: (i % 13) + 1,
    });
    rows.push(row);
    length += row.length + 1;
  }
  return `[${rows.join(",")}]`.slice(0, size - 1).concat("]");
}

describe("SlidingWindow", () => {
  it("keeps the last bytes of everything appended, across every way to cross its end", () => {
    const all: number[] = [];
    const w = new SlidingWindow(16);
    for (const n of [0, 3, 10, 2, 1, 16, 5, 40, 7, 15, 1]) {
      const part = Uint8Array.from({ length: n }, (_, i) => (all.length + i) & 0xff);
      all.push(...part);
      w.append(part);
      expect(Array.from(w.bytes)).toEqual(all.slice(-16));
    }
  });

  it("keeps them when read only now and then (its ring wraps between reads)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.boolean()), { maxLength: 40 }),
        (steps) => {
          const all: number[] = [];
          const w = new SlidingWindow(32);
          for (const [part, read] of steps) {
            all.push(...part);
            w.append(part);
            if (read) expect(Array.from(w.bytes)).toEqual(all.slice(-32));
          }
          expect(Array.from(w.bytes)).toEqual(all.slice(-32));
        },
      ),
    );
  });
});

/** Both codecs: on persistent streams where node:zlib allows it, on one-shot calls elsewhere. */
const codecs = [
  ["ZlibStreamCodec", ZlibStreamCodec],
  ["ZlibCodec", ZlibCodec],
] as const;

describe.each(codecs)("%s", (_name, Codec) => {
  /** A client codec and a server codec with the same params: what one compresses the other inflates. */
  const pair = (params: Partial<DeflateParams> = {}) => {
    const p = { ...DEFAULTS, ...params };
    return { client: new Codec(p, false), server: new Codec(p, true) };
  };

  it("ends a compressed message without the 00 00 ff ff tail, which a plain inflate puts back", () => {
    const { client } = pair();
    const data = Buffer.from(jsonMessage(2000, 1));
    const compressed = client.compress(data);
    expect(compressed.length).toBeLessThan(data.length / 2);
    expect(Buffer.from(compressed.subarray(-4)).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(false);
    const inflated = inflateRawSync(Buffer.concat([compressed, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    expect(inflated.equals(data)).toBe(true);
  });

  it("compresses an empty message to one 0x00 byte's worth and inflates it back (section 7.2.3.6)", () => {
    const { client, server } = pair();
    const compressed = client.compress(new Uint8Array(0));
    expect(compressed.length).toBeLessThanOrEqual(2);
    expect(server.decompress(compressed, true, 10).length).toBe(0);
  });

  it.each<[string, Partial<DeflateParams>]>([
    ["context takeover on both sides", {}],
    ["client_no_context_takeover", { clientNoContextTakeover: true }],
    ["server_no_context_takeover", { serverNoContextTakeover: true }],
    ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits): [string, Partial<DeflateParams>] => [
      `window bits ${bits}`,
      { clientMaxWindowBits: bits, serverMaxWindowBits: bits },
    ]),
  ])("round-trips 200 messages both ways with %s", (_name, params) => {
    const { client, server } = pair(params);
    let clientBytes = 0;
    let plainBytes = 0;
    for (let n = 0; n < 200; n++) {
      const message = Buffer.from(jsonMessage(300 + ((n * 37) % 3000), n));
      const up = client.compress(message);
      clientBytes += up.length;
      plainBytes += message.length;
      expect(Buffer.from(server.decompress(up, true, MiB)).equals(message)).toBe(true);
      const down = server.compress(message);
      // Split the server's message into frames, as a server may.
      const cut = Math.floor(down.length / 3);
      expect(server === client).toBe(false);
      // ZlibCodec holds the output until the last frame, ZlibStreamCodec returns it as it comes.
      const head = client.decompress(down.subarray(0, cut), false, MiB);
      const rest = client.decompress(down.subarray(cut), true, MiB);
      expect(Buffer.concat([head, rest]).equals(message)).toBe(true);
    }
    expect(clientBytes).toBeLessThan(plainBytes / 2);
  });

  it("inflates a back-reference to the far end of a full 32 KiB window", () => {
    const { client } = pair();
    // 32 KiB of incompressible bytes (a fixed xorshift sequence): the whole received history.
    const history = new Uint8Array(32 * 1024);
    let x = 0x9e3779b9;
    for (let i = 0; i < history.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      history[i] = x & 0xff;
    }
    const sync = { finishFlush: constants.Z_SYNC_FLUSH, windowBits: 15 };
    const first = deflateRawSync(history, sync);
    expect(
      Buffer.from(client.decompress(first.subarray(0, -4), true, MiB)).equals(Buffer.from(history)),
    ).toBe(true);
    // 260 bytes from 300 bytes after the window's start: 32,468 back, near zlib's farthest (32,506).
    const message = history.slice(300, 560);
    const second = deflateRawSync(message, { ...sync, dictionary: history });
    expect(second.length).toBeLessThan(20); // one back-reference, not the bytes
    expect(
      Buffer.from(client.decompress(second.subarray(0, -4), true, MiB)).equals(Buffer.from(message)),
    ).toBe(true);
  });

  it("gains from context takeover on repeated messages, and not without it", () => {
    const message = Buffer.from(jsonMessage(1200, 1));
    const sizes = (params: Partial<DeflateParams>) => {
      const { client } = pair(params);
      return [client.compress(message).length, client.compress(message).length];
    };
    const [firstWith, secondWith] = sizes({});
    const [firstWithout, secondWithout] = sizes({ clientNoContextTakeover: true });
    expect(secondWith).toBeLessThan(20); // the whole message is one back-reference into the history
    expect(firstWith).toBe(firstWithout);
    expect(secondWithout).toBe(firstWithout);
  });

  it("with an 8-bit window, never references more than 256 bytes back (checked by an 8-bit inflater)", () => {
    // zlib uses a 9-bit window for "8"; its distances stay <= 250, so a strict 8-bit peer inflates it.
    const codec = new Codec({ ...DEFAULTS, clientMaxWindowBits: 8 }, false);
    const history: Buffer[] = [];
    for (let n = 0; n < 50; n++) {
      const message = Buffer.from(jsonMessage(700, n % 3));
      const compressed = codec.compress(message);
      history.push(message);
      // A one-shot 8-bit inflater with the last 256 bytes of history as dictionary: a distance
      // beyond them fails with "invalid distance too far back".
      const before = Buffer.concat(history.slice(0, -1)).subarray(-256);
      const inflated = inflateRawSync(Buffer.concat([compressed, Buffer.from([0, 0, 0xff, 0xff])]), {
        windowBits: 8,
        finishFlush: constants.Z_SYNC_FLUSH,
        ...(before.length > 0 ? { dictionary: before } : {}),
      });
      expect(inflated.equals(message)).toBe(true);
    }
  });

  it("stops inflating a bomb at maxOutput: 10 MiB of zeros in ~10 KiB, limit 1 MiB", () => {
    const bomb = deflateRawSync(Buffer.alloc(10 * MiB), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(
      0,
      -4,
    );
    expect(bomb.length).toBeLessThan(20 * 1024);
    const codec = new Codec(DEFAULTS, false);
    // External memory allocated by the inflate stays near the limit: the 10 MiB never exist.
    const before = process.memoryUsage().arrayBuffers;
    let error: unknown;
    try {
      codec.decompress(bomb, true, MiB);
    } catch (e) {
      error = e;
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(ErrorCodes.PayloadTooBig);
    expect((error as ProtocolError).closeCode).toBe(1009);
    expect(grown).toBeLessThan(3 * MiB);
    // Exactly the limit is fine.
    const exact = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
    expect(new Codec(DEFAULTS, false).decompress(exact, true, MiB).length).toBe(MiB);
  });

  it("inflates messages that end with a BFINAL block, as a peer may send them (section 7.2.3)", () => {
    const codec = new Codec(DEFAULTS, false);
    for (let n = 0; n < 3; n++) {
      const message = Buffer.from(jsonMessage(500, n));
      expect(Buffer.from(codec.decompress(deflateRawSync(message), true, MiB)).equals(message)).toBe(true);
    }
  });

  it("throws zlib's error on a corrupt stream (the core turns it into DecompressionFailed)", () => {
    const codec = new Codec(DEFAULTS, false);
    expect(() => codec.decompress(Uint8Array.of(0xff, 0xff, 0xff), true, MiB)).toThrow(/invalid/i);
  });
  it("inflates a message after one that ended the deflate stream (BFINAL), over the same history", () => {
    const codec = new Codec(DEFAULTS, false);
    const first = Buffer.from(jsonMessage(800, 1));
    expect(Buffer.from(codec.decompress(deflateRawSync(first), true, MiB)).equals(first)).toBe(true);
    // A peer that starts a new stream with the history as preset dictionary, as RFC 7692 allows.
    const second = Buffer.from(jsonMessage(800, 1).slice(0, 500));
    const compressed = deflateRawSync(second, { finishFlush: constants.Z_SYNC_FLUSH, dictionary: first });
    expect(compressed.length).toBeLessThan(30); // a back-reference into the first message
    expect(Buffer.from(codec.decompress(compressed.subarray(0, -4), true, MiB)).equals(second)).toBe(true);
  });

  it("with server_no_context_takeover, inflates each message with an empty window", () => {
    const reference = deflateRawSync(Buffer.from("tideway"), {
      finishFlush: constants.Z_SYNC_FLUSH,
      dictionary: Buffer.from("tideway"),
    }).subarray(0, -4);
    const first = deflateRawSync(Buffer.from("tideway"), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(
      0,
      -4,
    );
    const kept = new Codec(DEFAULTS, false);
    kept.decompress(first, true, MiB);
    expect(Buffer.from(kept.decompress(reference, true, MiB)).toString()).toBe("tideway");
    const reset = new Codec({ ...DEFAULTS, serverNoContextTakeover: true }, false);
    reset.decompress(first, true, MiB);
    expect(() => reset.decompress(reference, true, MiB)).toThrow(/too far back/);
  });

  it("inflates a message spread over frames, the output counted per frame", () => {
    const { client, server } = pair();
    const message = Buffer.from(jsonMessage(20_000, 3));
    const compressed = server.compress(message);
    const cut = Math.floor(compressed.length / 2);
    const parts = [
      client.decompress(compressed.subarray(0, cut), false, MiB),
      client.decompress(compressed.subarray(cut), true, MiB),
    ];
    expect(Buffer.concat(parts).equals(message)).toBe(true);
  });

  it("takes a compressed message of no bytes at all as empty", () => {
    const { client, server } = pair();
    expect(client.decompress(new Uint8Array(0), true, 10).length).toBe(0);
    const message = Buffer.from(jsonMessage(500, 2));
    expect(Buffer.from(client.decompress(server.compress(message), true, MiB)).equals(message)).toBe(true);
  });
});

describe("ZlibCodec where zlib ignores `dictionary` (Deno 2's node:zlib)", () => {
  /** deflate.js over a node:zlib whose one-shot functions drop `dictionary`, as Deno's do. */
  async function codecWithoutDictionaries() {
    vi.resetModules();
    vi.doMock("node:zlib", async (importOriginal) => {
      const zlib = await importOriginal<typeof import("node:zlib")>();
      const drop = <T extends { dictionary?: unknown }>({ dictionary: _, ...rest }: T) => rest;
      return {
        ...zlib,
        deflateRawSync: (data: Uint8Array, options: Parameters<typeof zlib.deflateRawSync>[1] = {}) =>
          zlib.deflateRawSync(data, drop(options)),
        inflateRawSync: (data: Uint8Array, options: Parameters<typeof zlib.inflateRawSync>[1] = {}) =>
          zlib.inflateRawSync(data, drop(options)),
      };
    });
    try {
      return await import("../src/deflate.js");
    } finally {
      vi.doUnmock("node:zlib");
      vi.resetModules();
    }
  }

  it("a stored block of the history in front resolves the references a dictionary would", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 32 * 1024 }),
        fc.uint8Array({ maxLength: 4096 }),
        (history, m) => {
          const message = Buffer.concat([history.subarray(0, 100), m, history.subarray(-50)]);
          const compressed = deflateRawSync(message, {
            dictionary: history,
            finishFlush: constants.Z_SYNC_FLUSH,
          });
          const out = inflateRawSync(withStoredPrefix(history, compressed), {
            finishFlush: constants.Z_SYNC_FLUSH,
          });
          expect(out.subarray(history.length).equals(message)).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("detects it, and still inflates a peer's references into earlier messages", async () => {
    expect(inflateTakesDictionary()).toBe(true);
    const without = await codecWithoutDictionaries();
    expect(without.inflateTakesDictionary()).toBe(false);
    const server = new ZlibCodec(DEFAULTS, true);
    const client = new without.ZlibCodec(DEFAULTS, false);
    for (let n = 0; n < 20; n++) {
      const message = Buffer.from(jsonMessage(2000, n));
      const compressed = server.compress(message);
      expect(compressed.length).toBeLessThan(message.length / 4); // it references earlier messages
      expect(Buffer.from(client.decompress(compressed, true, MiB)).equals(message)).toBe(true);
    }
  });

  it("keeps maxOutput for the message alone, the history in front not counted", async () => {
    const without = await codecWithoutDictionaries();
    const server = new ZlibCodec(DEFAULTS, true);
    const client = new without.ZlibCodec(DEFAULTS, false);
    const first = Buffer.from(jsonMessage(30_000, 0));
    client.decompress(server.compress(first), true, MiB);
    const exact = Buffer.alloc(1000, 7);
    expect(client.decompress(server.compress(exact), true, 1000).length).toBe(1000);
    const error = (() => {
      try {
        client.decompress(server.compress(Buffer.alloc(20_000, 7)), true, 1000);
      } catch (e) {
        return e;
      }
    })();
    // The fresh module graph has its own copy of the core: compare codes, not classes.
    expect(error).toMatchObject({ code: ErrorCodes.PayloadTooBig, closeCode: 1009 });
  });
});

describe("ClientProtocol and ServerProtocol over ZlibCodec (property)", () => {
  const bytes = (out: Outgoing[]) => Buffer.concat(out.filter((o): o is Uint8Array => o !== END_OF_STREAM));
  /** Feeds `data` to `p` in pieces cut at `cuts` (fractions of its length). */
  const feed = (p: { receiveData(c: Uint8Array): void }, data: Uint8Array, cuts: number[]) => {
    const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
    let at = 0;
    for (const point of [...points, data.length]) {
      if (point > at) p.receiveData(data.slice(at, point));
      at = Math.max(at, point);
    }
  };
  const bits = fc.option(fc.integer({ min: 8, max: 15 }), { nil: undefined });
  const message = fc.oneof(
    fc.string({ unit: "grapheme", maxLength: 3000 }),
    fc.uint8Array({ maxLength: 3000 }),
    fc.integer({ min: 0, max: 40 }).map((n) => jsonMessage(200 + n * 50, n)),
  );

  it.each(codecs)(
    "%s: delivers every message, in order, both ways, whatever the parameters and the chunking",
    (_name, Codec) => {
      fc.assert(
        fc.property(
          fc.record({
            threshold: fc.integer({ min: 0, max: 2000 }),
            clientMaxWindowBits: bits,
            serverMaxWindowBits: bits,
            clientNoContextTakeover: fc.boolean(),
            serverNoContextTakeover: fc.boolean(),
            level: fc.integer({ min: 0, max: 9 }),
          }),
          fc.array(message, { minLength: 1, maxLength: 12 }),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
          (o, messages, cuts) => {
            const codecFactory = (params: DeflateParams, isServer: boolean) =>
              new Codec(params, isServer, { level: o.level });
            const client = new ClientProtocol({
              url: "ws://example.test/",
              perMessageDeflate: {
                codecFactory,
                threshold: o.threshold,
                clientMaxWindowBits: o.clientMaxWindowBits ?? true,
                ...(o.serverMaxWindowBits !== undefined
                  ? { serverMaxWindowBits: o.serverMaxWindowBits }
                  : {}),
                clientNoContextTakeover: o.clientNoContextTakeover,
                serverNoContextTakeover: o.serverNoContextTakeover,
              },
            });
            const server = new ServerProtocol({
              perMessageDeflate: { codecFactory, threshold: o.threshold },
            });
            feed(server, bytes(client.dataToSend()), cuts);
            server.eventsReceived();
            server.accept();
            feed(client, bytes(server.dataToSend()), cuts);
            expect(client.eventsReceived().map((e) => e.type)).toEqual(["open"]);
            expect(client.deflateParams).toEqual(server.deflateParams);
            const expected = messages.map((m) =>
              typeof m === "string" ? { type: "text", data: m } : { type: "binary", data: m },
            );
            for (const [from, to] of [
              [client, server],
              [server, client],
            ] as const) {
              for (const m of messages) {
                if (typeof m === "string") from.sendText(m);
                else from.sendBinary(m);
              }
              feed(to, bytes(from.dataToSend()), cuts);
              expect(
                to
                  .eventsReceived()
                  .map((e) =>
                    "data" in e
                      ? { type: e.type, data: typeof e.data === "string" ? e.data : Uint8Array.from(e.data) }
                      : e,
                  ),
              ).toEqual(expected);
            }
            client.receiveEof(); // frees the codecs' zlib streams
            server.receiveEof();
          },
        ),
        { numRuns: 150 },
      );
    },
  );
});

describe("ClientProtocol over ZlibCodec, fed random compressed payloads (fuzz)", () => {
  it.each(codecs)(
    "%s: either delivers a message or fails with a documented error and close code",
    (_name, Codec) => {
      const documented = new Map<string, number>([
        [ErrorCodes.DecompressionFailed, 1007],
        [ErrorCodes.InvalidUtf8, 1007],
        [ErrorCodes.PayloadTooBig, 1009],
      ]);
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 200 }),
          fc.boolean(),
          fc.integer({ min: 1, max: 4096 }),
          (payload, text, maxPayload) => {
            const client = new ClientProtocol({
              url: "ws://example.test/",
              maxPayload,
              perMessageDeflate: { codecFactory: (params, isServer) => new Codec(params, isServer) },
            });
            const request = Buffer.from(client.dataToSend()[0] as Uint8Array).toString("latin1");
            const key = /Sec-WebSocket-Key: (\S+)/.exec(request)![1]!;
            const accept = createHash("sha1")
              .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
              .digest("base64");
            client.receiveData(
              Buffer.from(
                `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
              ),
            );
            client.receiveData(frame(text ? Opcode.Text : Opcode.Binary, payload, { rsv1: true }));
            const events = client.eventsReceived();
            expect(events[0]?.type).toBe("open");
            const last = events[events.length - 1]!;
            if (last.type === "error") {
              expect(documented.get(last.error.code), last.error.message).toBe(
                (last.error as ProtocolError).closeCode,
              );
              expect(client.closeSent?.code).toBe((last.error as ProtocolError).closeCode);
            } else {
              expect(last.type).toBe(text ? "text" : "binary");
            }
            client.receiveEof(); // frees the codec's zlib streams
          },
        ),
        { numRuns: 2000 },
      );
    },
  );
});

/** A ClientProtocol opened with permessage-deflate over `codecFactory`, by a 101 fed to it. */
function openClient(codecFactory: (params: DeflateParams, isServer: boolean) => ZlibCodec | ZlibStreamCodec) {
  const client = new ClientProtocol({ url: "ws://example.test/", perMessageDeflate: { codecFactory } });
  const request = Buffer.from(client.dataToSend()[0] as Uint8Array).toString("latin1");
  const key = /Sec-WebSocket-Key: (\S+)/.exec(request)![1]!;
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  client.receiveData(
    Buffer.from(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
    ),
  );
  expect(client.eventsReceived()[0]?.type).toBe("open");
  return client;
}

describe("the codec's choice and its end", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** deflate.js over a node:zlib whose streams lack Node's internals, as Bun's own zlib does. */
  async function deflateWithoutStreamInternals() {
    vi.resetModules();
    vi.doMock("node:zlib", async (importOriginal) => {
      const zlib = await importOriginal<typeof import("node:zlib")>();
      const bare = <T extends { close(): void }>(stream: T): T => {
        stream.close();
        return Object.defineProperty(stream, "_handle", { value: undefined });
      };
      return {
        ...zlib,
        createInflateRaw: (o?: object) => bare(zlib.createInflateRaw(o)),
        createDeflateRaw: (o?: object) => bare(zlib.createDeflateRaw(o)),
      };
    });
    try {
      return await import("../src/deflate.js");
    } finally {
      vi.doUnmock("node:zlib");
      vi.resetModules();
    }
  }

  it("is ZlibStreamCodec in Node, ZlibCodec where zlib streams cannot be driven synchronously", async () => {
    const codec = newZlibCodec(DEFAULTS, false);
    expect(codec).toBeInstanceOf(ZlibStreamCodec);
    (codec as ZlibStreamCodec).close();
    const without = await deflateWithoutStreamInternals();
    const fallback = without.newZlibCodec(DEFAULTS, false);
    expect(fallback).toBeInstanceOf(without.ZlibCodec);
    // And it works: a round trip with a codec of the other kind.
    const message = Buffer.from(jsonMessage(3000, 4));
    const server = new ZlibStreamCodec(DEFAULTS, true);
    expect(Buffer.from(fallback.decompress(server.compress(message), true, MiB)).equals(message)).toBe(true);
    server.close();
  });

  it("makes no zlib stream for a connection that compresses nothing", () => {
    const close = vi.spyOn(SyncZlibStream.prototype, "close");
    const client = openClient((params, isServer) => new ZlibStreamCodec(params, isServer));
    client.sendText("small");
    client.receiveEof();
    expect(close).not.toHaveBeenCalled();
  });

  it("closes both zlib streams when the protocol reaches end of stream, and uses them no more", () => {
    const close = vi.spyOn(SyncZlibStream.prototype, "close");
    let codec: ZlibStreamCodec | undefined;
    const client = openClient((params, isServer) => {
      codec = new ZlibStreamCodec(params, isServer);
      return codec;
    });
    const message = Buffer.from(jsonMessage(2000, 5));
    client.sendText(message.toString());
    const peer = new ZlibStreamCodec(DEFAULTS, true);
    client.receiveData(frame(Opcode.Text, peer.compress(message), { rsv1: true }));
    expect(client.eventsReceived()).toEqual([{ type: "text", data: message.toString() }]);
    expect(close).not.toHaveBeenCalled();
    client.receiveEof();
    expect(close).toHaveBeenCalledTimes(2);
    client.receiveEof();
    expect(close).toHaveBeenCalledTimes(2);
    expect(() => codec!.compress(message)).toThrow(/after its connection ended/);
    peer.close();
  });

  it("the client frees them at every connection's end: none left behind across reconnects", async () => {
    const server = await startWsServer({ perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => server.close());
    const close = vi.spyOn(SyncZlibStream.prototype, "close");
    for (let n = 1; n <= 3; n++) {
      const c = client(server.url, { perMessageDeflate: { threshold: 0 } });
      await c.connect();
      expect(await echo(c, [jsonMessage(1500, n)])).toEqual([jsonMessage(1500, n)]);
      const closed = new Promise((resolve) => c.once("close", resolve));
      c.close();
      await closed;
      expect(close).toHaveBeenCalledTimes(2 * n);
    }
  });
});

// --- the whole client ---

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function client<B extends BinaryType = "uint8array">(
  url: string,
  o: WebSocketClientOptions<B> = {},
): WebSocketClient<B> {
  const c = new WebSocketClient(url, { heartbeat: false, reconnect: false, closeTimeout: 200, ...o });
  cleanups.push(() => c.terminate());
  return c;
}

/** Sends `messages` and collects as many echoes, in order, within a bounded time. */
async function echo(c: WebSocketClient, messages: Array<string | Uint8Array>): Promise<unknown[]> {
  const received: unknown[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length} echoes in time`)), 15_000);
    c.on("message", (data) => {
      received.push(data);
      if (received.length === messages.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  for (const m of messages) void c.send(m);
  await done;
  return received;
}

function workload(): Array<string | Uint8Array> {
  const out: Array<string | Uint8Array> = [];
  for (let n = 0; n < 60; n++) {
    const text = jsonMessage(200 + ((n * 211) % 5000), n);
    out.push(n % 3 === 2 ? new Uint8Array(Buffer.from(text)) : text);
  }
  out.push(jsonMessage(300_000, 99), "", "small");
  return out;
}

type WsCase = [string, PerMessageDeflateOptions, WebSocketClientOptions["perMessageDeflate"], RegExp];
const wsCases: WsCase[] = [
  ["defaults", {}, { threshold: 0 }, /^permessage-deflate(; client_max_window_bits=15)?$/],
  [
    "server_no_context_takeover",
    { serverNoContextTakeover: true },
    { threshold: 0 },
    /server_no_context_takeover/,
  ],
  [
    "client_no_context_takeover",
    { clientNoContextTakeover: true },
    { threshold: 0 },
    /client_no_context_takeover/,
  ],
  [
    "no context takeover either side",
    { serverNoContextTakeover: true, clientNoContextTakeover: true },
    { threshold: 0 },
    /server_no_context_takeover; client_no_context_takeover/,
  ],
  [
    "client offers both no_context_takeover",
    {},
    { threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true },
    /server_no_context_takeover/,
  ],
  [
    "client asks server_max_window_bits=10",
    {},
    { threshold: 0, serverMaxWindowBits: 10 },
    /server_max_window_bits=10/,
  ],
  [
    "client caps client_max_window_bits=9",
    {},
    { threshold: 0, clientMaxWindowBits: 9 },
    /client_max_window_bits=9/,
  ],
  ["threshold 1024 (small messages plain)", {}, {}, /^permessage-deflate/],
  ...[8, 9, 10, 11, 12, 13, 14, 15].flatMap((bits): WsCase[] => [
    [
      `server window ${bits}`,
      { serverMaxWindowBits: bits },
      { threshold: 0 },
      new RegExp(`server_max_window_bits=${bits}`),
    ],
    [
      `client window ${bits}`,
      { clientMaxWindowBits: bits },
      { threshold: 0 },
      new RegExp(`client_max_window_bits=${bits}`),
    ],
  ]),
];

describe("against a ws server with compression", () => {
  it.each(wsCases)(
    "%s: echoes in order, compressed both ways",
    async (_name, serverOptions, clientOption, header) => {
      const server: WsTestServer = await startWsServer({
        perMessageDeflate: { threshold: 0, ...serverOptions },
      });
      cleanups.push(() => server.close());
      const c = client(server.url, { perMessageDeflate: clientOption });
      const response = await c.connect();
      expect(response.extensions).toMatch(header);
      const serverSide = server.clients[0] as WsSocket & { _socket: net.Socket };
      const messages = workload();
      const received = await echo(c, messages);
      expect(
        received.map((m) => (typeof m === "string" ? m : Buffer.from(m as Uint8Array).toString())),
      ).toEqual(messages.map((m) => (typeof m === "string" ? m : Buffer.from(m).toString())));
      expect(received.map((m) => typeof m)).toEqual(messages.map((m) => typeof m));
      // The client really compressed: the server read far fewer bytes than were sent.
      const plain = messages.reduce((n, m) => n + Buffer.byteLength(m as string), 0);
      expect(serverSide._socket.bytesRead).toBeLessThan(plain / 2);
    },
  );

  it("does not offer the extension with perMessageDeflate: false", async () => {
    const server = await startWsServer({ perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => server.close());
    const c = client(server.url, { perMessageDeflate: false });
    const response = await c.connect();
    expect(response.extensions).toBe("");
    expect(server.requests[0]?.headers["sec-websocket-extensions"]).toBeUndefined();
    expect(await echo(c, ["x".repeat(5000)])).toEqual(["x".repeat(5000)]);
  });

  it("sends a message with compress: false uncompressed (RSV1 clear), the others compressed", async () => {
    const server = await startWsServer({ perMessageDeflate: { threshold: 0 } });
    cleanups.push(() => server.close());
    const c = client(server.url, { perMessageDeflate: { threshold: 0 } });
    await c.connect();
    const serverSide = server.clients[0] as WsSocket & { _socket: net.Socket };
    // The first byte of each frame as it reaches the server: FIN, RSV1 and the opcode.
    const firstBytes: number[] = [];
    let atFrameStart = true;
    serverSide._socket.on("data", (chunk: Buffer) => {
      if (atFrameStart) firstBytes.push(chunk[0] as number);
      atFrameStart = false;
    });
    const sendOne = async (data: string | Uint8Array, options: { compress?: boolean }) => {
      atFrameStart = true;
      const got = new Promise((resolve) => serverSide.once("message", resolve));
      await c.send(data, options);
      return got;
    };
    const text = "z".repeat(4000);
    const bytes = new Uint8Array(4000).fill(9);
    expect(String(await sendOne(text, { compress: false }))).toBe(text);
    expect(Buffer.from((await sendOne(bytes, { compress: false })) as Buffer)).toEqual(Buffer.from(bytes));
    await sendOne(text, {});
    await sendOne(bytes, { compress: true });
    expect(firstBytes.map((b) => b.toString(16))).toEqual(["81", "82", "c1", "c2"]);
  });

  it("offers permessage-deflate; client_max_window_bits by default", async () => {
    const server = await startWsServer({ perMessageDeflate: false });
    cleanups.push(() => server.close());
    const c = client(server.url);
    const response = await c.connect();
    expect(server.requests[0]?.headers["sec-websocket-extensions"]).toBe(
      "permessage-deflate; client_max_window_bits",
    );
    expect(response.extensions).toBe("");
    expect(await echo(c, ["y".repeat(5000)])).toEqual(["y".repeat(5000)]);
  });
});

describe("against Python websockets (compression on by default)", () => {
  let server: PythonServer;
  beforeAll(async () => {
    server = await startPythonServer({});
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("negotiates it and echoes 300 JSON messages in order with context takeover", async () => {
    const c = client(server.url, { perMessageDeflate: { threshold: 0 } });
    const response = await c.connect();
    expect(response.extensions).toMatch(/^permessage-deflate/);
    const messages = Array.from({ length: 300 }, (_, n) => jsonMessage(100 + ((n * 97) % 4000), n));
    expect(await echo(c, messages)).toEqual(messages);
  });
});

// --- raw servers: what a conforming server never sends ---

/** A server that accepts permessage-deflate (the answer given), then writes `frames`. */
async function rawDeflateServer(answer: string, frames: Buffer[]): Promise<RawServer> {
  const s = await startRawServer((socket) => {
    onUpgradeRequest(socket, (key) => {
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${answer}\r\n\r\n`,
      );
      // After the open: frames in the 101's own read would fail the handshake itself.
      setTimeout(() => {
        for (const f of frames) socket.write(f);
      }, 20);
      // Answer the client's close frame by closing TCP, as a server does.
      socket.on("data", () => socket.end());
    });
  });
  cleanups.push(() => s.close());
  return s;
}

/** A server frame with RSV1 set on `rsv1`. */
function frame(opcode: number, payload: Uint8Array, o: { fin?: boolean; rsv1?: boolean } = {}): Buffer {
  const fin = o.fin ?? true;
  const b0 = (fin ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | opcode;
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([b0, len])
      : len < 65536
        ? Buffer.from([b0, 126, len >> 8, len & 0xff])
        : Buffer.concat([
            Buffer.from([b0, 127]),
            Buffer.from(new BigUint64Array([BigInt(len)]).buffer).reverse(),
          ]);
  return Buffer.concat([head, payload]);
}

const deflate = (data: Uint8Array) =>
  deflateRawSync(data, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);

/** Connects, collects messages, and resolves with the close info and errors once the connection ends. */
async function run(url: string, o: WebSocketClientOptions = {}) {
  const c = client(url, o);
  const messages: unknown[] = [];
  const errors: Error[] = [];
  c.on("message", (m) => messages.push(m));
  c.on("error", (e) => errors.push(e));
  const closed = new Promise<CloseInfo>((resolve) => c.on("close", resolve));
  await c.connect();
  const info = await closed;
  return { messages, errors, info };
}

describe("against raw servers", () => {
  it("closes 1009 on a decompression bomb (10 MiB of zeros, maxPayload 1 MiB)", async () => {
    const bomb = deflate(Buffer.alloc(10 * MiB));
    const server = await rawDeflateServer("permessage-deflate", [frame(Opcode.Binary, bomb, { rsv1: true })]);
    const { errors, info, messages } = await run(server.url, { maxPayload: MiB });
    expect(messages).toEqual([]);
    expect(info.sent?.code).toBe(1009);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect((errors[0] as ProtocolError).code).toBe(ErrorCodes.PayloadTooBig);
  });

  it("closes 1007 with DecompressionFailed on a corrupt deflate stream", async () => {
    const server = await rawDeflateServer("permessage-deflate", [
      frame(Opcode.Text, deflate(Buffer.from("fine")), { rsv1: true }),
      frame(Opcode.Text, Uint8Array.of(0xff, 0xfe, 0xfd, 0xfc), { rsv1: true }),
    ]);
    const { errors, info, messages } = await run(server.url);
    expect(messages).toEqual(["fine"]);
    expect(info.sent?.code).toBe(1007);
    expect((errors[0] as ProtocolError).code).toBe(ErrorCodes.DecompressionFailed);
    expect((errors[0] as ProtocolError).closeCode).toBe(1007);
  });

  it("reads fragmented compressed messages between control frames, with context takeover", async () => {
    const a = Buffer.from(jsonMessage(3000, 1));
    const b = Buffer.from(jsonMessage(3000, 2));
    // One persistent compressor for both messages: the second references the first.
    const serverCodec = new ZlibCodec(DEFAULTS, true);
    const ca = serverCodec.compress(a);
    const cb = serverCodec.compress(b);
    const server = await rawDeflateServer("permessage-deflate", [
      frame(Opcode.Text, ca.subarray(0, 10), { fin: false, rsv1: true }),
      frame(Opcode.Ping, Buffer.from("p")),
      frame(Opcode.Continuation, ca.subarray(10, 11), { fin: false }),
      frame(Opcode.Continuation, ca.subarray(11), { fin: true }),
      frame(Opcode.Text, Buffer.from("plain, between two compressed messages")),
      frame(Opcode.Binary, cb.subarray(0, 1), { fin: false, rsv1: true }),
      frame(Opcode.Continuation, cb.subarray(1), { fin: true }),
      frame(Opcode.Close, Buffer.from([0x03, 0xe8])),
    ]);
    const { messages, errors, info } = await run(server.url, { binaryType: "buffer" });
    expect(errors).toEqual([]);
    expect(info.code).toBe(1000);
    expect(messages).toEqual([a.toString(), "plain, between two compressed messages", b]);
  });

  it("fails the handshake on an invalid permessage-deflate answer", async () => {
    const server = await rawDeflateServer("permessage-deflate; server_max_window_bits=7", []);
    const c = client(server.url);
    await expect(c.connect()).rejects.toMatchObject({ code: ErrorCodes.InvalidExtension });
  });
});
