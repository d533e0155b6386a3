/**
 * Frame header encoding and decoding (RFC 6455 section 5.2). The one header encoder: `encodeFrame`,
 * the writer, tests and the conformance suite all go through `writeFrameHeader`.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-------+-+-------------+-------------------------------+
 *  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *  | |1|2|3|       |K|             |                               |
 */
import { ErrorCodes, ProtocolError } from "./errors.js";
import { maskInto } from "./mask.js";

/** A decoded frame header (RFC 6455 section 5.2): the bits and the payload length, not the payload. */
export interface FrameHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  payloadLength: number;
  /** The 4-byte masking key, when `masked`. */
  maskKey?: Uint8Array;
}

/** 2^32, to split lengths into the two 32-bit halves of the 64-bit length field. */
const TWO_POW_32 = 0x1_0000_0000;
/** The high 32 bits of a length above 2^53 - 1 (Number.MAX_SAFE_INTEGER) exceed this. */
const MAX_SAFE_HIGH = 0x1f_ffff;

/** Size of the header for this payload length: 2, 4 or 10 bytes, plus 4 for the mask key. */
export function frameHeaderSize(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength < 0x1_0000 ? 4 : 10;
  return masked ? base + 4 : base;
}

function checkLength(payloadLength: number): void {
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0) {
    throw new RangeError(`Payload length must be an integer in [0, 2^53 - 1], got ${payloadLength}`);
  }
}

/**
 * Writes a header into `buf` at `offset` (which must have room for `frameHeaderSize` bytes), with the
 * shortest length form ("the minimal number of bytes MUST be used to encode the length", section 5.2).
 * Returns the header size.
 */
export function writeFrameHeader(
  buf: Uint8Array,
  offset: number,
  fin: boolean,
  rsv1: boolean,
  opcode: number,
  payloadLength: number,
  maskKey: Uint8Array | undefined,
  rsv2 = false,
  rsv3 = false,
): number {
  buf[offset] =
    (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (rsv2 ? 0x20 : 0) | (rsv3 ? 0x10 : 0) | (opcode & 0x0f);
  const maskBit = maskKey === undefined ? 0 : 0x80;
  let at = offset + 2;
  if (payloadLength < 126) {
    buf[offset + 1] = maskBit | payloadLength;
  } else if (payloadLength < 0x1_0000) {
    buf[offset + 1] = maskBit | 126;
    buf[offset + 2] = payloadLength >>> 8;
    buf[offset + 3] = payloadLength & 0xff;
    at += 2;
  } else {
    buf[offset + 1] = maskBit | 127;
    const high = Math.floor(payloadLength / TWO_POW_32);
    const low = payloadLength >>> 0;
    buf[at] = high >>> 24;
    buf[at + 1] = (high >>> 16) & 0xff;
    buf[at + 2] = (high >>> 8) & 0xff;
    buf[at + 3] = high & 0xff;
    buf[at + 4] = low >>> 24;
    buf[at + 5] = (low >>> 16) & 0xff;
    buf[at + 6] = (low >>> 8) & 0xff;
    buf[at + 7] = low & 0xff;
    at += 8;
  }
  if (maskKey !== undefined) {
    buf[at] = maskKey[0]!;
    buf[at + 1] = maskKey[1]!;
    buf[at + 2] = maskKey[2]!;
    buf[at + 3] = maskKey[3]!;
    at += 4;
  }
  return at - offset;
}

function checkMaskKey(h: { masked: boolean; maskKey?: Uint8Array | undefined }): Uint8Array | undefined {
  if (!h.masked) return undefined;
  if (h.maskKey === undefined || h.maskKey.length !== 4) {
    throw new RangeError("A masked frame needs a 4-byte maskKey");
  }
  return h.maskKey;
}

/** Encodes a header: 2, 4 or 10 bytes, plus the 4 mask bytes when `masked` (then `maskKey` is required). */
export function encodeFrameHeader(h: FrameHeader): Uint8Array {
  checkLength(h.payloadLength);
  const key = checkMaskKey(h);
  const buf = new Uint8Array(frameHeaderSize(h.payloadLength, h.masked));
  writeFrameHeader(buf, 0, h.fin, h.rsv1, h.opcode, h.payloadLength, key, h.rsv2, h.rsv3);
  return buf;
}

/**
 * Encodes a whole frame into one new buffer: header then payload, masked while copying when `maskKey`
 * is given. `payload` is never modified. `fin` defaults to true.
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  options?: { fin?: boolean; rsv1?: boolean; maskKey?: Uint8Array },
): Uint8Array {
  const maskKey = options?.maskKey;
  if (maskKey !== undefined && maskKey.length !== 4) throw new RangeError("maskKey must be 4 bytes");
  const length = payload.length;
  const buf = new Uint8Array(frameHeaderSize(length, maskKey !== undefined) + length);
  const at = writeFrameHeader(buf, 0, options?.fin ?? true, options?.rsv1 ?? false, opcode, length, maskKey);
  if (maskKey === undefined) buf.set(payload, at);
  else maskInto(payload, maskKey, buf, at);
  return buf;
}

/**
 * Reads the 64-bit extended length at `at`. "The most significant bit MUST be 0" (section 5.2); and
 * JavaScript numbers are exact only up to 2^53 - 1, far above any sane limit: reject beyond that.
 */
export function readLength64(bytes: Uint8Array, at: number): number {
  const high = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  if (high > MAX_SAFE_HIGH) {
    throw new ProtocolError(
      ErrorCodes.InvalidPayloadLength,
      high >= 0x8000_0000
        ? "Invalid payload length: the most significant bit of the 64-bit length is set"
        : "Invalid payload length: above 2^53 - 1",
    );
  }
  const low =
    ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
  return high * TWO_POW_32 + low;
}

/**
 * Decodes the header at `offset`. Returns undefined when the bytes end before the header does (no side
 * effects: call again with more bytes). `maskKey`, when present, is a view into `bytes`. Only the length
 * is validated (see `readLength64`); the protocol rules (opcodes, RSV bits, control frame sizes) are
 * the reader's job.
 */
export function decodeFrameHeader(
  bytes: Uint8Array,
  offset = 0,
): { header: FrameHeader; headerSize: number } | undefined {
  const available = bytes.length - offset;
  if (available < 2) return undefined;
  const b0 = bytes[offset]!;
  const b1 = bytes[offset + 1]!;
  const masked = (b1 & 0x80) !== 0;
  const len7 = b1 & 0x7f;
  const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const headerSize = 2 + extra + (masked ? 4 : 0);
  if (available < headerSize) return undefined;
  const at = offset + 2;
  const payloadLength =
    len7 === 126 ? (bytes[at]! << 8) | bytes[at + 1]! : len7 === 127 ? readLength64(bytes, at) : len7;
  const header: FrameHeader = {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    payloadLength,
  };
  if (masked) {
    const keyAt = at + extra;
    header.maskKey = bytes.subarray(keyAt, keyAt + 4);
  }
  return { header, headerSize };
}
