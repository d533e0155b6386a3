import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MaskKeys, mask, maskInto, unmask } from "../src/mask.js";
import { randomBytes, referenceMask } from "./helpers/mask-oracle.js";

describe("mask", () => {
  const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

  it("masks the RFC 6455 section 5.7 'Hello' example", () => {
    const data = new TextEncoder().encode("Hello");
    mask(data, key);
    expect([...data]).toEqual([0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  it("matches the byte definition for every length 0..64, byteOffset 0..3 and keyOffset 0..7", () => {
    for (let length = 0; length <= 64; length++) {
      for (let byteOffset = 0; byteOffset < 4; byteOffset++) {
        for (let keyOffset = 0; keyOffset < 8; keyOffset++) {
          const backing = randomBytes(length + 8, length * 31 + byteOffset);
          const data = backing.subarray(byteOffset, byteOffset + length);
          const expected = referenceMask(data, key, keyOffset);
          const before = backing.slice();
          mask(data, key, keyOffset);
          expect(data).toEqual(expected);
          // Bytes outside the view are untouched.
          expect(backing.subarray(0, byteOffset)).toEqual(before.subarray(0, byteOffset));
          expect(backing.subarray(byteOffset + length)).toEqual(before.subarray(byteOffset + length));
        }
      }
    }
  });

  it("round-trips (unmask is mask) on random data, offsets and keys", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(100),
        (bytes, byteOffset, k, keyOffset) => {
          const backing = new Uint8Array(bytes.length + byteOffset);
          backing.set(bytes, byteOffset);
          const view = backing.subarray(byteOffset);
          mask(view, k, keyOffset);
          expect(view).toEqual(referenceMask(bytes, k, keyOffset));
          unmask(view, k, keyOffset);
          expect(view).toEqual(bytes);
        },
      ),
    );
  });

  it("continues across chunk boundaries when given the number of bytes already masked", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.array(fc.nat(500)), (bytes, cuts) => {
        const whole = bytes.slice();
        mask(whole, key);
        const pieces = bytes.slice();
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let start = 0;
        for (const end of [...points, bytes.length]) {
          mask(pieces.subarray(start, end), key, start);
          start = end;
        }
        expect(pieces).toEqual(whole);
      }),
    );
  });
});

describe("maskInto", () => {
  it("equals mask on a copy, leaves the source alone and the rest of dst untouched", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(9),
        (src, key, dstOffset) => {
          const original = src.slice();
          const dst = new Uint8Array(dstOffset + src.length + 3).fill(0xaa);
          maskInto(src, key, dst, dstOffset);
          const copy = src.slice();
          mask(copy, key);
          expect(dst.subarray(dstOffset, dstOffset + src.length)).toEqual(copy);
          expect(src).toEqual(original);
          expect(
            [...dst.subarray(0, dstOffset), ...dst.subarray(dstOffset + src.length)].every((b) => b === 0xaa),
          ).toBe(true);
        },
      ),
    );
  });
});

describe("maskInto at every alignment of source and destination", () => {
  it("equals mask on a copy whatever the source's and destination's offsets modulo 4 and the key's offset", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.nat(7),
        fc.nat(7),
        fc.nat(3),
        (bytes, srcShift, dstOffset, keyAt) => {
          // The source is a view at srcShift into a bigger buffer, so both the one-pass word loop
          // (same alignment) and the copy-then-mask path (different alignment) are taken.
          const backing = new Uint8Array(srcShift + bytes.length);
          backing.set(bytes, srcShift);
          const src = backing.subarray(srcShift);
          const pool = Uint8Array.of(0x5a, 0x37, 0xfa, 0x21, 0x3d, 0x81, 0x0f);
          const key = pool.slice(keyAt, keyAt + 4);
          const dst = new Uint8Array(dstOffset + bytes.length + 3).fill(0xaa);
          maskInto(src, pool, dst, dstOffset, keyAt);
          const expected = bytes.slice();
          mask(expected, key);
          expect(dst.subarray(dstOffset, dstOffset + bytes.length)).toEqual(expected);
          expect(src).toEqual(bytes);
          expect(dst.subarray(dstOffset + bytes.length).every((b) => b === 0xaa)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("MaskKeys", () => {
  /** A deterministic source that counts calls and fills with 0, 1, 2, ... across calls. */
  function counter() {
    const calls: number[] = [];
    let next = 0;
    const fill = (b: Uint8Array) => {
      calls.push(b.length);
      for (let i = 0; i < b.length; i++) b[i] = next++ & 0xff;
    };
    return { calls, fill };
  }

  it("hands out consecutive 4-byte keys from one random fill per pool", () => {
    const { calls, fill } = counter();
    const keys = new MaskKeys(fill, 8);
    expect(calls).toEqual([]); // lazy: no random bytes until the first key
    expect([...keys.next()]).toEqual([0, 1, 2, 3]);
    expect([...keys.next()]).toEqual([4, 5, 6, 7]);
    expect(calls).toEqual([8]);
    expect([...keys.next()]).toEqual([8, 9, 10, 11]);
    expect(calls).toEqual([8, 8]);
  });

  it("never overwrites a key handed out earlier when it refills", () => {
    const { fill } = counter();
    const keys = new MaskKeys(fill, 4);
    const first = keys.next();
    keys.next();
    keys.next();
    expect([...first]).toEqual([0, 1, 2, 3]);
  });

  it("splits fills larger than the 65536-byte getRandomValues limit", () => {
    const { calls, fill } = counter();
    new MaskKeys(fill, 65536 * 2 + 8).next();
    expect(calls).toEqual([65536, 65536, 8]);
  });

  it("works with crypto.getRandomValues and its default pool size", () => {
    const keys = new MaskKeys((b) => globalThis.crypto.getRandomValues(b));
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(keys.next().join(","));
    expect(seen.size).toBeGreaterThan(4990); // 5000 random 32-bit keys: collisions are vanishingly rare
  });

  it("rejects a pool size that is not a positive multiple of 4", () => {
    for (const size of [0, 3, 6, 4.5, -4]) expect(() => new MaskKeys(() => {}, size)).toThrow(RangeError);
  });
});

describe("maskInto with the key at an offset, and MaskKeys.nextAt", () => {
  it("masks with the 4 bytes at keyAt exactly as with a 4-byte key, below and above the copy threshold", () => {
    const pool = Uint8Array.of(9, 9, 0x37, 0xfa, 0x21, 0x3d, 9, 9);
    const key = pool.slice(2, 6);
    for (const length of [0, 1, 5, 47, 48, 49, 200]) {
      const src = Uint8Array.from({ length }, (_, i) => (i * 17) & 0xff);
      const a = new Uint8Array(length + 3);
      const b = new Uint8Array(length + 3);
      maskInto(src, key, a, 3);
      maskInto(src, pool, b, 3, 2);
      expect(b).toEqual(a);
    }
  });

  it("hands out key offsets into the current block, never the same key twice", () => {
    let n = 0;
    const keys = new MaskKeys((b) => {
      for (let i = 0; i < b.length; i++) b[i] = n++ & 0xff;
    }, 8);
    const seen: number[][] = [];
    for (let i = 0; i < 5; i++) {
      const at = keys.nextAt();
      seen.push(Array.from(keys.block.subarray(at, at + 4)));
    }
    expect(seen).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 10, 11],
      [12, 13, 14, 15],
      [16, 17, 18, 19],
    ]);
  });
});
