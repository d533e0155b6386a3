/**
 * The WebAssembly SIMD masking kernel (source: mask-kernel.wat, bytes: mask-kernel-wasm.ts): XORs 16
 * bytes per instruction where JavaScript's best is a 32-bit word, so masking large payloads runs
 * about 3x faster even though each chunk is copied into the kernel's memory and back. Compiled on
 * first use; where WebAssembly or its SIMD is unavailable (or forbidden, as by a Content Security
 * Policy without 'wasm-unsafe-eval'), mask.ts keeps its JavaScript path.
 */
import { MASK_KERNEL_WASM_HEX } from "./mask-kernel-wasm.js";

/**
 * Writes `src` XORed with the little-endian key `word` into `dst` at `dstOffset`. `dst` may be the
 * same bytes as `src` (masking in place), never a different overlapping range.
 */
export type MaskKernel = (src: Uint8Array, word: number, dst: Uint8Array, dstOffset: number) => void;

function decodeHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Compiles the kernel from its hexadecimal bytes; undefined where it cannot run. */
export function compileMaskKernel(hex: string = MASK_KERNEL_WASM_HEX): MaskKernel | undefined {
  if (typeof WebAssembly !== "object" || WebAssembly === null) return undefined;
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(decodeHex(hex)), {});
  } catch {
    return undefined;
  }
  const run = instance.exports.mask as (ptr: number, length: number, word: number) => void;
  // One page, never grown: the view stays attached.
  const scratch = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  const chunk = scratch.length;
  return (src, word, dst, dstOffset) => {
    const length = src.length;
    // Each chunk but the last is a whole number of words: the key phase carries over.
    for (let at = 0; at < length; at += chunk) {
      const size = Math.min(chunk, length - at);
      scratch.set(at === 0 && size === length ? src : src.subarray(at, at + size));
      run(0, size, word);
      dst.set(size === chunk ? scratch : scratch.subarray(0, size), dstOffset + at);
    }
  };
}

/** undefined: not compiled yet; null: cannot run here. */
let kernel: MaskKernel | null | undefined;

/** The kernel, compiled on the first call; undefined where it cannot run. */
export function maskKernel(): MaskKernel | undefined {
  if (kernel === undefined) kernel = compileMaskKernel() ?? null;
  return kernel ?? undefined;
}
