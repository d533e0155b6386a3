import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OUTPUT, renderMaskKernelModule } from "../scripts/build-mask-kernel.js";
import { mask, maskInto, maskIntoWords, maskWords, SIMD_MIN } from "../src/mask.js";
import { compileMaskKernel, type MaskKernel, maskKernel } from "../src/mask-kernel.js";
import { randomBytes, referenceMask } from "./helpers/mask-oracle.js";

/** The first index where `a` and `b` differ, -1 when equal (toEqual is too slow on 64 KiB arrays). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Whether every byte of `bytes` is `value`. */
function allAre(bytes: Uint8Array, value: number): boolean {
  return bytes.every((b) => b === value);
}

const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
const word = key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24);

function compiled(): MaskKernel {
  const kernel = compileMaskKernel();
  if (kernel === undefined) throw new Error("this Node runs WebAssembly SIMD: the kernel must compile");
  return kernel;
}

/**
 * Masks `length` bytes at source offset `srcShift` into a destination at `dstShift`, with the
 * kernel and with the JavaScript path, and checks both against the byte definition, the source
 * unchanged and the bytes around the destination untouched. Returns what went wrong, or "".
 */
function compareWithJavaScript(
  kernel: MaskKernel,
  length: number,
  srcShift: number,
  dstShift: number,
): string {
  const backing = randomBytes(srcShift + length, length * 7 + srcShift);
  const src = backing.subarray(srcShift);
  const original = src.slice();
  const expected = referenceMask(src, key);
  const viaKernel = new Uint8Array(dstShift + length + 5).fill(0xaa);
  const viaJavaScript = viaKernel.slice();
  kernel(src, word, viaKernel, dstShift);
  maskIntoWords(src, key, viaJavaScript, dstShift);
  const where = `length ${length}, source offset ${srcShift}, destination offset ${dstShift}`;
  if (firstDifference(viaKernel, viaJavaScript) !== -1) return `${where}: kernel and JavaScript differ`;
  if (firstDifference(viaKernel.subarray(dstShift, dstShift + length), expected) !== -1) {
    return `${where}: not the byte definition`;
  }
  if (
    !allAre(viaKernel.subarray(0, dstShift), 0xaa) ||
    !allAre(viaKernel.subarray(dstShift + length), 0xaa)
  ) {
    return `${where}: wrote outside the destination`;
  }
  if (firstDifference(src, original) !== -1) return `${where}: changed the source`;
  return "";
}

describe("the committed kernel bytes", () => {
  it("are what scripts/build-mask-kernel.ts assembles from mask-kernel.wat", async () => {
    expect(readFileSync(OUTPUT, "utf8")).toBe(await renderMaskKernelModule());
  });
});

describe("compileMaskKernel", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("equals the JavaScript path at every length 0..1100 and every source and destination offset modulo 4", () => {
    const kernel = compiled();
    const failures: string[] = [];
    for (let length = 0; length <= 1100; length++) {
      for (let srcShift = 0; srcShift < 4; srcShift++) {
        for (let dstShift = 0; dstShift < 4; dstShift++) {
          failures.push(compareWithJavaScript(kernel, length, srcShift, dstShift));
        }
      }
    }
    expect(failures.filter((failure) => failure !== "")).toEqual([]);
  });

  it("equals the JavaScript path around the 64 KiB chunk of its memory and past several chunks", () => {
    const kernel = compiled();
    const failures: string[] = [];
    for (const length of [65535, 65536, 65537, 65539, 65541, 131072, 3 * 65536 + 13]) {
      for (let shift = 0; shift < 4; shift++)
        failures.push(compareWithJavaScript(kernel, length, shift, 3 - shift));
    }
    expect(failures.filter((failure) => failure !== "")).toEqual([]);
  });

  it("masks in place when source and destination are the same bytes", () => {
    const kernel = compiled();
    for (const length of [0, 3, 64, 100, 4099, 65536 + 7]) {
      const data = randomBytes(length, length);
      const expected = referenceMask(data, key);
      kernel(data, word, data, 0);
      expect(firstDifference(data, expected)).toBe(-1);
    }
  });

  it("is undefined without WebAssembly, and for bytes the engine rejects, so masking stays in JavaScript", () => {
    expect(compileMaskKernel("0061736d01")).toBeUndefined();
    vi.stubGlobal("WebAssembly", undefined);
    expect(compileMaskKernel()).toBeUndefined();
  });
});

describe("maskKernel", () => {
  it("compiles once and hands out the same kernel afterwards", () => {
    const first = maskKernel();
    expect(first).toBeTypeOf("function");
    expect(maskKernel()).toBe(first);
  });
});

describe("mask and maskInto from SIMD_MIN bytes on", () => {
  it("match the byte definition and the JavaScript path for any bytes, offsets and key phase", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: SIMD_MIN - 8, max: 5000 }),
        fc.nat(3),
        fc.nat(3),
        fc.nat(7),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        (length, srcShift, dstOffset, keyAt, pool) => {
          const bytes = randomBytes(srcShift + length, length + keyAt).subarray(srcShift);
          const k = pool.subarray(keyAt & 3, (keyAt & 3) + 4);
          const into = new Uint8Array(dstOffset + length);
          maskInto(bytes, pool, into, dstOffset, keyAt & 3);
          expect(firstDifference(into.subarray(dstOffset), referenceMask(bytes, k))).toBe(-1);
          const inPlace = bytes.slice();
          mask(inPlace, k, keyAt);
          const javaScript = bytes.slice();
          maskWords(javaScript, k, keyAt);
          expect(firstDifference(inPlace, javaScript)).toBe(-1);
          expect(firstDifference(inPlace, referenceMask(bytes, k, keyAt))).toBe(-1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
