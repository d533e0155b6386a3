import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeValidUtf8, LOOP_MAX, LOOP_MIN, SAMPLE } from "../src/utf8-decode.js";

const reference = new TextDecoder("utf-8", { ignoreBOM: true });
const encode = (text: string) => new TextEncoder().encode(text);

/** One character of each UTF-8 length: 1, 2, 3 and 4 bytes (the last a surrogate pair in UTF-16). */
const SEQUENCES = ["a", "é", "€", "😀"];

describe("decodeValidUtf8", () => {
  it("equals TextDecoder for every mix of 1- to 4-byte sequences at every length up to 300 characters", () => {
    for (let count = 0; count <= 300; count++) {
      for (let start = 0; start < 4; start++) {
        let text = "";
        for (let i = 0; i < count; i++) text += SEQUENCES[(start + i * (i + 1)) % 4];
        const bytes = encode(text);
        expect(decodeValidUtf8(bytes)).toBe(text);
      }
    }
  });

  it("equals TextDecoder on any Unicode text, dense or sparse in non-ASCII characters", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 800 }),
        fc.string({ unit: "grapheme-ascii", maxLength: 200 }),
        (text, ascii) => {
          for (const candidate of [text, ascii + text, text + ascii]) {
            const bytes = encode(candidate);
            expect(decodeValidUtf8(bytes)).toBe(reference.decode(bytes));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("decodes every code point class at its boundaries, on the loop's path", () => {
    // Dense non-ASCII padding sends the message through the loop, whatever the probe.
    const pad = "ж".repeat(SAMPLE);
    for (const point of [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff]) {
      const text = pad + String.fromCodePoint(point) + pad;
      expect(decodeValidUtf8(encode(text))).toBe(text);
    }
  });

  it("keeps a leading byte order mark, which is part of the message", () => {
    for (const text of ["\uFEFFabc", `\uFEFF${"ж".repeat(LOOP_MIN)}`]) {
      expect(decodeValidUtf8(encode(text))).toBe(text);
    }
  });

  it("decodes views at any offset of a larger buffer, and messages past the scratch buffer's size", () => {
    const text = "日本語のテキスト😀".repeat(200);
    const bytes = encode(text);
    const backing = new Uint8Array(bytes.length + 7);
    backing.set(bytes, 3);
    expect(decodeValidUtf8(backing.subarray(3, 3 + bytes.length))).toBe(text);
    const big = "ж".repeat(LOOP_MAX); // 2 * LOOP_MAX bytes: TextDecoder's path
    expect(decodeValidUtf8(encode(big))).toBe(big);
    const limit = "ж".repeat(LOOP_MAX / 2); // exactly LOOP_MAX bytes: the loop's
    expect(decodeValidUtf8(encode(limit))).toBe(limit);
    // A short message after a long one reads only its own code units from the scratch buffer.
    expect(decodeValidUtf8(encode("жж".repeat(LOOP_MIN)))).toBe("жж".repeat(LOOP_MIN));
  });
});
