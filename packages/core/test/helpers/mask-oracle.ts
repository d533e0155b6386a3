/** What the masking tests share: the RFC's definition as the oracle, and reproducible payloads. */

/** The RFC 6455 section 5.3 definition, one byte at a time: the oracle. */
export function referenceMask(data: Uint8Array, key: Uint8Array, keyOffset = 0): Uint8Array {
  return data.map((b, i) => b ^ key[(i + keyOffset) % 4]!);
}

/** `length` pseudo-random bytes, the same for the same `seed`. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
