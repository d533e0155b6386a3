/**
 * UTF-8 validation for text messages. RFC 6455 section 8.1: "When an endpoint is to interpret a byte
 * stream as UTF-8 but finds that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint
 * MUST _Fail the WebSocket Connection_" (close 1007).
 *
 * Valid UTF-8 (RFC 3629 section 4, the table Unicode 15 calls "well-formed byte sequences"):
 *
 *   U+0000..U+007F      00..7F
 *   U+0080..U+07FF      C2..DF  80..BF
 *   U+0800..U+0FFF      E0      A0..BF  80..BF      (E0 80..9F would be overlong)
 *   U+1000..U+CFFF      E1..EC  80..BF  80..BF
 *   U+D000..U+D7FF      ED      80..9F  80..BF      (ED A0..BF would be a surrogate)
 *   U+E000..U+FFFF      EE..EF  80..BF  80..BF
 *   U+10000..U+3FFFF    F0      90..BF  80..BF  80..BF   (F0 80..8F would be overlong)
 *   U+40000..U+FFFFF    F1..F3  80..BF  80..BF  80..BF
 *   U+100000..U+10FFFF  F4      80..8F  80..BF  80..BF   (F4 90.. would be above U+10FFFF)
 */
/**
 * Pluggable UTF-8: the core validates text incrementally, carrying code points split across
 * fragments itself, and calls `isValid` on runs of complete code points only. Node users plug in
 * `buffer.isUtf8` (SIMD, far faster than a fatal TextDecoder on non-ASCII text).
 */
export interface Utf8Codec {
  /** True when `bytes` (which never ends inside a code point) is valid UTF-8. */
  isValid(bytes: Uint8Array): boolean;
  /** Decodes bytes that were already validated. */
  decode(bytes: Uint8Array): string;
  /** Encodes a string (never fails: lone surrogates become U+FFFD). */
  encode(text: string): Uint8Array;
  /**
   * Optional: encodes `text` into `dst` at `offset`, which has room for `3 * text.length` bytes, and
   * returns the number of bytes written. Lets a text frame be encoded in place, without the copy of
   * `encode`'s result; without it the core uses `encode`.
   */
  encodeInto?(text: string, dst: Uint8Array, offset: number): number;
}

/**
 * Strict validator, a hand-written version of the table above with an ASCII fast path. Pure JS, no
 * allocation. Node users can plug `buffer.isUtf8` (simdutf) instead through `Utf8Codec`.
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const length = bytes.length;
  let i = length >= ASCII_WORD_THRESHOLD ? asciiPrefixLength(bytes) : 0;
  while (i < length) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      // ASCII fast path: four bytes per test while no high bit is set.
      while (i + 4 <= length && ((bytes[i]! | bytes[i + 1]! | bytes[i + 2]! | bytes[i + 3]!) & 0x80) === 0) {
        i += 4;
      }
      continue;
    }
    if (c < 0xc2) return false; // a continuation byte, or C0/C1 (overlong 2-byte forms)
    if (c < 0xe0) {
      if (i + 1 >= length || (bytes[i + 1]! & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    if (c < 0xf0) {
      if (i + 2 >= length) return false;
      const c1 = bytes[i + 1]!;
      if ((c1 & 0xc0) !== 0x80 || (bytes[i + 2]! & 0xc0) !== 0x80) return false;
      if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f)) return false;
      i += 3;
      continue;
    }
    if (c < 0xf5) {
      if (i + 3 >= length) return false;
      const c1 = bytes[i + 1]!;
      if ((c1 & 0xc0) !== 0x80 || (bytes[i + 2]! & 0xc0) !== 0x80 || (bytes[i + 3]! & 0xc0) !== 0x80) {
        return false;
      }
      if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return false;
      i += 4;
      continue;
    }
    return false; // F5..FF never appear in UTF-8
  }
  return true;
}

/** Below this length, creating an Int32Array view costs more than the word-wise ASCII scan saves. */
const ASCII_WORD_THRESHOLD = 64;

/**
 * Length of the all-ASCII prefix, give or take the last word: scans 32 bits at a time over the aligned
 * middle of `bytes` (text on the wire is mostly ASCII: JSON, identifiers). A lower bound is enough, the
 * byte loop takes over from there.
 */
function asciiPrefixLength(bytes: Uint8Array): number {
  let i = 0;
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  for (; i < head; i++) if (bytes[i]! >= 0x80) return i;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + head, (bytes.length - head) >>> 2);
  const count = words.length;
  let w = 0;
  // Two words per test: fewer branches.
  while (w + 2 <= count && ((words[w]! | words[w + 1]!) & 0x80808080) === 0) w += 2;
  return head + w * 4;
}

/** Bytes in the sequence that the non-ASCII byte `lead` starts, or 0 when it cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0xc2) return 0; // a continuation byte, or C0/C1 (overlong)
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  if (lead < 0xf5) return 4;
  return 0;
}

/**
 * True when `bytes[start..end)` (shorter than the whole sequence) can still begin a valid code point:
 * the lead byte is valid and each byte so far is in its range. This is what lets an incremental
 * validator fail on "ED A0" or "F4 90" at once, without waiting for the rest of the sequence.
 */
function isValidPrefix(bytes: Uint8Array, start: number, end: number): boolean {
  const lead = bytes[start]!;
  if (sequenceLength(lead) <= end - start) return false; // not a prefix (or not a lead byte)
  if (end - start >= 2) {
    const c1 = bytes[start + 1]!;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (c1 < low || c1 > high) return false;
  }
  return end - start < 3 || (bytes[start + 2]! & 0xc0) === 0x80;
}

