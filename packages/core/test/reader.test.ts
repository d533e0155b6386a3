import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Opcode } from "../src/constants.js";
import type { MessageCodec } from "../src/deflate.js";
import { type ErrorCode, ErrorCodes, InvalidStateError, ProtocolError } from "../src/errors.js";
import type { WsEvent } from "../src/events.js";
import { encodeFrame } from "../src/frame.js";
import { MessageReader, type ReaderOptions } from "../src/reader.js";
import { defaultUtf8 } from "../src/utf8.js";

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const enc = (s: string) => new TextEncoder().encode(s);
/** Hex for short payloads; length and an FNV-1a hash for long ones (hex strings of 64 KiB make tests slow). */
const toHex = (b: Uint8Array): string => {
  if (b.length <= 256) return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return `${b.length} bytes, fnv1a ${(h >>> 0).toString(16)}`;
};
const KEY = hex("37 fa 21 3d");

type Options = Partial<ReaderOptions>;
const reader = (o: Options = {}) =>
  new MessageReader({ expectMasked: false, maxPayload: 2 ** 20, utf8: defaultUtf8, ...o });

/** A codec that leaves payloads as they are: enough to negotiate RSV1. */
const identityCodec: MessageCodec = { compress: (data) => data, decompress: (data) => data };

/** Asserts `r` holds no part of a frame: an empty pong fed next comes out whole, as the last event. */
function expectBetweenFrames(r: MessageReader, masked = false): void {
  const out: WsEvent[] = [];
  r.read(masked ? hex("8a 80 00 00 00 00") : hex("8a 00"), out);
  expect(out.at(-1)).toEqual({ type: "pong", data: new Uint8Array(0) });
}

/** Events with byte payloads as hex strings, so that views and copies compare by content. */
type Plain = { type: string; data?: string; code?: number; reason?: string };
function plain(events: WsEvent[]): Plain[] {
  return events.map((e) => {
    if (e.type === "binary" || e.type === "utf8" || e.type === "ping" || e.type === "pong") {
      return { type: e.type, data: toHex(e.data) };
    }
    return { ...e } as Plain;
  });
}

/**
 * Feeds `pieces` (copies: masked input is unmasked in place) to a fresh reader; returns the events.
 * With a `limit`, each read is limited and continued with empty chunks while it stopped.
 */
function feed(pieces: Uint8Array[], o: Options = {}, limit?: number): Plain[] {
  const r = reader(o);
  const out: WsEvent[] = [];
  for (const piece of pieces) {
    r.read(piece.slice(), out, limit);
    while (r.stopped) r.read(new Uint8Array(0), out, limit);
  }
  expectBetweenFrames(r, o.expectMasked);
  return plain(out);
}

/** Split points to try: all of them for small inputs; for large ones, around every header and a stride. */
function splitPoints(length: number): number[] {
  if (length <= 600) return Array.from({ length: length + 1 }, (_, i) => i);
  const points = new Set<number>();
  for (let i = 0; i <= 20; i++) points.add(i).add(length - i);
  for (let i = 0; i < length; i += 997) points.add(i);
  return [...points].sort((a, b) => a - b);
}

/**
 * Feeds `bytes` whole, byte by byte, at every split point into two pieces, and (for small inputs) at
 * every pair of split points into three pieces; every way must give `expected`.
 */
function feedAllSplits(bytes: Uint8Array, expected: Plain[], o: Options = {}): void {
  expect(feed([bytes], o)).toEqual(expected);
  if (bytes.length <= 70_000) {
    expect(
      feed(
        Array.from(bytes, (b) => Uint8Array.of(b)),
        o,
      ),
    ).toEqual(expected);
  }
  const points = splitPoints(bytes.length);
  for (const i of points) expect(feed([bytes.subarray(0, i), bytes.subarray(i)], o)).toEqual(expected);
  if (bytes.length <= 40) {
    for (const i of points) {
      for (const j of points) {
        if (j < i) continue;
        expect(feed([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)], o)).toEqual(expected);
      }
    }
  }
}

/** Feeds pieces until a throw; checks it is a ProtocolError with `code` and `closeCode`; returns the events before. */
function expectFailure(pieces: Uint8Array[], code: ErrorCode, closeCode: number, o: Options = {}) {
  const r = reader(o);
  const out: WsEvent[] = [];
  let error: unknown;
  let failedAt = -1;
  for (let i = 0; i < pieces.length && error === undefined; i++) {
    try {
      r.read(pieces[i]!.slice(), out);
    } catch (e) {
      error = e;
      failedAt = i;
    }
  }
  expect(error).toBeInstanceOf(ProtocolError);
  expect({ code: (error as ProtocolError).code, closeCode: (error as ProtocolError).closeCode }).toEqual({
    code,
    closeCode,
  });
  // The reader is dead now.
  expect(() => r.read(Uint8Array.of(0x81, 0x00), [])).toThrow(InvalidStateError);
  return { events: plain(out), failedAt };
}

/** expectFailure fed whole, byte by byte and at every split point. */
function expectFailureAllSplits(
  bytes: Uint8Array,
  code: ErrorCode,
  closeCode: number,
  o: Options = {},
): void {
  expectFailure([bytes], code, closeCode, o);
  expectFailure(
    Array.from(bytes, (b) => Uint8Array.of(b)),
    code,
    closeCode,
    o,
  );
  for (const i of splitPoints(bytes.length)) {
    expectFailure([bytes.subarray(0, i), bytes.subarray(i)], code, closeCode, o);
  }
}

const helloHex = toHex(enc("Hello"));

describe("MessageReader: the RFC 6455 section 5.7 examples, fed whole, byte by byte and at every split", () => {
  it("a single-frame unmasked text message", () => {
    feedAllSplits(hex("81 05 48 65 6c 6c 6f"), [{ type: "text", data: "Hello" }]);
  });
  it("a single-frame masked text message (server role)", () => {
    feedAllSplits(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), [{ type: "text", data: "Hello" }], {
      expectMasked: true,
    });
  });
  it("a fragmented unmasked text message", () => {
    feedAllSplits(hex("01 03 48 65 6c 80 02 6c 6f"), [{ type: "text", data: "Hello" }]);
  });
  it("an unmasked ping", () => {
    feedAllSplits(hex("89 05 48 65 6c 6c 6f"), [{ type: "ping", data: helloHex }]);
  });
  it("a masked pong (server role)", () => {
    feedAllSplits(hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), [{ type: "pong", data: helloHex }], {
      expectMasked: true,
    });
  });
  it("256 bytes binary in one unmasked frame", () => {
    const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
    feedAllSplits(cat(hex("82 7e 01 00"), payload), [{ type: "binary", data: toHex(payload) }]);
  });
  it("64 KiB binary in one unmasked frame", () => {
    const payload = Uint8Array.from({ length: 65536 }, (_, i) => i * 7);
    feedAllSplits(cat(hex("82 7f 00 00 00 00 00 01 00 00"), payload), [
      { type: "binary", data: toHex(payload) },
    ]);
  });
  it("64 KiB masked binary, unmasked across chunk boundaries (server role)", () => {
    const payload = Uint8Array.from({ length: 65536 }, (_, i) => i * 13);
    const frame = encodeFrame(Opcode.Binary, payload, { maskKey: KEY });
    feedAllSplits(frame, [{ type: "binary", data: toHex(payload) }], {
      expectMasked: true,
    });
  });
});

