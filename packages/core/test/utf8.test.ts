import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  defaultUtf8,
  encodeUtf8,
  encodeUtf8Into,
  isValidUtf8,
  resolveUtf8Codec,
  Utf8ChunkDecoder,
  Utf8Validator,
} from "../src/utf8.js";

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));

/** The oracle: the WHATWG decoder in fatal mode. */
function fatalDecodes(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Bytes biased toward UTF-8 structure (lead bytes, continuation bytes, boundaries), not just noise. */
const utf8ish = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0x80, max: 0xbf }),
    fc.constantFrom(
      0x00,
      0x7f,
      0xc0,
      0xc1,
      0xc2,
      0xdf,
      0xe0,
      0xed,
      0xef,
      0xf0,
      0xf4,
      0xf5,
      0xff,
      0x80,
      0x8f,
      0x90,
      0x9f,
      0xa0,
      0xbf,
    ),
  ),
  { maxLength: 40 },
);
const validText = fc.string({ unit: "binary", maxLength: 60 }).map((s) => new TextEncoder().encode(s));

// Markus Kuhn's UTF-8 decoder stress test, in spirit: each row is bytes and whether they are valid.
const TABLE: Array<[string, string, boolean]> = [
  ["empty", "", true],
  ["ASCII", "48 65 6c 6c 6f", true],
  ["NUL and DEL", "00 7f", true],
  ["2-byte min U+0080", "c2 80", true],
  ["2-byte max U+07FF", "df bf", true],
  ["3-byte min U+0800", "e0 a0 80", true],
  ["U+D7FF, last before the surrogates", "ed 9f bf", true],
  ["U+E000, first after the surrogates", "ee 80 80", true],
  ["U+FFFD", "ef bf bd", true],
  ["U+FFFF (a noncharacter, still valid UTF-8)", "ef bf bf", true],
  ["4-byte min U+10000", "f0 90 80 80", true],
  ["astral U+1F600", "f0 9f 98 80", true],
  ["max code point U+10FFFF", "f4 8f bf bf", true],
  ["kosme", "ce ba e1 bd b9 cf 83 ce bc ce b5", true],
  ["lone continuation 80", "80", false],
  ["lone continuation bf", "bf", false],
  ["overlong '/' in 2 bytes", "c0 af", false],
  ["overlong '/' in 3 bytes", "e0 80 af", false],
  ["overlong '/' in 4 bytes", "f0 80 80 af", false],
  ["overlong max 2-byte (U+007F)", "c1 bf", false],
  ["overlong max 3-byte (U+07FF)", "e0 9f bf", false],
  ["overlong max 4-byte (U+FFFF)", "f0 8f bf bf", false],
  ["overlong NUL", "c0 80", false],
  ["high surrogate U+D800", "ed a0 80", false],
  ["low surrogate U+DFFF", "ed bf bf", false],
  ["surrogate pair in CESU-8", "ed a0 bd ed b2 a9", false],
  ["above U+10FFFF: f4 90", "f4 90 80 80", false],
  ["f5 lead", "f5 80 80 80", false],
  ["5-byte form", "f8 88 80 80 80", false],
  ["6-byte form", "fc 84 80 80 80 80", false],
  ["fe", "fe", false],
  ["ff", "ff", false],
  ["truncated 2-byte", "c2", false],
  ["truncated 3-byte", "e1 80", false],
  ["truncated 4-byte", "f0 9f 98", false],
  ["truncated then ASCII", "e1 80 41", false],
  ["2-byte lead then non-continuation", "c2 41", false],
  ["4-byte with bad third byte", "f0 9f 41 80", false],
  ["4-byte with bad fourth byte", "f0 9f 98 41", false],
  ["valid after ASCII run", "41 41 41 41 41 41 41 41 41 c3 a9", true],
  ["invalid after ASCII run", "41 41 41 41 41 41 41 41 41 c3", false],
];

