import { describe, expect, it } from "vitest";
import {
  acceptKey,
  type ClientFrameHeader,
  FrameReader,
  negotiateDeflate,
  parseRequestHead,
  serverFrame,
  unmaskCopy,
  upgradeResponse,
} from "../src/wire.js";

/** A masked client frame, built independently of FrameReader. */
function clientFrame(opcode: number, payload: Uint8Array, mask = [0x12, 0x34, 0x56, 0x78]): Uint8Array {
  const n = payload.length;
  const ext =
    n < 126
      ? []
      : n < 0x10000
        ? [n >> 8, n & 0xff]
        : [0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const len7 = n < 126 ? n : n < 0x10000 ? 126 : 127;
  const head = [0x80 | opcode, 0x80 | len7, ...ext, ...mask];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  payload.forEach((b, i) => {
    out[head.length + i] = b ^ mask[i % 4]!;
  });
  return out;
}

/** Feeds `chunks` and returns each frame's opcode and unmasked payload. */
function readAll(chunks: Uint8Array[]): { opcode: number; payload: number[] }[] {
  const frames: { opcode: number; payload: number[] }[] = [];
  let payload: number[] = [];
  const reader = new FrameReader({
    frameStart: () => {
      payload = [];
    },
    payload: (segment, offset) => {
      expect(offset).toBe(payload.length);
      payload.push(...unmaskCopy(segment, currentMask, offset));
    },
    frameEnd: (header: ClientFrameHeader) => frames.push({ opcode: header.opcode, payload }),
  });
  const currentMask = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  for (const chunk of chunks) reader.push(chunk);
  return frames;
}

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

describe("acceptKey", () => {
  it("matches the example of RFC 6455 section 1.3", () => {
    expect(acceptKey("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
});

describe("upgradeResponse", () => {
  const head = (extra: string) =>
    `GET /recv?size=16 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n${extra}`;
  it("accepts Connection as a token list and answers with the accept key", () => {
    const request = parseRequestHead(
      head("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="),
    );
    expect(request.target).toBe("/recv?size=16");
    expect(upgradeResponse(request)).toContain("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  });
  it("rejects a key that is not 16 bytes of base64", () => {
    const request = parseRequestHead(head("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ="));
    expect(() => upgradeResponse(request)).toThrow("bad Sec-WebSocket-Key");
  });
  it("rejects another protocol version", () => {
    const request = parseRequestHead(
      head("Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="),
    );
    expect(() => upgradeResponse(request)).toThrow("version is not 13");
  });
});

describe("negotiateDeflate", () => {
  const defaults = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
  };
  it.each([
    // What ws, Tideway and undici offer by default: context takeover, 15-bit windows.
    ["permessage-deflate; client_max_window_bits", "permessage-deflate", defaults],
    ["permessage-deflate", "permessage-deflate", defaults],
    [
      "permessage-deflate; client_max_window_bits=10",
      "permessage-deflate; client_max_window_bits=10",
      defaults,
    ],
    [
      'permessage-deflate; server_max_window_bits="12"; server_no_context_takeover; client_no_context_takeover',
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12",
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 12 },
    ],
    // The first acceptable offer wins; an unacceptable one (zlib cannot compress with 8 bits) is skipped.
    [
      "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
      "permessage-deflate; server_max_window_bits=9",
      { ...defaults, serverMaxWindowBits: 9 },
    ],
  ])("accepts %j as %j", (offer, header, params) => {
    expect(negotiateDeflate(offer)).toEqual({ header, params });
  });

  it.each([
    undefined,
    "",
    "x-webkit-deflate-frame",
    "permessage-deflate; unknown_param",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=8",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_max_window_bits; client_max_window_bits",
  ])("declines %j", (offer) => {
    expect(negotiateDeflate(offer)).toBeUndefined();
  });

  it("answers the agreement in the 101 response", () => {
    const request = parseRequestHead(
      "GET /recv-deflate HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    );
    expect(upgradeResponse(request, "permessage-deflate")).toContain(
      "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n",
    );
    expect(upgradeResponse(request)).not.toContain("Sec-WebSocket-Extensions");
  });
});

describe("serverFrame", () => {
  it("sets RSV1 on a compressed frame", () => {
    expect([...serverFrame(1, bytes(3), true).subarray(0, 2)]).toEqual([0xc1, 3]);
  });

  it.each([
    [0, [0x82, 0]],
    [125, [0x82, 125]],
    [126, [0x82, 126, 0, 126]],
    [65535, [0x82, 126, 0xff, 0xff]],
    [65536, [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ])("uses the shortest length encoding for %i bytes", (n, header) => {
    const frame = serverFrame(2, bytes(n));
    expect([...frame.subarray(0, header.length)]).toEqual(header);
    expect(frame.length).toBe(header.length + n);
    expect(Buffer.compare(frame.subarray(header.length), bytes(n))).toBe(0);
  });
});

describe("FrameReader", () => {
  const stream = new Uint8Array([
    ...clientFrame(2, bytes(5)),
    ...clientFrame(1, bytes(0)),
    ...clientFrame(2, bytes(200)),
    ...clientFrame(8, bytes(2)),
  ]);
  const expected = [
    { opcode: 2, payload: [...bytes(5)] },
    { opcode: 1, payload: [] },
    { opcode: 2, payload: [...bytes(200)] },
    { opcode: 8, payload: [...bytes(2)] },
  ];

  it("reads frames fed whole", () => {
    expect(readAll([stream])).toEqual(expected);
  });

  it("reads frames fed byte by byte", () => {
    expect(readAll([...stream].map((b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it("reads frames split at every point", () => {
    for (let at = 0; at <= stream.length; at++) {
      expect(readAll([stream.subarray(0, at), stream.subarray(at)])).toEqual(expected);
    }
  });

  it("reads a 64-bit length", () => {
    const [frame] = readAll([clientFrame(2, bytes(70_000))]);
    expect(frame?.payload).toEqual([...bytes(70_000)]);
  });

  it("rejects an unmasked frame and reserved bits", () => {
    const sink = { frameStart() {}, payload() {}, frameEnd() {} };
    expect(() => new FrameReader(sink).push(Uint8Array.of(0x82, 0x00))).toThrow("not masked");
    expect(() => new FrameReader(sink).push(Uint8Array.of(0xc2, 0x80, 1, 2, 3, 4))).toThrow("reserved bits");
  });

  it("with permessage-deflate, accepts RSV1 on data frames only", () => {
    const sink = { frameStart() {}, payload() {}, frameEnd() {} };
    const headers: ClientFrameHeader[] = [];
    const reader = new FrameReader({ ...sink, frameStart: (h: ClientFrameHeader) => headers.push(h) }, true);
    reader.push(Uint8Array.of(0xc1, 0x80, 1, 2, 3, 4, 0xc2, 0x80, 1, 2, 3, 4, 0x81, 0x80, 1, 2, 3, 4));
    expect(headers.map((h) => [h.opcode, h.rsv1])).toEqual([
      [1, true],
      [2, true],
      [1, false],
    ]);
    for (const b0 of [0xc8, 0xc9, 0xc0, 0xa1, 0x91]) {
      expect(() => new FrameReader(sink, true).push(Uint8Array.of(b0, 0x80, 1, 2, 3, 4))).toThrow(
        "reserved bits",
      );
    }
  });
});