describe("MessageReader: messages and control frames", () => {
  it("interleaves ping, pong and close between fragments of a message", () => {
    const bytes = cat(
      encodeFrame(Opcode.Binary, hex("01 02"), { fin: false }),
      encodeFrame(Opcode.Ping, enc("p")),
      encodeFrame(Opcode.Continuation, new Uint8Array(0), { fin: false }),
      encodeFrame(Opcode.Pong, new Uint8Array(0)),
      encodeFrame(Opcode.Continuation, hex("03")),
      encodeFrame(Opcode.Text, enc("é"), { fin: false }),
      encodeFrame(Opcode.Close, hex("03 e8 62 79 65")),
      encodeFrame(Opcode.Continuation, enc("!")),
    );
    feedAllSplits(bytes, [
      { type: "ping", data: "70" },
      { type: "pong", data: "" },
      { type: "binary", data: "010203" },
      { type: "close", code: 1000, reason: "bye" },
      { type: "text", data: "é!" },
    ]);
  });

  it("reads empty messages, an empty close (1005) and an empty fragmented message", () => {
    const bytes = cat(
      hex("81 00 82 00"),
      encodeFrame(Opcode.Text, new Uint8Array(0), { fin: false }),
      encodeFrame(Opcode.Continuation, new Uint8Array(0)),
      hex("88 00"),
    );
    feedAllSplits(bytes, [
      { type: "text", data: "" },
      { type: "binary", data: "" },
      { type: "text", data: "" },
      { type: "close", code: 1005, reason: "" },
    ]);
  });

  it("decodes a text code point split across fragments", () => {
    const bytes = cat(
      encodeFrame(Opcode.Text, hex("f0 9f"), { fin: false }),
      encodeFrame(Opcode.Continuation, hex("98"), { fin: false }),
      encodeFrame(Opcode.Continuation, hex("80")),
    );
    feedAllSplits(bytes, [{ type: "text", data: "😀" }]);
  });

  it("gives binary data as a view of the input chunk when the payload lies in one chunk (no copy)", () => {
    const r = reader();
    const out: WsEvent[] = [];
    const chunk = hex("82 03 0a 0b 0c 82 02 0d 0e");
    r.read(chunk, out);
    expect(out).toHaveLength(2);
    for (const e of out) expect(e.type === "binary" && e.data.buffer).toBe(chunk.buffer);
  });

  it("unmasks in place in the input chunk (server role)", () => {
    const r = reader({ expectMasked: true });
    const out: WsEvent[] = [];
    const chunk = hex("82 85 37 fa 21 3d 7f 9f 4d 51 58");
    r.read(chunk, out);
    expect(chunk.subarray(6)).toEqual(enc("Hello"));
  });

  it("accepts RSV1 on the first frame of a data message when a codec was negotiated", () => {
    feedAllSplits(hex("c1 02 68 69"), [{ type: "text", data: "hi" }], { codec: identityCodec });
  });

  it("accepts a message of exactly maxPayload bytes, fragmented", () => {
    const bytes = cat(
      encodeFrame(Opcode.Binary, hex("01 02 03"), { fin: false }),
      encodeFrame(Opcode.Continuation, hex("04")),
    );
    feedAllSplits(bytes, [{ type: "binary", data: "01020304" }], { maxPayload: 4 });
  });
});

describe("MessageReader: text as bytes (decodeText: false)", () => {
  const o = { decodeText: false };
  it("reports text messages as utf8 events with their bytes: one frame, fragments, compressed", () => {
    const hello = toHex(enc("héllo"));
    const spaced = hello.replace(/(..)(?!$)/g, "$1 ");
    feedAllSplits(hex(`81 06 ${spaced}`), [{ type: "utf8", data: hello }], o);
    feedAllSplits(hex("01 02 68 c3 80 04 a9 6c 6c 6f"), [{ type: "utf8", data: hello }], o);
    feedAllSplits(hex(`c1 06 ${spaced}`), [{ type: "utf8", data: hello }], { ...o, codec: identityCodec });
  });

  it("leaves binary and control frames as they are, and decodes text by default", () => {
    expect(feed([hex("82 01 ff 89 01 70 81 01 61")], o)).toEqual([
      { type: "binary", data: "ff" },
      { type: "ping", data: "70" },
      { type: "utf8", data: "61" },
    ]);
    expect(feed([hex("81 01 61")])).toEqual([{ type: "text", data: "a" }]);
  });
});

