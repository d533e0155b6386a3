import { describe, expect, it } from "vitest";
import { closeReasonToSend, encodeCloseBody, isValidWireCloseCode, parseCloseBody } from "../src/close.js";
import { ErrorCodes, ProtocolError } from "../src/errors.js";
import { defaultUtf8 } from "../src/utf8.js";

const { isValid, decode, encode } = defaultUtf8;
const body = (code: number, ...rest: number[]) => Uint8Array.of(code >> 8, code & 0xff, ...rest);

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error("expected a ProtocolError");
}

describe("isValidWireCloseCode", () => {
  it("accepts exactly 1000-1003, 1007-1014 and 3000-4999 in 0..70000", () => {
    const valid: number[] = [];
    for (let code = 0; code <= 70000; code++) if (isValidWireCloseCode(code)) valid.push(code);
    const expected = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014];
    for (let code = 3000; code <= 4999; code++) expected.push(code);
    expect(valid).toEqual(expected);
  });

  it("rejects non-integers", () => {
    for (const code of [1000.5, Number.NaN, Number.POSITIVE_INFINITY, -1000])
      expect(isValidWireCloseCode(code)).toBe(false);
  });
});

describe("encodeCloseBody", () => {
  it("writes the code big-endian, then the UTF-8 reason", () => {
    expect(encodeCloseBody(1000, "", encode)).toEqual(Uint8Array.of(0x03, 0xe8));
    expect(encodeCloseBody(4321, "bé", encode)).toEqual(Uint8Array.of(0x10, 0xe1, 0x62, 0xc3, 0xa9));
  });

  it("gives an empty body without a code, and refuses a reason without a code", () => {
    expect(encodeCloseBody(undefined, "", encode)).toEqual(new Uint8Array(0));
    expect(() => encodeCloseBody(undefined, "bye", encode)).toThrow(RangeError);
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5])("refuses code %d", (code) => {
    expect(() => encodeCloseBody(code, "", encode)).toThrow(RangeError);
  });

  it("accepts a reason of 123 bytes and refuses 124 (counted in bytes, not characters)", () => {
    expect(encodeCloseBody(1000, "a".repeat(123), encode)).toHaveLength(125);
    expect(() => encodeCloseBody(1000, "a".repeat(124), encode)).toThrow(RangeError);
    expect(() => encodeCloseBody(1000, "é".repeat(62), encode)).toThrow(RangeError); // 124 bytes
    expect(encodeCloseBody(1000, "é".repeat(61) + "a", encode)).toHaveLength(125);
  });
});

describe("parseCloseBody", () => {
  it("reads an empty body as code 1005 with no reason", () => {
    expect(parseCloseBody(new Uint8Array(0), isValid, decode)).toEqual({ code: 1005, reason: "" });
  });

  it("reads the code and the reason, round-tripping encodeCloseBody", () => {
    expect(parseCloseBody(body(1001), isValid, decode)).toEqual({ code: 1001, reason: "" });
    expect(parseCloseBody(encodeCloseBody(3000, "au revoir 😀", encode), isValid, decode)).toEqual({
      code: 3000,
      reason: "au revoir 😀",
    });
  });

  it("rejects a 1-byte body (1002)", () => {
    const error = protocolError(() => parseCloseBody(Uint8Array.of(0x03), isValid, decode));
    expect(error.code).toBe(ErrorCodes.InvalidClosePayload);
    expect(error.closeCode).toBe(1002);
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])("rejects code %d (1002)", (code) => {
    const error = protocolError(() => parseCloseBody(body(code), isValid, decode));
    expect(error.code).toBe(ErrorCodes.InvalidCloseCode);
    expect(error.closeCode).toBe(1002);
    expect(error.message).toContain(String(code));
  });

  it("rejects a reason that is not UTF-8 (1007)", () => {
    const error = protocolError(() => parseCloseBody(body(1000, 0x61, 0xed, 0xa0, 0x80), isValid, decode));
    expect(error.code).toBe(ErrorCodes.InvalidUtf8);
    expect(error.closeCode).toBe(1007);
  });
});

describe("closeReasonToSend", () => {
  const utf8Length = (text: string) => new TextEncoder().encode(text).length;

  it("keeps a reason that fits, and cuts a longer one after the last whole code point that fits", () => {
    expect(closeReasonToSend("")).toBe("");
    expect(closeReasonToSend("going away")).toBe("going away");
    expect(closeReasonToSend("x".repeat(123))).toBe("x".repeat(123));
    expect(closeReasonToSend("x".repeat(124))).toBe("x".repeat(123));
    expect(closeReasonToSend("日".repeat(42))).toBe("日".repeat(41)); // 3 bytes each
    expect(closeReasonToSend("a" + "😀".repeat(40))).toBe("a" + "😀".repeat(30));
  });

  it("never ends inside a surrogate pair, and its UTF-8 is at most 123 bytes and decodes back to it", () => {
    const units = ["a", "é", "日", "😀", "\ud800", "\udfff"];
    for (let seed = 0; seed < 500; seed++) {
      let reason = "";
      for (let i = 0, n = seed; i < 20 + (seed % 60); i++, n = (n * 31 + 7) % 997)
        reason += units[n % units.length];
      const sent = closeReasonToSend(reason);
      expect(utf8Length(sent)).toBeLessThanOrEqual(123);
      expect(new TextDecoder().decode(new TextEncoder().encode(sent))).toBe(sent);
      const lastUnit = sent.charCodeAt(sent.length - 1);
      expect(lastUnit >= 0xd800 && lastUnit <= 0xdbff).toBe(false);
    }
  });

  it("turns lone surrogates into U+FFFD, as the encoder sends them", () => {
    expect(closeReasonToSend("a\ud800b")).toBe("a\ufffdb");
    expect(closeReasonToSend("\udc00\ud800")).toBe("\ufffd\ufffd");
    expect(closeReasonToSend("\ud83d\ude00")).toBe("😀");
  });
});