describe("isValidUtf8", () => {
  it.each(TABLE)("%s", (_name, bytes, valid) => {
    expect(isValidUtf8(hex(bytes))).toBe(valid);
    expect(fatalDecodes(hex(bytes))).toBe(valid); // the table itself agrees with the oracle
  });

  it("agrees with a fatal TextDecoder on random bytes", () => {
    fc.assert(
      fc.property(
        utf8ish,
        (bytes) => isValidUtf8(Uint8Array.from(bytes)) === fatalDecodes(Uint8Array.from(bytes)),
      ),
      {
        numRuns: 20000,
      },
    );
  });

  it("agrees with the oracle on long inputs (word-wise ASCII scan) at every byteOffset and bad position", () => {
    for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
      for (let at = 0; at < 80; at++) {
        for (const insert of [hex("ff"), hex("c3 a9"), hex("e2 82"), hex("80")]) {
          const backing = new Uint8Array(byteOffset + 80).fill(0x41);
          backing.set(insert.subarray(0, 80 - at), byteOffset + at);
          const bytes = backing.subarray(byteOffset);
          expect(isValidUtf8(bytes)).toBe(fatalDecodes(bytes));
        }
      }
    }
  });

  it("accepts any encoded string, including astral code points", () => {
    fc.assert(fc.property(validText, (bytes) => isValidUtf8(bytes)));
  });
});

describe("Utf8Validator", () => {
  /** Pushes `bytes` cut at `cuts`; returns the index of the failing push, or -1 if all passed. */
  function pushAll(bytes: Uint8Array, cuts: number[]): number {
    const v = new Utf8Validator(isValidUtf8);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const ends = [...points, bytes.length];
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      if (!v.push(bytes.subarray(start, ends[i]), i === ends.length - 1)) return i;
      start = ends[i]!;
    }
    return -1;
  }

  /** The oracle: a streaming fatal TextDecoder fails at the first byte that cannot start or continue. */
  function streamingOracle(bytes: Uint8Array, cuts: number[]): number {
    const d = new TextDecoder("utf-8", { fatal: true });
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const ends = [...points, bytes.length];
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      try {
        d.decode(bytes.subarray(start, ends[i]), { stream: i !== ends.length - 1 });
      } catch {
        return i;
      }
      start = ends[i]!;
    }
    return -1;
  }

  it("accepts every valid text at every single split point", () => {
    const bytes = new TextEncoder().encode("aé€😀\u{10FFFF}z");
    for (let cut = 0; cut <= bytes.length; cut++) expect(pushAll(bytes, [cut])).toBe(-1);
  });

  it("accepts a code point fed one byte per fragment", () => {
    const v = new Utf8Validator(isValidUtf8);
    expect(v.push(hex("f0"), false)).toBe(true);
    expect(v.push(hex("9f"), false)).toBe(true);
    expect(v.push(hex(""), false)).toBe(true);
    expect(v.push(hex("98"), false)).toBe(true);
    expect(v.push(hex("80 41"), true)).toBe(true);
  });

  it.each([
    ["f5", "a lead byte that never appears"],
    ["c0", "an overlong lead"],
    ["ed a0", "the start of a surrogate"],
    ["f4 90", "the start of a code point above U+10FFFF"],
    ["e0 80", "the start of an overlong 3-byte form"],
    ["f0 80", "the start of an overlong 4-byte form"],
    ["41 f0 9f 41", "a broken sequence before the end"],
  ])("fails on the fragment that brings %s (%s), not at the end", (bytes) => {
    const v = new Utf8Validator(isValidUtf8);
    expect(v.push(hex(bytes), false)).toBe(false);
  });

  it("fails on the fragment whose first byte breaks a carried sequence", () => {
    for (const [first, second] of [
      ["ed", "a0"],
      ["f4", "90"],
      ["e2 82", "41"],
      ["f0 9f 98", "41"],
      ["f0", "9f 41"],
    ] as const) {
      const v = new Utf8Validator(isValidUtf8);
      expect(v.push(hex(first), false)).toBe(true);
      expect(v.push(hex(second), false)).toBe(false);
    }
  });

  it("fails at the final push when a code point is incomplete, and resets", () => {
    const v = new Utf8Validator(isValidUtf8);
    expect(v.push(hex("41 e2 82"), false)).toBe(true);
    expect(v.push(hex(""), true)).toBe(false);
    v.reset();
    expect(v.push(hex("ac"), true)).toBe(false); // the carried bytes are gone: a lone continuation
    v.reset();
    expect(v.push(hex("41 e2"), true)).toBe(false);
    v.reset();
    expect(v.push(hex("e2 82 ac"), true)).toBe(true);
  });

  it("only calls isValid on runs of complete code points", () => {
    const seen: string[] = [];
    const v = new Utf8Validator((b) => {
      seen.push([...b].map((x) => x.toString(16)).join(" "));
      return isValidUtf8(b);
    });
    expect(v.push(hex("41 e2 82"), false)).toBe(true);
    expect(v.push(hex("ac 42 f0 9f"), false)).toBe(true);
    expect(v.push(hex("98 80"), true)).toBe(true);
    expect(seen).toEqual(["41", "42"]);
  });

  it("fails on exactly the fragment where a streaming fatal TextDecoder fails, on random bytes and cuts", () => {
    fc.assert(
      fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 6 }), (list, cuts) => {
        const bytes = Uint8Array.from(list);
        expect(pushAll(bytes, cuts)).toBe(streamingOracle(bytes, cuts));
      }),
      { numRuns: 20000 },
    );
  });

  it("accepts any valid text at random cuts", () => {
    fc.assert(
      fc.property(
        validText,
        fc.array(fc.nat(), { maxLength: 6 }),
        (bytes, cuts) => pushAll(bytes, cuts) === -1,
      ),
    );
  });
});