/**
 * Incremental validation across fragments of a text message. It keeps the 0-3 trailing bytes of an
 * incomplete code point between pushes, validates runs of complete code points with `isValid`, and
 * fails as soon as a bad byte arrives: a truncated sequence that can no longer become valid (F5, ED A0,
 * F4 90...) fails on the fragment that carries it, not at the end of the message.
 */
export class Utf8Validator {
  readonly #isValid: (bytes: Uint8Array) => boolean;
  /** The bytes of an incomplete code point, carried to the next push. */
  readonly #pending = new Uint8Array(4);
  #pendingLength = 0;

  constructor(isValid: (bytes: Uint8Array) => boolean) {
    this.#isValid = isValid;
  }

  /**
   * Validates the next fragment. `final` says it is the last one: then an incomplete code point at the
   * end is an error. Returns false on invalid UTF-8; after that, call `reset` before reusing it.
   */
  push(bytes: Uint8Array, final: boolean): boolean {
    let start = 0;
    const length = bytes.length;
    if (this.#pendingLength > 0) {
      // Complete the code point carried over from the previous fragment, one byte at a time.
      const pending = this.#pending;
      const need = sequenceLength(pending[0]!);
      while (this.#pendingLength < need && start < length) pending[this.#pendingLength++] = bytes[start++]!;
      if (this.#pendingLength < need) {
        if (!isValidPrefix(pending, 0, this.#pendingLength)) return false;
        return !final;
      }
      // A complete sequence whose proper prefix is valid is valid iff its last byte is a continuation.
      if (!isValidPrefix(pending, 0, need - 1) || (pending[need - 1]! & 0xc0) !== 0x80) return false;
      this.#pendingLength = 0;
    }
    // Find an incomplete sequence at the end: a lead byte in the last 3 bytes with too few after it.
    let tail = length;
    for (let j = length - 1; j >= start && j >= length - 3; j--) {
      const b = bytes[j]!;
      if ((b & 0xc0) !== 0x80) {
        // A byte that cannot lead (C0, C1, F5..FF) also becomes the tail: isValidPrefix rejects it.
        if (b >= 0xc0 && length - j < (sequenceLength(b) || 4)) tail = j;
        break;
      }
    }
    if (
      tail > start &&
      !this.#isValid(start === 0 && tail === length ? bytes : bytes.subarray(start, tail))
    ) {
      return false;
    }
    if (tail < length) {
      if (final || !isValidPrefix(bytes, tail, length)) return false;
      this.#pending.set(bytes.subarray(tail, length));
      this.#pendingLength = length - tail;
    }
    return true;
  }

  /** Forgets any carried bytes, to start a new message. */
  reset(): void {
    this.#pendingLength = 0;
  }
}

/**
 * Validates and decodes a text message that arrives in pieces: each piece is validated as it comes
 * (fail-fast, {@link Utf8Validator}) and decoded to a string that never ends inside a code point
 * (the bytes of an incomplete one are carried to the next piece). For streamed messages.
 */
export class Utf8ChunkDecoder {
  readonly #validator: Utf8Validator;
  /** Streaming TextDecoder: it carries the split code point; the validator already checked the bytes. */
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(isValid: (bytes: Uint8Array) => boolean = isValidUtf8) {
    this.#validator = new Utf8Validator(isValid);
  }

  /**
   * The text of the next piece (maybe ""), or undefined when the bytes are not valid UTF-8 (then
   * call `reset` before reuse). `final` marks the last piece: an incomplete code point is an error.
   */
  push(bytes: Uint8Array, final: boolean): string | undefined {
    if (!this.#validator.push(bytes, final)) {
      this.reset();
      return undefined;
    }
    return this.#decoder.decode(bytes, { stream: !final });
  }

  /** Forgets any carried bytes, to start a new message. */
  reset(): void {
    this.#validator.reset();
    this.#decoder.decode();
  }
}

const encoder = /* @__PURE__ */ new TextEncoder();
/** Not fatal: the reader only decodes bytes it has validated. `ignoreBOM` keeps a leading U+FEFF. */
const decoder = /* @__PURE__ */ new TextDecoder("utf-8", { ignoreBOM: true });

/** The core's one UTF-8 encoder (lone surrogates become U+FFFD). */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** {@link encodeUtf8} into `dst` at `offset`; returns the bytes written (room is the caller's job). */
export function encodeUtf8Into(text: string, dst: Uint8Array, offset: number): number {
  return encoder.encodeInto(text, dst.subarray(offset)).written;
}

/** The default codec: the pure-JS validator above, TextDecoder and TextEncoder. */
export const defaultUtf8: Utf8Codec = {
  isValid: isValidUtf8,
  decode: (bytes) => decoder.decode(bytes),
  encode: encodeUtf8,
  encodeInto: encodeUtf8Into,
};

/**
 * The codec resolved from each `utf8` option object, so that connections given the same one (the
 * Node client passes one module-level codec) share it instead of holding a codec object each.
 */
const resolvedCodecs = new WeakMap<Partial<Utf8Codec>, Utf8Codec>();

/** A whole codec from a partial one, the default filling the gaps; the same object for the same input. */
export function resolveUtf8Codec(partial: Partial<Utf8Codec> | undefined): Utf8Codec {
  if (partial === undefined) return defaultUtf8;
  let codec = resolvedCodecs.get(partial);
  if (codec === undefined) {
    // The default encodeInto stands in only for the default encode: a custom encode keeps its say.
    const encodeInto = partial.encodeInto ?? (partial.encode === undefined ? encodeUtf8Into : undefined);
    codec = {
      isValid: partial.isValid ?? defaultUtf8.isValid,
      decode: partial.decode ?? defaultUtf8.decode,
      encode: partial.encode ?? encodeUtf8,
      ...(encodeInto !== undefined ? { encodeInto } : {}),
    };
    resolvedCodecs.set(partial, codec);
  }
  return codec;
}
