import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Opcode } from "../src/constants.js";
import type { WsEvent } from "../src/events.js";
import { decodeFrameHeader } from "../src/frame.js";
import { MessageReader } from "../src/reader.js";
import { defaultUtf8 } from "../src/utf8.js";
import { FrameWriter } from "../src/writer.js";

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));
const hello = new TextEncoder().encode("Hello");

/** Random bytes that repeat the given key forever: each frame gets the next 4 bytes. */
const fixedKeys =
  (...keys: string[]) =>
  (b: Uint8Array) => {
    const all = keys.map(hex);
    for (let i = 0; i < b.length; i++) b[i] = all[Math.floor(i / 4) % all.length]![i % 4]!;
  };

describe("FrameWriter.headerInto and payloadInto", () => {
  it("write the same bytes as frame() when the payload is split at any points", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 400 }),
        fc.array(fc.nat(400), { maxLength: 4 }),
        fc.boolean(),
        (payload, cuts, masked) => {
          const randomFill = fixedKeys("37 fa 21 3d");
          const whole = new FrameWriter({ mask: masked, randomFill }).frame(Opcode.Binary, payload);
          const writer = new FrameWriter({ mask: masked, randomFill });
          const header = new Uint8Array(20).fill(0xee);
          const end = writer.headerInto(header, 3, Opcode.Binary, payload.length);
          const points = [...new Set([0, ...cuts.map((c) => c % payload.length), payload.length])].sort(
            (a, b) => a - b,
          );
          const out = new Uint8Array(whole.length);
          out.set(header.subarray(3, end));
          for (let i = 0; i + 1 < points.length; i++) {
            const part = payload.subarray(points[i], points[i + 1]);
            writer.payloadInto(part, out, end - 3 + points[i]!, header, end, points[i]!);
          }
          expect(out).toEqual(whole);
          expect(header[2]).toBe(0xee); // nothing written before the offset
        },
      ),
    );
  });

  it("throws a RangeError when the header does not fit", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("01 02 03 04") });
    expect(() => writer.headerInto(new Uint8Array(13), 0, Opcode.Binary, 70_000)).toThrow(RangeError);
    expect(writer.headerInto(new Uint8Array(14), 0, Opcode.Binary, 70_000)).toBe(14);
  });
});

describe("FrameWriter", () => {
  it("writes the RFC 6455 masked 'Hello' example with an injected key", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("37 fa 21 3d") });
    expect(writer.frame(Opcode.Text, hello)).toEqual(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
  });

  it("writes unmasked frames for the server role, with fin and rsv1 as asked", () => {
    const writer = new FrameWriter({ mask: false });
    expect(writer.frame(Opcode.Text, hello)).toEqual(hex("81 05 48 65 6c 6c 6f"));
    expect(writer.frame(Opcode.Text, hello.subarray(0, 3), false)).toEqual(hex("01 03 48 65 6c"));
    expect(writer.frame(Opcode.Continuation, hello.subarray(3), true, true)).toEqual(hex("c0 02 6c 6f"));
  });

  it("uses a fresh key for each frame and never modifies the payload", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("01 02 03 04", "05 06 07 08") });
    const payload = hello.slice();
    const a = writer.frame(Opcode.Binary, payload);
    const b = writer.frame(Opcode.Binary, payload);
    expect(a.subarray(2, 6)).toEqual(hex("01 02 03 04"));
    expect(b.subarray(2, 6)).toEqual(hex("05 06 07 08"));
    expect(payload).toEqual(hello);
  });

  it("shares one key pool between writers given the same random source, never repeating a key", () => {
    let fills = 0;
    let counter = 0;
    const fill = (bytes: Uint8Array) => {
      fills++;
      for (let i = 0; i < bytes.length; i++) bytes[i] = (counter++ * 7) & 0xff;
    };
    const writers = [
      new FrameWriter({ mask: true, randomFill: fill }),
      new FrameWriter({ mask: true, randomFill: fill }),
    ];
    const keys = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const frame = writers[i % 2]!.frame(Opcode.Binary, hello);
      keys.add(Array.from(frame.subarray(2, 6)).join(","));
    }
    expect(keys.size).toBe(64);
    expect(fills).toBe(1); // one 8 KiB block serves both writers
  });

  it.each([
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
  ])("uses the right length form for %d bytes", (length, headerSize) => {
    const frame = new FrameWriter({ mask: true }).frame(Opcode.Binary, new Uint8Array(length));
    const decoded = decodeFrameHeader(frame);
    expect(decoded?.headerSize).toBe(headerSize + 4);
    expect(decoded?.header).toMatchObject({ masked: true, payloadLength: length, opcode: Opcode.Binary });
    expect(frame.length).toBe(headerSize + 4 + length);
  });

  it("round-trips through a server-role MessageReader with crypto.getRandomValues keys", () => {
    const writer = new FrameWriter({ mask: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70000 }), (payload) => {
        const frame = writer.frame(Opcode.Binary, payload);
        const out: WsEvent[] = [];
        new MessageReader({ expectMasked: true, maxPayload: 2 ** 20, utf8: defaultUtf8 }).read(frame, out);
        expect(out).toEqual([{ type: "binary", data: payload }]);
      }),
      { numRuns: 50 },
    );
  });
});

