/**
 * Base64 (RFC 4648 section 4, standard alphabet, with padding), without Node's buffers or `atob`/`btoa`
 * so that the core runs in any runtime. Used for `Sec-WebSocket-Key`/`-Accept` and Basic auth.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Sextet value of each ASCII code, -1 for characters outside the alphabet. */
function decodeTable(): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
}

const DECODE = /* @__PURE__ */ decodeTable();

export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const left = bytes.length - i;
  if (left === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + "==";
  } else if (left === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Strict decoding: the length must be a multiple of 4, only alphabet characters, `=` only as the
 * final one or two characters, and the unused bits before the padding must be zero (so each byte
 * string has exactly one accepted encoding). No whitespace. Throws a TypeError otherwise.
 *
 * Strictness matters for `Sec-WebSocket-Key`, which "MUST be a nonce ... base64-encoded" and "16 bytes
 * in length when decoded" (RFC 6455 section 4.1): any real client produces canonical base64.
 */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new TypeError("Invalid base64: length is not a multiple of 4");
  let padding = 0;
  if (text.endsWith("==")) padding = 2;
  else if (text.endsWith("=")) padding = 1;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      let value: number;
      if (last && code === 0x3d /* = */ && j >= 4 - padding) value = 0;
      else {
        value = code < 128 ? DECODE[code]! : -1;
        if (value < 0) throw new TypeError(`Invalid base64: unexpected character at ${i + j}`);
      }
      n = (n << 6) | value;
    }
    if (last && padding === 2 && (n & 0xffff) !== 0)
      throw new TypeError("Invalid base64: non-zero padding bits");
    if (last && padding === 1 && (n & 0xff) !== 0)
      throw new TypeError("Invalid base64: non-zero padding bits");
    out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}