describe("defaultUtf8", () => {
  it("encodes and decodes, keeping a leading BOM and astral code points", () => {
    const text = "\uFEFFhé😀";
    const bytes = defaultUtf8.encode(text);
    expect(bytes).toEqual(hex("ef bb bf 68 c3 a9 f0 9f 98 80"));
    expect(defaultUtf8.isValid(bytes)).toBe(true);
    expect(defaultUtf8.decode(bytes)).toBe(text);
  });
});

describe("encodeUtf8 and encodeUtf8Into", () => {
  it("encode 1- to 4-byte code points, and a lone surrogate as U+FFFD", () => {
    const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
    expect(hex(encodeUtf8("aé日😀"))).toBe("61 c3 a9 e6 97 a5 f0 9f 98 80");
    expect(hex(encodeUtf8("\ud800x"))).toBe("ef bf bd 78");
    const dst = new Uint8Array(16).fill(0xaa);
    expect(encodeUtf8Into("é\udc00", dst, 3)).toBe(5);
    expect(hex(dst.subarray(2, 9))).toBe("aa c3 a9 ef bf bd aa");
  });
});

describe("resolveUtf8Codec", () => {
  it("fills the gaps with the default, once per option object, and keeps a custom encode's say", () => {
    expect(resolveUtf8Codec(undefined)).toBe(defaultUtf8);
    const isValid = (bytes: Uint8Array) => bytes.length < 10;
    const partial = { isValid };
    const codec = resolveUtf8Codec(partial);
    expect(resolveUtf8Codec(partial)).toBe(codec);
    expect(codec.isValid).toBe(isValid);
    expect(codec.encodeInto).toBe(encodeUtf8Into);
    const encode = (text: string) => encodeUtf8(text.toUpperCase());
    expect(resolveUtf8Codec({ encode }).encodeInto).toBeUndefined();
  });
});

describe("Utf8ChunkDecoder", () => {
  it("decodes pieces split anywhere into strings that never split a code point", () => {
    const text = "a€🌊é";
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i <= bytes.length; i++) {
      const decoder = new Utf8ChunkDecoder();
      const first = decoder.push(bytes.subarray(0, i), false)!;
      const second = decoder.push(bytes.subarray(i), true)!;
      expect(first + second).toBe(text);
      expect(first).not.toMatch(/[\uD800-\uDBFF]$|\uFFFD/);
    }
  });

  it("returns undefined on invalid bytes and on a code point left incomplete at the end", () => {
    const decoder = new Utf8ChunkDecoder();
    expect(decoder.push(Uint8Array.of(0x61, 0xed, 0xa0), false)).toBeUndefined();
    expect(decoder.push(Uint8Array.of(0x61, 0xe2, 0x82), false)).toBe("a");
    expect(decoder.push(new Uint8Array(0), true)).toBeUndefined();
    decoder.reset();
    expect(decoder.push(Uint8Array.of(0x62), true)).toBe("b");
  });
});
