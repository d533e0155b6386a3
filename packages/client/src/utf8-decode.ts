/**
 * Decoding validated UTF-8 into strings on Node. Text dense in non-ASCII characters (CJK, Cyrillic,
 * emoji, mixed scripts) goes through a JavaScript UTF-8 to UTF-16 loop into a scratch buffer, then
 * `Buffer#toString("utf16le")` (a copy): V8's UTF-8 decoder, behind TextDecoder and
 * `Buffer#toString("utf8")` alike, took about 3x as long on such text. Text that is mostly ASCII
 * stays with TextDecoder, which copies ASCII natively and beat the loop there by 1.3-2x.
 */
import { Buffer } from "node:buffer";

/** Not `fatal`: the bytes are validated first. `ignoreBOM` keeps a leading U+FEFF, part of the message. */
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** `utf16le` reads code units in little-endian order: the loop writes them in the platform's. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the loop's fixed costs (the ASCII check, the second copy) outweigh its gain. */
export const LOOP_MIN = 32;

/** Bytes at the start of a message that decide the path: the loop if a quarter or more are not ASCII. */
export const SAMPLE = 16;

/** Above this many bytes TextDecoder: the scratch buffer (2 bytes per code unit) stays at most 128 KiB. */
export const LOOP_MAX = 64 * 1024;

/** Whether a quarter or more of the first SAMPLE bytes are not ASCII. */
function mostlyNonAscii(bytes: Uint8Array): boolean {
  const sampled = Math.min(bytes.length, SAMPLE);
  let high = 0;
  for (let i = 0; i < sampled; i++) high += bytes[i]! >>> 7;
  return 4 * high >= sampled;
}

let units = new Uint16Array(0);
let unitBytes = Buffer.alloc(0);

/**
 * Decodes `bytes`, which must be valid UTF-8 (the loop does not check): the same string as
 * `new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes)`.
 */
export function decodeValidUtf8(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length < LOOP_MIN || length > LOOP_MAX || !LITTLE_ENDIAN || !mostlyNonAscii(bytes)) {
    return textDecoder.decode(bytes);
  }
  // At most one code unit per byte: a 4-byte sequence becomes 2 units.
  if (units.length < length) {
    units = new Uint16Array(Math.max(length, Math.min(units.length * 2, LOOP_MAX)));
    unitBytes = Buffer.from(units.buffer, units.byteOffset, units.byteLength);
  }
  const out = units;
  let n = 0;
  let i = 0;
  while (i < length) {
    let b = bytes[i]!;
    // Runs of ASCII in a loop of their own: one compare per byte.
    while (b < 0x80) {
      out[n++] = b;
      if (++i === length) return unitBytes.toString("utf16le", 0, 2 * n);
      b = bytes[i]!;
    }
    if (b < 0xe0) {
      out[n++] = ((b & 0x1f) << 6) | (bytes[i + 1]! & 0x3f);
      i += 2;
    } else if (b < 0xf0) {
      out[n++] = ((b & 0x0f) << 12) | ((bytes[i + 1]! & 0x3f) << 6) | (bytes[i + 2]! & 0x3f);
      i += 3;
    } else {
      const point =
        ((b & 0x07) << 18) |
        ((bytes[i + 1]! & 0x3f) << 12) |
        ((bytes[i + 2]! & 0x3f) << 6) |
        (bytes[i + 3]! & 0x3f);
      // A surrogate pair: (point - 0x10000) split into its high and low 10 bits.
      out[n++] = 0xd7c0 + (point >>> 10);
      out[n++] = 0xdc00 | (point & 0x3ff);
      i += 4;
    }
  }
  return unitBytes.toString("utf16le", 0, 2 * n);
}