describe("MessageReader: random messages round-trip through encodeFrame and random chunking", () => {
  const message = fc.oneof(
    fc.record({ type: fc.constant("text" as const), text: fc.string({ unit: "binary", maxLength: 300 }) }),
    fc.record({ type: fc.constant("binary" as const), bytes: fc.uint8Array({ maxLength: 700 }) }),
    fc.record({ type: fc.constant("ping" as const), bytes: fc.uint8Array({ maxLength: 125 }) }),
  );
  const scenario = fc.record({
    messages: fc.array(
      fc.record({ message, cuts: fc.array(fc.nat(), { maxLength: 4 }), pingAt: fc.nat(5) }),
      {
        maxLength: 12,
      },
    ),
    chunkCuts: fc.array(fc.nat(), { maxLength: 20 }),
    masked: fc.boolean(),
    key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    limit: fc.option(fc.nat(1500), { nil: undefined }),
  });

  it("gives back the same events, with or without a limit on each read", () => {
    fc.assert(
      fc.property(scenario, ({ messages, chunkCuts, masked, key, limit }) => {
        const maskKey = masked ? key : undefined;
        const frames: Uint8Array[] = [];
        const expected: Plain[] = [];
        for (const { message: m, cuts, pingAt } of messages) {
          if (m.type === "ping") {
            frames.push(encodeFrame(Opcode.Ping, m.bytes, { maskKey }));
            expected.push({ type: "ping", data: toHex(m.bytes) });
            continue;
          }
          const payload = m.type === "text" ? enc(m.text) : m.bytes;
          const points = [...new Set(cuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b);
          const ends = [...points, payload.length];
          let start = 0;
          const pings: Plain[] = [];
          ends.forEach((end, i) => {
            const opcode = i === 0 ? (m.type === "text" ? Opcode.Text : Opcode.Binary) : Opcode.Continuation;
            frames.push(
              encodeFrame(opcode, payload.subarray(start, end), { fin: i === ends.length - 1, maskKey }),
            );
            if (i === pingAt % ends.length && i < ends.length - 1) {
              frames.push(encodeFrame(Opcode.Ping, hex("2a"), { maskKey }));
              pings.push({ type: "ping", data: "2a" });
            }
            start = end;
          });
          expected.push(...pings);
          expected.push(
            m.type === "text" ? { type: "text", data: m.text } : { type: "binary", data: toHex(m.bytes) },
          );
        }
        const stream = cat(...frames);
        const points = [...new Set(chunkCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const pieces: Uint8Array[] = [];
        let start = 0;
        for (const end of [...points, stream.length]) {
          pieces.push(stream.subarray(start, end));
          start = end;
        }
        expect(feed(pieces, { expectMasked: masked }, limit)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe("MessageReader: malformed input fails with the right error and close code", () => {
  const P = 1002;
  const cases: Array<[string, string, ErrorCode, number, Options?]> = [
    ...[3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf].map((op): [string, string, ErrorCode, number] => [
      `reserved opcode ${op}`,
      (0x80 | op).toString(16) + " 00",
      ErrorCodes.InvalidOpcode,
      P,
    ]),
    ["RSV1 without an extension", "c1 00", ErrorCodes.UnexpectedRsvBits, P],
    ["RSV2", "a1 00", ErrorCodes.UnexpectedRsvBits, P, { codec: identityCodec }],
    ["RSV3", "91 00", ErrorCodes.UnexpectedRsvBits, P, { codec: identityCodec }],
    ["RSV1 on a ping", "c9 00", ErrorCodes.UnexpectedRsvBits, P, { codec: identityCodec }],
    ["RSV1 on a continuation", "01 00 c0 00", ErrorCodes.UnexpectedRsvBits, P, { codec: identityCodec }],
    ["a 126-byte ping (16-bit form)", "89 7e 00 7e", ErrorCodes.ControlFrameTooBig, P],
    ["a 126-byte close (7-bit 126 marker)", "88 7e", ErrorCodes.ControlFrameTooBig, P],
    ["a pong with a 64-bit length", "8a 7f", ErrorCodes.ControlFrameTooBig, P],
    ["a fragmented ping", "09 00", ErrorCodes.FragmentedControlFrame, P],
    ["a fragmented close", "08 00", ErrorCodes.FragmentedControlFrame, P],
    ["a continuation without a message", "80 00", ErrorCodes.UnexpectedContinuation, P],
    ["a continuation after a complete message", "81 00 80 00", ErrorCodes.UnexpectedContinuation, P],
    ["a text frame inside a fragmented message", "01 00 81 00", ErrorCodes.ExpectedContinuation, P],
    ["a binary frame inside a fragmented message", "02 00 89 00 02 00", ErrorCodes.ExpectedContinuation, P],
    ["a masked frame to a client", "81 80 00 00 00 00", ErrorCodes.MaskedFrame, P],
    ["an unmasked frame to a server", "81 00", ErrorCodes.UnmaskedFrame, P, { expectMasked: true }],
    [
      "a 64-bit length with the top bit set",
      "82 7f 80 00 00 00 00 00 00 00",
      ErrorCodes.InvalidPayloadLength,
      P,
    ],
    ["a 64-bit length above 2^53 - 1", "82 7f 00 20 00 00 00 00 00 00", ErrorCodes.InvalidPayloadLength, P],
    [
      "a frame over maxPayload, from its header alone",
      "82 0b",
      ErrorCodes.PayloadTooBig,
      1009,
      { maxPayload: 10 },
    ],
    ["a 16-bit frame over maxPayload", "82 7e 01 00", ErrorCodes.PayloadTooBig, 1009, { maxPayload: 255 }],
    [
      "a fragmented message whose sum goes over maxPayload",
      "02 06 00 00 00 00 00 00 80 05",
      ErrorCodes.PayloadTooBig,
      1009,
      { maxPayload: 10 },
    ],
    [
      "a message in more frames than maxFragments, from the header of the frame too many",
      "01 00 00 00 80 00",
      ErrorCodes.TooManyFragments,
      1009,
      { maxFragments: 2 },
    ],
    ["a 1-byte close body", "88 01 03", ErrorCodes.InvalidClosePayload, P],
    ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map(
      (code): [string, string, ErrorCode, number] => [
        `close code ${code}`,
        `88 02 ${(code >> 8).toString(16)} ${(code & 0xff).toString(16)}`,
        ErrorCodes.InvalidCloseCode,
        P,
      ],
    ),
    ["a close reason that is not UTF-8", "88 04 03 e8 c3 28", ErrorCodes.InvalidUtf8, 1007],
    ["invalid UTF-8 in a text frame", "81 02 c3 28", ErrorCodes.InvalidUtf8, 1007],
    ["a surrogate in a fragment", "01 03 ed a0 80 80 00", ErrorCodes.InvalidUtf8, 1007],
    ["a text message ending inside a code point", "01 01 e2 80 01 82", ErrorCodes.InvalidUtf8, 1007],
  ];

  it.each(cases)("%s", (_name, bytes, code, closeCode, o = {}) => {
    expectFailureAllSplits(hex(bytes), code, closeCode, o);
  });

  it.each(cases.filter(([, , code]) => code === ErrorCodes.InvalidUtf8))(
    "%s, with decodeText: false",
    (_name, bytes, code, closeCode) => {
      expectFailureAllSplits(hex(bytes), code, closeCode, { decodeText: false });
    },
  );

  it("says what went wrong in the message, with the code and close code", () => {
    const rows: Array<[string, Options, ErrorCode, number, string]> = [
      ["83 00", {}, ErrorCodes.InvalidOpcode, 1002, "Invalid opcode: 3"],
      [
        "82 7e 01 00",
        { maxPayload: 255 },
        ErrorCodes.PayloadTooBig,
        1009,
        "Message too big: 256 bytes (the limit is 255)",
      ],
      [
        "81 80 00 00 00 00",
        {},
        ErrorCodes.MaskedFrame,
        1002,
        "Invalid frame: the server sent a masked frame",
      ],
      ["88 02 03 ec", {}, ErrorCodes.InvalidCloseCode, 1002, "Invalid close code: 1004"],
      ["81 01 ff", {}, ErrorCodes.InvalidUtf8, 1007, "Invalid UTF-8 in a text message"],
    ];
    for (const [bytes, o, code, closeCode, message] of rows) {
      let error: unknown;
      try {
        reader(o).read(hex(bytes), []);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ name: "ProtocolError", code, closeCode, message });
    }
  });

  it("keeps events completed before the bad byte", () => {
    const { events } = expectFailure([hex("81 02 68 69 89 00 83 00")], ErrorCodes.InvalidOpcode, 1002);
    expect(events).toEqual([
      { type: "text", data: "hi" },
      { type: "ping", data: "" },
    ]);
  });

  it("fails on the header of a 2^40-byte frame without waiting for its payload", () => {
    const { failedAt } = expectFailure(
      [hex("82 7f 00 00 01 00 00 00 00 00"), new Uint8Array(1000)],
      ErrorCodes.PayloadTooBig,
      1009,
      { maxPayload: 100 * 2 ** 20 },
    );
    expect(failedAt).toBe(0);
  });

  it("fails on invalid UTF-8 at every position of a single-frame text message", () => {
    const valid = enc("aé€😀z");
    for (let i = 0; i < valid.length; i++) {
      const bad = valid.slice();
      bad[i] = 0xff;
      expectFailureAllSplits(encodeFrame(Opcode.Text, bad), ErrorCodes.InvalidUtf8, 1007);
    }
  });

  it("fails on the fragment that brings the bad byte, for every position and fragment split", () => {
    const valid = enc("aé€😀z");
    for (let bad = 0; bad < valid.length; bad++) {
      const payload = valid.slice();
      payload[bad] = 0xff;
      for (let cut = 0; cut <= payload.length; cut++) {
        const first = encodeFrame(Opcode.Text, payload.subarray(0, cut), { fin: false });
        const second = encodeFrame(Opcode.Continuation, payload.subarray(cut));
        const { failedAt } = expectFailure([first, second], ErrorCodes.InvalidUtf8, 1007);
        expect(failedAt).toBe(bad < cut ? 0 : 1);
      }
    }
  });

  it("fails on a fragment ending in an impossible prefix (ED A0, F4 90, F5) before the message ends", () => {
    for (const prefix of ["ed a0", "f4 90", "f5", "c0"]) {
      const first = encodeFrame(Opcode.Text, hex(`61 ${prefix}`), { fin: false });
      const { failedAt } = expectFailure(
        [first, encodeFrame(Opcode.Continuation, hex("80"))],
        ErrorCodes.InvalidUtf8,
        1007,
      );
      expect(failedAt).toBe(0);
    }
  });

  it("fails a masked frame with a reserved opcode in the server role too", () => {
    expectFailureAllSplits(hex("83 80 00 00 00 00"), ErrorCodes.InvalidOpcode, 1002, { expectMasked: true });
  });
});

describe("MessageReader: UTF-8 fails fast inside a frame that arrives in pieces (Autobahn 6.4.3/6.4.4)", () => {
  const invalidAt = (length: number, at: number) => {
    const payload = new Uint8Array(length).fill(0x61);
    payload[at] = 0xff;
    return encodeFrame(Opcode.Text, payload);
  };

  it("fails on the read that brings the bad byte, long before the frame is complete", () => {
    const frame = invalidAt(100_000, 20);
    const r = reader();
    const out: WsEvent[] = [];
    r.read(frame.subarray(0, 15), out); // header + 11 valid bytes
    expect(() => r.read(frame.subarray(15, 40), out)).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidUtf8, closeCode: 1007 }),
    );
  });

  it("fails on the continuation fragment that brings the bad byte, before that fragment is complete", () => {
    const first = encodeFrame(Opcode.Text, enc("fine"), { fin: false });
    const second = invalidAt(50_000, 100);
    second[0] = 0x80; // the same frame as a final continuation frame
    const r = reader();
    const out: WsEvent[] = [];
    r.read(cat(first, second.subarray(0, 50)), out);
    expect(() => r.read(second.subarray(50, 200), out)).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidUtf8 }),
    );
  });

  it("accepts a valid frame arriving in pieces, with code points split across them", () => {
    const text = "añ€🌊".repeat(2_000);
    const frame = encodeFrame(Opcode.Text, enc(text));
    for (const size of [1, 3, 7, 1000]) {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < frame.length; i += size) pieces.push(frame.subarray(i, i + size));
      expect(feed(pieces)).toEqual([{ type: "text", data: text }]);
    }
  });

  it("still fails a frame that ends inside a code point", () => {
    const frame = encodeFrame(Opcode.Text, cat(enc("a".repeat(300)), hex("f0 9f 8c")));
    expectFailure([frame.subarray(0, 100), frame.subarray(100)], ErrorCodes.InvalidUtf8, 1007);
  });
});

describe("headers read in place, and the control frame count", () => {
  it("parses runs of small and 16-bit-length frames in one chunk at every split point", () => {
    // Headers whole inside a chunk take the in-place path; a split inside one takes #byte(): both agree.
    const payload300 = new Uint8Array(300).fill(7);
    const bytes = cat(
      encodeFrame(Opcode.Binary, hex("01")),
      encodeFrame(Opcode.Binary, payload300),
      encodeFrame(Opcode.Ping, enc("x")),
      encodeFrame(Opcode.Binary, new Uint8Array(0)),
      encodeFrame(Opcode.Binary, payload300),
    );
    const big = toHex(payload300);
    feedAllSplits(bytes, [
      { type: "binary", data: "01" },
      { type: "binary", data: big },
      { type: "ping", data: "78" },
      { type: "binary", data: "" },
      { type: "binary", data: big },
    ]);
  });

  it("counts ping, pong and close frames, not data frames", () => {
    const r = reader();
    const out: WsEvent[] = [];
    r.read(cat(encodeFrame(Opcode.Binary, hex("01")), encodeFrame(Opcode.Text, enc("a"))), out);
    expect(r.controlFrames).toBe(0);
    r.read(cat(encodeFrame(Opcode.Ping, enc("p")), encodeFrame(Opcode.Binary, hex("02"))), out);
    expect(r.controlFrames).toBe(1);
    r.read(cat(encodeFrame(Opcode.Pong, enc("q")), encodeFrame(Opcode.Close, hex("03 e8"))), out);
    expect(r.controlFrames).toBe(3);
  });
});

describe("MessageReader: whole frames in one chunk (the fast path) check what the states check", () => {
  const run = (...frames: Uint8Array[]) => cat(encodeFrame(Opcode.Binary, hex("01")), ...frames);

  it("fails a frame over maxPayload whose payload is already in the chunk", () => {
    const bytes = run(encodeFrame(Opcode.Binary, new Uint8Array(11)));
    expectFailureAllSplits(bytes, ErrorCodes.PayloadTooBig, 1009, { maxPayload: 10 });
    const sixteen = run(encodeFrame(Opcode.Text, enc("x".repeat(300))));
    expectFailureAllSplits(sixteen, ErrorCodes.PayloadTooBig, 1009, { maxPayload: 299 });
  });

  it("keeps the messages before a masked frame, a bad opcode, RSV bits or invalid UTF-8, then fails", () => {
    const rows: Array<[Uint8Array, ErrorCode, number]> = [
      [hex("81 80 00 00 00 00"), ErrorCodes.MaskedFrame, 1002],
      [hex("83 00"), ErrorCodes.InvalidOpcode, 1002],
      [hex("c2 00"), ErrorCodes.UnexpectedRsvBits, 1002],
      [hex("80 00"), ErrorCodes.UnexpectedContinuation, 1002],
      [hex("81 02 c3 28"), ErrorCodes.InvalidUtf8, 1007],
    ];
    for (const [bad, code, closeCode] of rows) {
      const bytes = cat(
        encodeFrame(Opcode.Binary, hex("01")),
        encodeFrame(Opcode.Text, enc("é")),
        bad,
        encodeFrame(Opcode.Binary, hex("02")),
      );
      const { events } = expectFailure([bytes], code, closeCode);
      expect(events).toEqual([
        { type: "binary", data: "01" },
        { type: "text", data: "é" },
      ]);
    }
  });

  it("leaves a data frame inside a fragmented message to the states, which reject it", () => {
    const bytes = cat(
      encodeFrame(Opcode.Text, enc("a"), { fin: false }),
      encodeFrame(Opcode.Binary, hex("01")),
    );
    expectFailureAllSplits(bytes, ErrorCodes.ExpectedContinuation, 1002);
  });

  it("gives views of the chunk's own class: plain views for a Uint8Array, subclass views otherwise", () => {
    class Chunk extends Uint8Array {}
    const bytes = run(encodeFrame(Opcode.Binary, new Uint8Array(200).fill(9)));
    for (const chunk of [Uint8Array.from(bytes), Chunk.from(bytes)]) {
      const out: WsEvent[] = [];
      reader().read(chunk, out);
      expect(out).toHaveLength(2);
      for (const e of out) {
        if (e.type !== "binary") throw new Error(e.type);
        expect(e.data.buffer).toBe(chunk.buffer);
        expect(e.data.constructor).toBe(chunk.constructor);
      }
      expect(plain(out)).toEqual([
        { type: "binary", data: "01" },
        { type: "binary", data: toHex(new Uint8Array(200).fill(9)) },
      ]);
    }
  });
});

describe("MessageReader: large payloads that span many reads", () => {
  it("a 1 MiB binary message fed in 64 KiB chunks (frame header unaligned) comes out byte-identical", () => {
    const payload = new Uint8Array(2 ** 20).map((_, i) => (i * 2654435761) >>> 24);
    const frame = encodeFrame(Opcode.Binary, payload);
    for (const size of [65536, 65536 - 3, 1000]) {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < frame.length; i += size) pieces.push(frame.slice(i, i + size));
      const out: WsEvent[] = [];
      const r = reader();
      for (const piece of pieces) r.read(piece, out);
      expect(out).toHaveLength(1);
      const data = (out[0] as { data: Uint8Array }).data;
      expect(data.length).toBe(payload.length);
      expect(Buffer.compare(Buffer.from(data), Buffer.from(payload))).toBe(0);
    }
  });

  it("two large messages back to back in pieces, with a ping between them, keep their order and bytes", () => {
    const a = new Uint8Array(200_000).fill(1);
    const b = new Uint8Array(150_000).fill(2);
    const stream = cat(
      encodeFrame(Opcode.Binary, a),
      encodeFrame(Opcode.Ping, enc("p")),
      encodeFrame(Opcode.Binary, b),
    );
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += 4099) pieces.push(stream.slice(i, i + 4099));
    expect(feed(pieces)).toEqual(
      plain([
        { type: "binary", data: a },
        { type: "ping", data: enc("p") },
        { type: "binary", data: b },
      ]),
    );
  });
});

describe("MessageReader: payload read in place (payloadRegion, for Protocol#receiveBuffer)", () => {
  const bytesOf = (n: number, seed: number) =>
    new Uint8Array(n).map((_, i) => ((i + seed) * 2654435761) >>> 24);
  /** Text of `n` bytes with 2-, 3- and 4-byte code points, so that reads split code points. */
  const textOf = (n: number) => "aé€😀".repeat(Math.ceil(n / 10)).slice(0, Math.ceil(n / 2.5));

  /**
   * Plays a transport that reads straight into the region the reader offers (`minimum` bytes or
   * more to come), as the kernel would: the first read takes `first` bytes, then at most `size`
   * bytes per read. Returns the events, and how many bytes went in place.
   */
  function feedInPlace(stream: Uint8Array, first: number, size: number, minimum = 1, o: Options = {}) {
    const r = reader(o);
    const out: WsEvent[] = [];
    let pos = 0;
    let inPlace = 0;
    let want = first;
    while (pos < stream.length) {
      const region = r.payloadRegion(minimum);
      const n = Math.min(want, stream.length - pos, region?.length ?? Number.POSITIVE_INFINITY);
      if (region !== undefined && n > 0) {
        region.set(stream.subarray(pos, pos + n));
        r.read(region.subarray(0, n), out);
        inPlace += n;
      } else {
        r.read(stream.slice(pos, pos + n), out);
      }
      pos += n;
      want = size;
    }
    const events = plain(out);
    expectBetweenFrames(r);
    return { events, inPlace };
  }

  const big = bytesOf(70_000, 1);
  const text = textOf(40_000);
  const parts = [bytesOf(30_000, 2), bytesOf(20_000, 3)];
  const stream = cat(
    encodeFrame(Opcode.Text, enc(text)),
    encodeFrame(Opcode.Ping, enc("p")),
    encodeFrame(Opcode.Binary, big),
    encodeFrame(Opcode.Binary, hex("01 02 03")),
    encodeFrame(Opcode.Binary, parts[0]!, { fin: false }),
    encodeFrame(Opcode.Pong, enc("q")),
    encodeFrame(Opcode.Continuation, parts[1]!),
    encodeFrame(Opcode.Text, enc("é".repeat(9000)), { fin: false }),
    encodeFrame(Opcode.Continuation, enc("😀".repeat(5000))),
    encodeFrame(Opcode.Close, cat(hex("03 e8"), enc("bye"))),
  );
  const expected = feed([stream]);

  it("gives the same events as reads that are copied, for every first split and read size", () => {
    expect(expected.map((e) => e.type)).toEqual([
      "text",
      "ping",
      "binary",
      "binary",
      "pong",
      "binary",
      "text",
      "close",
    ]);
    for (const size of [997, 16_384, 65_536, 1_000_000]) {
      for (const first of splitPoints(stream.length).filter((p) => p > 0)) {
        const { events, inPlace } = feedInPlace(stream, first, size);
        expect(events).toEqual(expected);
        if (size === 997 && first < 1000) expect(inPlace).toBeGreaterThan(30_000); // the first text frame
      }
    }
  });

  it("gives the same events byte by byte, and with the 16 KiB minimum of the protocol", () => {
    expect(feedInPlace(stream, 1, 1).events).toEqual(expected);
    expect(feedInPlace(stream, 5000, 5000, 16 * 1024).events).toEqual(expected);
  });

  it("counts the bytes in place without copying: the message is the region's own buffer", () => {
    const frame = encodeFrame(Opcode.Binary, big);
    const r = reader();
    const out: WsEvent[] = [];
    r.read(frame.slice(0, 100), out);
    const region = r.payloadRegion(16 * 1024)!;
    // The rest of the payload, exactly: a read into it never takes bytes of the next frame.
    expect(region.length).toBe(frame.length - 100);
    region.set(frame.subarray(100));
    r.read(region, out);
    expect(out).toHaveLength(1);
    const data = (out[0] as { data: Uint8Array }).data;
    expect(data.buffer).toBe(region.buffer);
    expect(toHex(data)).toBe(toHex(big));
  });

  it("offers nothing between frames, for control frames, small rests, or masked frames (server role)", () => {
    const r = reader();
    expect(r.payloadRegion(1)).toBeUndefined();
    r.read(encodeFrame(Opcode.Binary, big).slice(0, 60_000), []);
    expect(r.payloadRegion(10_000)).toBeDefined();
    expect(r.payloadRegion(10_011)).toBeUndefined(); // 10,010 bytes to come
    const server = reader({ expectMasked: true });
    server.read(encodeFrame(Opcode.Binary, big, { maskKey: KEY }).slice(0, 100), []);
    expect(server.payloadRegion(1)).toBeUndefined();
    const pinged = reader();
    pinged.read(encodeFrame(Opcode.Ping, bytesOf(125, 0)).slice(0, 10), []);
    expect(pinged.payloadRegion(1)).toBeUndefined();
  });

  it("allocates at the header up to 1 MiB; beyond, once 1/16 of the payload has arrived", () => {
    const sizes: number[] = [];
    const allocate = (n: number) => {
      sizes.push(n);
      return new Uint8Array(n);
    };
    const r = reader({ allocate, maxPayload: 2 ** 22 });
    r.read(hex("82 7f 00 00 00 00 00 10 00 00"), []); // 1 MiB announced, nothing sent
    expect(r.payloadRegion(1)?.length).toBe(2 ** 20);
    const huge = reader({ allocate, maxPayload: 2 ** 22 });
    const header = hex("82 7f 00 00 00 00 00 20 00 00"); // 2 MiB
    huge.read(header, []);
    expect(huge.payloadRegion(1)).toBeUndefined();
    huge.read(new Uint8Array(2 ** 17 - 1), []);
    expect(huge.payloadRegion(1)).toBeUndefined();
    huge.read(new Uint8Array(1), []); // 1/16 is here: #readPayload allocates and copies
    expect(huge.payloadRegion(1)?.length).toBe(2 ** 21 - 2 ** 17);
    expect(sizes).toEqual([2 ** 20, 2 ** 21]);
  });

  it("still fails a frame over maxPayload at its header, and accepts one of exactly maxPayload", () => {
    const frame = encodeFrame(Opcode.Binary, big);
    expect(feedInPlace(frame, 20, 65_536, 1, { maxPayload: big.length }).events).toEqual(
      plain([{ type: "binary", data: big }]),
    );
    const r = reader({ maxPayload: big.length - 1 });
    expect(() => r.read(frame.slice(0, 20), [])).toThrow(ProtocolError);
    expect(() => r.payloadRegion(1)).not.toThrow();
    expect(r.payloadRegion(1)).toBeUndefined();
  });

  it("fails on the in-place read that brings invalid UTF-8, before the frame is complete", () => {
    const payload = enc("é".repeat(20_000));
    payload[25_000] = 0xff;
    const frame = encodeFrame(Opcode.Text, payload);
    const r = reader();
    r.read(frame.slice(0, 1000), []);
    const region = r.payloadRegion(1)!;
    region.set(frame.subarray(1000, 20_000));
    r.read(region.subarray(0, 19_000), []);
    region.set(frame.subarray(20_000, 30_000), 19_000);
    let error: unknown;
    try {
      r.read(region.subarray(19_000, 29_000), []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe(ErrorCodes.InvalidUtf8);
    expect((error as ProtocolError).closeCode).toBe(1007);
  });

  it("copies a chunk that is not where the region starts, even one aliasing the region's buffer", () => {
    const frame = encodeFrame(Opcode.Binary, big);
    const r = reader();
    const out: WsEvent[] = [];
    r.read(frame.slice(0, 100), out);
    const region = r.payloadRegion(1)!;
    // A view into the message's buffer one byte further: copied into place, not counted in place.
    const elsewhere = new Uint8Array(region.buffer, region.byteOffset + 1, 50);
    elsewhere.set(frame.subarray(100, 150));
    r.read(elsewhere, out);
    r.read(frame.slice(150), out);
    expect(plain(out)).toEqual(plain([{ type: "binary", data: big }]));
  });
});

describe("MessageReader: fragments are copied together as they arrive, up to maxFragments", () => {
  /** One message as `count` frames of `size` bytes each (byte i is i % 251), opcode `opcode`. */
  function fragmented(
    opcode: number,
    count: number,
    size: number,
  ): { wire: Uint8Array; payload: Uint8Array } {
    const payload = Uint8Array.from({ length: count * size }, (_, i) => i % 251);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const part = payload.subarray(i * size, (i + 1) * size);
      frames.push(encodeFrame(i === 0 ? opcode : Opcode.Continuation, part, { fin: i === count - 1 }));
    }
    return { wire: cat(...frames), payload };
  }

  it("reassembles 100,000 one-byte fragments into a buffer of exactly the message's size", () => {
    const { wire, payload } = fragmented(Opcode.Binary, 100_000, 1);
    const out: WsEvent[] = [];
    reader().read(wire, out);
    expect(out).toHaveLength(1);
    const data = (out[0] as { data: Uint8Array }).data;
    expect(toHex(data)).toBe(toHex(payload));
    expect(data.buffer.byteLength).toBe(100_000);
  });

  it("keeps fragments of any sizes, empty ones and a code point split across them, at every split", () => {
    const text = "h\u00e9llo \u20ac \u{1f600}!";
    const bytes = enc(text);
    const cuts = [0, 1, 2, 2, 3, 9, 10, 12, bytes.length];
    const frames = cuts.slice(1).map((end, i) =>
      encodeFrame(i === 0 ? Opcode.Text : Opcode.Continuation, bytes.subarray(cuts[i], end), {
        fin: i === cuts.length - 2,
      }),
    );
    feedAllSplits(cat(...frames, hex("82 01 07")), [
      { type: "text", data: text },
      { type: "binary", data: "07" },
    ]);
  });

  it("gives a message of one large fragment and empty ones as that fragment, not a copy", () => {
    const payload = new Uint8Array(2000).fill(7);
    const wire = cat(hex("02 00"), encodeFrame(Opcode.Continuation, payload, { fin: false }), hex("80 00"));
    const out: WsEvent[] = [];
    reader().read(wire, out);
    const data = (out[0] as { data: Uint8Array }).data;
    expect(toHex(data)).toBe(toHex(payload));
    expect(data.buffer).toBe(wire.buffer);
  });

  it("keeps the order of large fragments (kept as views) between runs of small ones (copied)", () => {
    const sizes = [1, 1, 1500, 3, 1024, 1023, 1, 70_000, 2, 2];
    let next = 0;
    const parts = sizes.map((n) => Uint8Array.from({ length: n }, () => next++ % 251));
    const frames = parts.map((p, i) =>
      encodeFrame(i === 0 ? Opcode.Binary : Opcode.Continuation, p, { fin: i === parts.length - 1 }),
    );
    const expected = [{ type: "binary", data: toHex(cat(...parts)) }];
    expect(feed([cat(...frames)])).toEqual(expected);
    expect(feed(frames)).toEqual(expected);
    expect(feed(Array.from(cat(...frames), (b) => Uint8Array.of(b)).slice(0))).toEqual(expected);
  });

  it("accepts exactly maxFragments frames and fails the next one with 1009 before its payload", () => {
    expect(feed([fragmented(Opcode.Binary, 5, 3).wire], { maxFragments: 5 })).toHaveLength(1);
    const { wire } = fragmented(Opcode.Binary, 6, 3);
    // The sixth frame's header alone fails: 5 frames of 5 bytes, then its 2 header bytes.
    const { events, failedAt } = expectFailure(
      [wire.subarray(0, 25), wire.subarray(25, 27)],
      ErrorCodes.TooManyFragments,
      1009,
      { maxFragments: 5 },
    );
    expect(events).toEqual([]);
    expect(failedAt).toBe(1);
  });

  it("counts frames per message: a new message starts from one", () => {
    const one = fragmented(Opcode.Text, 3, 2).wire;
    expect(feed([cat(one, one, one)], { maxFragments: 3 })).toHaveLength(3);
  });

  it("says how many frames the limit allows in the error message", () => {
    const { wire } = fragmented(Opcode.Binary, 3, 1);
    expect(() => reader({ maxFragments: 2 }).read(wire, [])).toThrow(
      "Message in too many frames: over 2 (the limit is 2)",
    );
  });
});

describe("MessageReader: read with a limit stops after the message that reaches it", () => {
  /** A codec that "inflates" by copying, and records how many frames it was given. */
  const countingCodec = () => {
    const codec = {
      frames: 0,
      compress: (data: Uint8Array) => data.slice(),
      decompress(data: Uint8Array, _fin: boolean, maxOutput: number): Uint8Array {
        codec.frames++;
        if (data.length > maxOutput) throw new ProtocolError(ErrorCodes.PayloadTooBig, "too big");
        return data.slice();
      },
    };
    return codec;
  };
  const messages = (n: number, size: number, rsv1 = false) =>
    cat(
      ...Array.from({ length: n }, (_, i) =>
        encodeFrame(Opcode.Binary, new Uint8Array(size).fill(i), { rsv1 }),
      ),
    );

  it("leaves the rest of the chunk unparsed and not inflated, then goes on with an empty chunk", () => {
    const codec = countingCodec();
    const r = reader({ codec });
    const out: WsEvent[] = [];
    r.read(messages(10, 1000, true), out, 2500);
    // 1000 + 1000 < 2500: the third message reaches the limit; the other seven are not inflated.
    expect(out).toHaveLength(3);
    expect(codec.frames).toBe(3);
    expect(r.stopped).toBe(true);
    r.read(new Uint8Array(0), out, 1);
    expect(out).toHaveLength(4);
    expect(codec.frames).toBe(4);
    r.read(new Uint8Array(0), out);
    expect(out).toHaveLength(10);
    expect(r.stopped).toBe(false);
    expect(out.map((e) => (e as { data: Uint8Array }).data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectBetweenFrames(r);
  });

  it("stops in the whole-frame fast path, after fragmented messages, and after compressed ones alike", () => {
    const fragmentedMessage = hex("02 02 aa bb 80 01 cc");
    const wire = cat(messages(3, 10), fragmentedMessage, messages(2, 10, true), messages(2, 10));
    for (const limit of [1, 10, 11, 25, 1e9]) {
      const r = reader({ codec: countingCodec() });
      const out: WsEvent[] = [];
      r.read(wire.slice(), out, limit);
      const steps = [out.length];
      while (r.stopped) {
        r.read(new Uint8Array(0), out, limit);
        steps.push(out.length);
      }
      expect(plain(out)).toEqual(feed([wire], { codec: countingCodec() }));
      // Each step ends at the first message that brings its bytes to the limit.
      const sizes = plain(out).map((e) => (e.data === "aabbcc" ? 3 : 10));
      let start = 0;
      for (const end of steps) {
        const bytes = sizes.slice(start, end);
        expect(bytes.slice(0, -1).reduce((a, b) => a + b, 0)).toBeLessThan(limit);
        if (end < out.length) expect(bytes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(limit);
        start = end;
      }
    }
  });

  it("parses the control frames right after the message that reached the limit, then stops", () => {
    const r = reader();
    const out: WsEvent[] = [];
    const controls = hex("89 01 70 8a 00 88 02 03 e8");
    r.read(cat(messages(1, 10), controls, messages(1, 10), hex("89 00")), out, 5);
    expect(out.map((e) => e.type)).toEqual(["binary", "ping", "pong", "close"]);
    expect(r.stopped).toBe(true);
    r.read(new Uint8Array(0), out, 5);
    expect(out.map((e) => e.type)).toEqual(["binary", "ping", "pong", "close", "binary", "ping"]);
    expect(r.stopped).toBe(false);
    // A control frame cut after its first byte waits for the rest like any frame.
    r.read(cat(messages(1, 10), hex("89")), out, 5);
    expect(r.stopped).toBe(false);
    r.read(hex("00"), out, 5);
    expect(out.at(-1)?.type).toBe("ping");
  });

  it("is not stopped when the limit falls at the end of the bytes, or inside an incomplete frame", () => {
    const r = reader();
    const out: WsEvent[] = [];
    r.read(messages(2, 10), out, 20);
    expect(out).toHaveLength(2);
    expect(r.stopped).toBe(false);
    r.read(cat(messages(1, 10), hex("82 05 01")), out, 5);
    expect(r.stopped).toBe(true);
    r.read(new Uint8Array(0), out, 5);
    // Only a partial frame is left: nothing more to parse until bytes arrive.
    expect(r.stopped).toBe(false);
    expect(out).toHaveLength(3);
    r.read(hex("02 03 04 05"), out, 5);
    expect(out).toHaveLength(4);
  });

  it("parses at least one message with a limit of 0", () => {
    const r = reader();
    const out: WsEvent[] = [];
    r.read(messages(3, 4), out, 0);
    expect(out).toHaveLength(1);
    expect(r.stopped).toBe(true);
  });
});

describe("MessageReader: streamed messages (streamMessages)", () => {
  const streaming: Options = { streamMessages: true };

  /** The events of a stream with each message's chunks joined: text as a string, bytes as hex. */
  function joined(events: WsEvent[]): Plain[] {
    const result: Plain[] = [];
    let parts: Array<string | Uint8Array> | undefined;
    let message = -1;
    for (const e of events) {
      if (e.type === "message-start") {
        expect(parts).toBeUndefined();
        parts = [];
        message = result.length;
        result.push({
          type: e.binary ? "binary" : "text",
          ...(e.compressed ? { reason: "compressed" } : {}),
        });
      } else if (e.type === "message-chunk") {
        parts!.push(e.data);
      } else if (e.type === "message-end") {
        result[message]!.data = parts!.every((p) => typeof p === "string")
          ? parts!.join("")
          : toHex(cat(...(parts as Uint8Array[])));
        parts = undefined;
      } else result.push(...plain([e]));
    }
    return result;
  }

  function feedStreaming(pieces: Uint8Array[], o: Options = {}, limit?: number): WsEvent[] {
    const r = reader({ ...streaming, ...o });
    const out: WsEvent[] = [];
    for (const piece of pieces) {
      r.read(piece.slice(), out, limit);
      while (r.stopped) r.read(new Uint8Array(0), out, limit);
    }
    expectBetweenFrames(r, o.expectMasked);
    return out;
  }

  function atEverySplit(bytes: Uint8Array, expected: Plain[], o: Options = {}): void {
    expect(joined(feedStreaming([bytes], o))).toEqual(expected);
    expect(
      joined(
        feedStreaming(
          Array.from(bytes, (b) => Uint8Array.of(b)),
          o,
        ),
      ),
    ).toEqual(expected);
    for (const i of splitPoints(bytes.length)) {
      expect(joined(feedStreaming([bytes.subarray(0, i), bytes.subarray(i)], o))).toEqual(expected);
    }
  }

  it("streams a binary message whole, byte by byte and at every split, with control frames between fragments", () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const bytes = cat(
      encodeFrame(Opcode.Binary, payload.subarray(0, 100), { fin: false }),
      hex("89 02 68 69"), // ping "hi"
      encodeFrame(Opcode.Continuation, payload.subarray(100), { fin: true }),
      encodeFrame(Opcode.Binary, new Uint8Array(0)),
    );
    atEverySplit(bytes, [
      { type: "binary", data: toHex(payload) },
      { type: "ping", data: "6869" },
      { type: "binary", data: "" },
    ]);
  });

  it("passes on a frame's payload as it arrives, without waiting for the frame (a 64 MiB frame)", () => {
    const header = hex("82 7f 00 00 00 00 04 00 00 00"); // binary, 64 MiB
    const r = reader({ ...streaming, maxPayload: 2 ** 27 });
    const out: WsEvent[] = [];
    const piece = new Uint8Array(64 * 1024).fill(7);
    r.read(cat(header, piece), out);
    r.read(piece.slice(), out);
    expect(out.map((e) => e.type)).toEqual(["message-start", "message-chunk", "message-chunk"]);
    expect(out.slice(1).reduce((n, e) => n + ((e as { data: Uint8Array }).data.length ?? 0), 0)).toBe(
      2 * piece.length,
    );
    // The second chunk is the input itself, not a copy.
    expect((out[2] as { data: Uint8Array }).data.buffer).not.toBe(piece.buffer);
    const input = piece.slice();
    r.read(input, out);
    expect((out[3] as { data: Uint8Array }).data.buffer).toBe(input.buffer);
  });

  it("decodes text chunks that never split a code point, at every split of every multi-byte character", () => {
    const text = "aé€🌊z€é🌊";
    const payload = enc(text);
    const bytes = cat(
      encodeFrame(Opcode.Text, payload.subarray(0, 5), { fin: false }),
      encodeFrame(Opcode.Continuation, payload.subarray(5), { fin: true }),
    );
    for (const pieces of [
      [bytes],
      Array.from(bytes, (b) => Uint8Array.of(b)),
      ...splitPoints(bytes.length).map((i) => [bytes.subarray(0, i), bytes.subarray(i)]),
    ]) {
      const events = feedStreaming(pieces);
      const chunks = events.filter((e) => e.type === "message-chunk").map((e) => e.data as string);
      expect(chunks.join("")).toBe(text);
      for (const chunk of chunks) {
        expect(chunk.length).toBeGreaterThan(0);
        expect(chunk).not.toMatch(/\uFFFD/);
        expect(chunk).not.toMatch(/[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/); // a 4-byte character is never split
      }
    }
  });

  it("fails fast with 1007 on invalid UTF-8 in the middle of a streamed text frame", () => {
    const payload = new Uint8Array(100_000).fill(0x61);
    payload[50] = 0xc0;
    const frame = encodeFrame(Opcode.Text, payload);
    const r = reader(streaming);
    const out: WsEvent[] = [];
    r.read(frame.subarray(0, 40), out);
    expect(out.map((e) => e.type)).toEqual(["message-start", "message-chunk"]);
    expect(() => r.read(frame.subarray(40, 100), out)).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidUtf8, closeCode: 1007 }),
    );
    // A code point left incomplete at the end of the message fails too.
    expectFailure([encodeFrame(Opcode.Text, hex("61 e2 82"))], ErrorCodes.InvalidUtf8, 1007, streaming);
  });

  it("bounds each frame by maxPayload and each message by maxStreamedPayload (close 1009)", () => {
    const o = { ...streaming, maxPayload: 100, maxStreamedPayload: 250 };
    // 100-byte frames stream; the header that brings the message past 250 bytes fails.
    const frame = (fin: boolean, first: boolean) =>
      encodeFrame(first ? Opcode.Binary : Opcode.Continuation, new Uint8Array(100), { fin });
    const { events } = expectFailure(
      [frame(false, true), frame(false, false), frame(true, false).subarray(0, 2)],
      ErrorCodes.PayloadTooBig,
      1009,
      o,
    );
    expect(events.filter((e) => e.type === "message-chunk")).toHaveLength(2);
    expectFailure(
      [encodeFrame(Opcode.Binary, new Uint8Array(101)).subarray(0, 2)],
      ErrorCodes.PayloadTooBig,
      1009,
      o,
    );
    // Unlimited by default: a message of many frames longer than maxPayload streams.
    const many = Array.from({ length: 5 }, (_, i) => frame(i === 4, i === 0));
    expect(joined(feedStreaming(many, { maxPayload: 100 }))).toEqual([
      { type: "binary", data: toHex(new Uint8Array(500)) },
    ]);
  });

  it("unmasks streamed payloads across chunk boundaries (server role)", () => {
    const payload = Uint8Array.from({ length: 70 }, (_, i) => (i * 7) & 0xff);
    const bytes = encodeFrame(Opcode.Binary, payload, { maskKey: KEY });
    atEverySplit(bytes, [{ type: "binary", data: toHex(payload) }], { expectMasked: true });
  });

  it("passes on compressed messages as they are, flagged compressed, without UTF-8 checks", () => {
    const bytes = cat(
      encodeFrame(Opcode.Text, hex("ff fe"), { fin: false, rsv1: true }),
      encodeFrame(Opcode.Continuation, hex("fd"), { fin: true }),
    );
    atEverySplit(bytes, [{ type: "text", reason: "compressed", data: "fffefd" }], { codec: identityCodec });
  });

  it("stops a read at its limit after the chunks that reach it, control frames aside", () => {
    const bytes = cat(
      encodeFrame(Opcode.Binary, new Uint8Array(10)),
      encodeFrame(Opcode.Binary, new Uint8Array(10)),
      hex("89 00"),
    );
    const r = reader(streaming);
    const out: WsEvent[] = [];
    r.read(bytes, out, 5);
    expect(out.map((e) => e.type)).toEqual(["message-start", "message-chunk", "message-end"]);
    expect(r.stopped).toBe(true);
    r.read(new Uint8Array(0), out, 5);
    expect(out.map((e) => e.type).slice(3)).toEqual([
      "message-start",
      "message-chunk",
      "message-end",
      "ping",
    ]);
  });
});

describe("MessageReader: a streamed compressed message stops the read at its end", () => {
  it("leaves what follows unparsed, a ping included, until the next read", () => {
    const bytes = cat(encodeFrame(Opcode.Text, hex("ab cd"), { rsv1: true }), hex("89 00"));
    const r = reader({ streamMessages: true, codec: identityCodec });
    const out: WsEvent[] = [];
    r.read(bytes, out);
    expect(out.map((e) => e.type)).toEqual(["message-start", "message-chunk", "message-end"]);
    expect(r.stopped).toBe(true);
    r.read(new Uint8Array(0), out);
    expect(out.at(-1)?.type).toBe("ping");
  });
});