describe("FrameWriter.frameInto", () => {
  const sizes = [0, 1, 47, 48, 125, 126, 1000, 0xffff, 0x1_0000];

  it("writes the same bytes as frame() at any offset, and returns the offset past the frame", () => {
    for (const masked of [true, false]) {
      for (const size of sizes) {
        const payload = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
        const keys = fixedKeys("37 fa 21 3d");
        const expected = new FrameWriter({ mask: masked, randomFill: keys }).frame(Opcode.Binary, payload);
        for (const offset of [0, 1, 3, 7]) {
          const writer = new FrameWriter({ mask: masked, randomFill: fixedKeys("37 fa 21 3d") });
          expect(writer.frameSize(size)).toBe(expected.length);
          const dst = new Uint8Array(offset + expected.length + 5).fill(0xee);
          const end = writer.frameInto(dst, offset, Opcode.Binary, payload);
          expect(end).toBe(offset + expected.length);
          expect(dst.subarray(offset, end)).toEqual(expected);
          // Bytes around the frame are untouched.
          expect(dst.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
          expect(dst.subarray(end).every((b) => b === 0xee)).toBe(true);
        }
      }
    }
  });

  it("writes frames back to back, each with its own key, fin and rsv1, readable in one chunk", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("01 02 03 04", "05 06 07 08") });
    const dst = new Uint8Array(writer.frameSize(3) + writer.frameSize(2) + writer.frameSize(200));
    let at = writer.frameInto(dst, 0, Opcode.Text, hello.subarray(0, 3), false);
    at = writer.frameInto(dst, at, Opcode.Continuation, hello.subarray(3), true);
    const big = new Uint8Array(200).fill(9);
    at = writer.frameInto(dst, at, Opcode.Binary, big, true, true);
    expect(at).toBe(dst.length);
    expect(dst.subarray(2, 6)).toEqual(hex("01 02 03 04"));
    expect(dst.subarray(11, 15)).toEqual(hex("05 06 07 08"));
    const third = decodeFrameHeader(dst, 17)?.header;
    expect(third).toMatchObject({ rsv1: true, fin: true, opcode: Opcode.Binary, payloadLength: 200 });
    const server = new MessageReader({ expectMasked: true, maxPayload: 1 << 20, utf8: defaultUtf8 });
    const events: WsEvent[] = [];
    server.read(dst.slice(0, 17), events);
    expect(events).toEqual([{ type: "text", data: "Hello" }]);
  });

  it("throws RangeError without touching dst when the frame does not fit or the offset is bad", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("01 02 03 04") });
    const dst = new Uint8Array(writer.frameSize(5));
    expect(() => writer.frameInto(dst, 1, Opcode.Binary, hello)).toThrow(RangeError);
    expect(() => writer.frameInto(dst, -1, Opcode.Binary, hello)).toThrow(RangeError);
    expect(() => writer.frameInto(dst, 0.5, Opcode.Binary, hello)).toThrow(RangeError);
    expect(dst.every((b) => b === 0)).toBe(true);
    expect(writer.frameInto(dst, 0, Opcode.Binary, hello)).toBe(dst.length);
  });
});

describe("FrameWriter.finishInto", () => {
  it("writes the header before a payload already in place and masks it, as frame() would", () => {
    for (const masked of [true, false]) {
      for (const size of [0, 5, 125, 126, 300]) {
        const payload = Uint8Array.from({ length: size }, (_, i) => (i * 13) & 0xff);
        const expected = new FrameWriter({ mask: masked, randomFill: fixedKeys("37 fa 21 3d") }).frame(
          Opcode.Text,
          payload,
          false,
          true,
        );
        const writer = new FrameWriter({ mask: masked, randomFill: fixedKeys("37 fa 21 3d") });
        const header = writer.frameSize(size) - size;
        const dst = new Uint8Array(3 + expected.length + 2);
        dst.set(payload, 3 + header);
        expect(writer.finishInto(dst, 3, Opcode.Text, size, false, true)).toBe(3 + expected.length);
        expect(dst.subarray(3, 3 + expected.length)).toEqual(expected);
      }
    }
  });

  it("throws RangeError when the frame does not fit", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("01 02 03 04") });
    expect(() => writer.finishInto(new Uint8Array(10), 0, Opcode.Text, 5)).toThrow(RangeError);
    expect(() => writer.finishInto(new Uint8Array(20), -1, Opcode.Text, 5)).toThrow(RangeError);
  });
});
