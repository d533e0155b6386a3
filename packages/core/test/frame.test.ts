import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Opcode } from "../src/constants.js";
import { ErrorCodes, ProtocolError } from "../src/errors.js";
import {
  decodeFrameHeader,
  encodeFrame,
  encodeFrameHeader,
  type FrameHeader,
  frameHeaderSize,
} from "../src/frame.js";

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));
const hello = new TextEncoder().encode("Hello");
const key = hex("37 fa 21 3d");

function header(overrides: Partial<FrameHeader>): FrameHeader {
  return {
    fin: true,
    rsv1: false,
    rsv2: false,
    rsv3: false,
    opcode: Opcode.Binary,
    masked: false,
    payloadLength: 0,
    ...overrides,
  };
}

describe("encodeFrame: the RFC 6455 section 5.7 examples, byte for byte", () => {
  it("a single-frame unmasked text message", () => {
    expect(encodeFrame(Opcode.Text, hello)).toEqual(hex("81 05 48 65 6c 6c 6f"));
  });
  it("a single-frame masked text message", () => {
    expect(encodeFrame(Opcode.Text, hello, { maskKey: key })).toEqual(
      hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"),
    );
  });
  it("a fragmented unmasked text message", () => {
    const enc = new TextEncoder();
    expect(encodeFrame(Opcode.Text, enc.encode("Hel"), { fin: false })).toEqual(hex("01 03 48 65 6c"));
    expect(encodeFrame(Opcode.Continuation, enc.encode("lo"))).toEqual(hex("80 02 6c 6f"));
  });
  it("an unmasked ping and a masked pong", () => {
    expect(encodeFrame(Opcode.Ping, hello)).toEqual(hex("89 05 48 65 6c 6c 6f"));
    expect(encodeFrame(Opcode.Pong, hello, { maskKey: key })).toEqual(
      hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"),
    );
  });
  it("256 bytes binary in one unmasked frame (16-bit length)", () => {
    const payload = new Uint8Array(256).fill(9);
    const frame = encodeFrame(Opcode.Binary, payload);
    expect(frame.subarray(0, 4)).toEqual(hex("82 7e 01 00"));
    expect(frame.subarray(4)).toEqual(payload);
  });
  it("64 KiB binary in one unmasked frame (64-bit length)", () => {
    const payload = new Uint8Array(65536).fill(3);
    const frame = encodeFrame(Opcode.Binary, payload);
    expect(frame.subarray(0, 10)).toEqual(hex("82 7f 00 00 00 00 00 01 00 00"));
    expect(frame.length).toBe(65546);
    expect(frame.subarray(10)).toEqual(payload);
  });
  it("sets RSV1 and leaves the payload it masks untouched", () => {
    const payload = hello.slice();
    expect(encodeFrame(Opcode.Text, payload, { rsv1: true, maskKey: key })[0]).toBe(0xc1);
    expect(payload).toEqual(hello);
  });
  it("rejects a mask key that is not 4 bytes", () => {
    expect(() => encodeFrame(Opcode.Text, hello, { maskKey: new Uint8Array(3) })).toThrow(RangeError);
  });
});

describe("encodeFrameHeader", () => {
  it.each([
    [0, "82 00"],
    [125, "82 7d"],
    [126, "82 7e 00 7e"],
    [65535, "82 7e ff ff"],
    [65536, "82 7f 00 00 00 00 00 01 00 00"],
    [2 ** 32, "82 7f 00 00 00 01 00 00 00 00"],
    [2 ** 53 - 1, "82 7f 00 1f ff ff ff ff ff ff"],
  ])("uses the shortest length form for %d", (payloadLength, expected) => {
    expect(encodeFrameHeader(header({ payloadLength }))).toEqual(hex(expected));
    expect(frameHeaderSize(payloadLength, false)).toBe(hex(expected).length);
  });

  it("encodes every flag bit and appends the mask key", () => {
    const h = header({
      fin: false,
      rsv1: true,
      rsv2: true,
      rsv3: true,
      opcode: 0xf,
      masked: true,
      maskKey: key,
      payloadLength: 5,
    });
    expect(encodeFrameHeader(h)).toEqual(hex("7f 85 37 fa 21 3d"));
  });

  it("rejects lengths that are negative, fractional or above 2^53 - 1, and masks without a key", () => {
    for (const payloadLength of [-1, 1.5, 2 ** 53, Number.NaN]) {
      expect(() => encodeFrameHeader(header({ payloadLength }))).toThrow(RangeError);
    }
    expect(() => encodeFrameHeader(header({ masked: true }))).toThrow(RangeError);
    expect(() => encodeFrameHeader(header({ masked: true, maskKey: new Uint8Array(5) }))).toThrow(RangeError);
  });
});

describe("decodeFrameHeader", () => {
  it("decodes the RFC masked example, with the key as a view into the input", () => {
    const bytes = hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
    const decoded = decodeFrameHeader(bytes);
    expect(decoded?.headerSize).toBe(6);
    expect(decoded?.header).toMatchObject({
      fin: true,
      rsv1: false,
      opcode: 1,
      masked: true,
      payloadLength: 5,
    });
    expect(decoded?.header.maskKey).toEqual(key);
    expect(decoded?.header.maskKey?.buffer).toBe(bytes.buffer);
  });

  it("returns undefined for every truncation of a header, then decodes at an offset", () => {
    const full = encodeFrameHeader(header({ payloadLength: 70000, masked: true, maskKey: key, rsv3: true }));
    for (let n = 0; n < full.length; n++) expect(decodeFrameHeader(full.subarray(0, n))).toBeUndefined();
    const padded = new Uint8Array(3 + full.length);
    padded.set(full, 3);
    expect(decodeFrameHeader(padded, 3)).toEqual({
      header: header({ payloadLength: 70000, masked: true, maskKey: key, rsv3: true }),
      headerSize: 14,
    });
  });

  it("round-trips any header", () => {
    fc.assert(
      fc.property(
        fc.record({
          fin: fc.boolean(),
          rsv1: fc.boolean(),
          rsv2: fc.boolean(),
          rsv3: fc.boolean(),
          opcode: fc.integer({ min: 0, max: 15 }),
          masked: fc.boolean(),
          payloadLength: fc.oneof(fc.nat(200), fc.nat(70000), fc.maxSafeNat()),
        }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (h, k) => {
          const full: FrameHeader = h.masked ? { ...h, maskKey: k } : h;
          const bytes = encodeFrameHeader(full);
          expect(decodeFrameHeader(bytes)).toEqual({ header: full, headerSize: bytes.length });
        },
      ),
    );
  });

  it("rejects a 64-bit length with the most significant bit set, or above 2^53 - 1", () => {
    for (const bytes of [
      "82 7f 80 00 00 00 00 00 00 00",
      "82 7f ff ff ff ff ff ff ff ff",
      "82 7f 00 20 00 00 00 00 00 00",
    ]) {
      let error: unknown;
      try {
        decodeFrameHeader(hex(bytes));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: ErrorCodes.InvalidPayloadLength, closeCode: 1002 });
    }
  });
});
