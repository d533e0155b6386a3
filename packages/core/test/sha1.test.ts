import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../src/base64.js";
import { sha1 } from "../src/sha1.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

describe("sha1", () => {
  // FIPS 180-2 appendix A and the NIST example vectors.
  it.each([
    ["", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["abc", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"],
    [
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "a49b2446a02c645bf419f995b67091253a04a259",
    ],
    ["The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"],
  ])("hashes %j", (input, digest) => {
    expect(hex(sha1(ascii(input)))).toBe(digest);
  });

  it("hashes a million 'a's", () => {
    expect(hex(sha1(new Uint8Array(1_000_000).fill(0x61)))).toBe("34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  });

  it("handles every length around the 55/56/64-byte padding boundaries", () => {
    // Known digests of "a" repeated n times, computed independently with node:crypto.
    const known: Record<number, string> = {
      55: "c1c8bbdc22796e28c0e15163d20899b65621d65a",
      56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
      63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5",
      64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
      65: "11655326c708d70319be2610e8a57d9a5b959d3b",
    };
    for (const [n, digest] of Object.entries(known)) {
      expect(hex(sha1(new Uint8Array(Number(n)).fill(0x61))), `length ${n}`).toBe(digest);
    }
  });
});

describe("base64", () => {
  it.each([
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ])("encodes and decodes the RFC 4648 vector %j", (plain, encoded) => {
    expect(encodeBase64(ascii(plain))).toBe(encoded);
    expect(decodeBase64(encoded)).toEqual(ascii(plain));
  });

  it("round-trips any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
      }),
    );
  });

  it.each(["Zg=", "Zg", "Z===", "Zm9v!A==", "Zh==", "Zm9=", "Zg==Zg==", " Zg==", "Zm9\u00e9"])(
    "rejects the non-canonical or invalid %j",
    (text) => {
      expect(() => decodeBase64(text)).toThrow(TypeError);
    },
  );
});
