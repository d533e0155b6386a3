/**
 * The send path: each frame written into its own buffer (`frame`) or into the caller's (`frameInto`),
 * header then payload, masked while copying with a fresh
 * key per frame (RFC 6455 section 5.3: "The masking key is a 32-bit value chosen at random by the
 * client ... MUST pick a fresh masking key for each frame"). Keys come from a pooled block of random
 * bytes (see MaskKeys), not one random call per frame.
 */
import { frameHeaderSize, writeFrameHeader } from "./frame.js";
import { MaskKeys, mask, maskInto } from "./mask.js";
import { platformRandomFill } from "./random.js";

/** The options of a {@link FrameWriter}. */
export interface FrameWriterOptions {
  /** true for a client: "a client MUST mask all frames that it sends to the server" (section 5.1). */
  mask: boolean;
  /**
   * Source of mask keys. Default `crypto.getRandomValues`; tests inject a deterministic one. Writers
   * given the same function draw from one shared pool.
   */
  randomFill?: (bytes: Uint8Array) => void;
  /** Allocates each frame's buffer, which is filled entirely. Default `new Uint8Array(size)`. */
  allocate?: (size: number) => Uint8Array;
}

/**
 * One pool of mask keys per random source, shared by the writers that use it. Keys are consumed,
 * never handed out twice, so sharing is safe (`ws` keeps one module-level pool too); a connection
 * then holds no 8 KiB block of its own, and its first frame does not fill one.
 */
const sharedKeys = new WeakMap<(bytes: Uint8Array) => void, MaskKeys>();

function keysFor(randomFill: (bytes: Uint8Array) => void): MaskKeys {
  let keys = sharedKeys.get(randomFill);
  if (keys === undefined) {
    keys = new MaskKeys(randomFill);
    sharedKeys.set(randomFill, keys);
  }
  return keys;
}

/**
 * Sets the mask bit of the unmasked header at `offset` and appends the next key at `at` (the header's
 * end). Returns the key's offset in `keys.block`: no view allocated per frame.
 */
function writeKey(keys: MaskKeys, dst: Uint8Array, offset: number, at: number): number {
  const keyAt = keys.nextAt();
  const block = keys.block;
  dst[offset + 1]! |= 0x80;
  dst[at] = block[keyAt]!;
  dst[at + 1] = block[keyAt + 1]!;
  dst[at + 2] = block[keyAt + 2]!;
  dst[at + 3] = block[keyAt + 3]!;
  return keyAt;
}

/** RangeError unless `dst` has room from `offset` to `end`: nothing is written then. */
function checkRoom(dst: Uint8Array, offset: number, end: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || end > dst.length) {
    throw new RangeError(
      `no room for a ${end - offset}-byte ${what} at offset ${offset} of ${dst.length} bytes`,
    );
  }
}

/**
 * Encodes frames (header, masking key and payload, masked while copied): the sending half of
 * {@link Protocol}, for transports and servers that write frames themselves.
 */
export class FrameWriter {
  readonly #keys: MaskKeys | undefined;
  readonly #allocate: ((size: number) => Uint8Array) | undefined;

  constructor(options: FrameWriterOptions) {
    this.#keys = options.mask ? keysFor(options.randomFill ?? platformRandomFill) : undefined;
    this.#allocate = options.allocate;
  }

  /**
   * Encodes one frame into a new buffer. `payload` is copied (and masked in the copy), never modified:
   * the caller may reuse it. Control frame rules (size, no fragmentation) are the caller's to enforce.
   */
  frame(opcode: number, payload: Uint8Array, fin = true, rsv1 = false): Uint8Array {
    const size = this.frameSize(payload.length);
    const out = this.#allocate === undefined ? new Uint8Array(size) : this.#allocate(size);
    this.frameInto(out, 0, opcode, payload, fin, rsv1);
    return out;
  }

  /** Bytes of the frame (header, mask key when masking, payload) for a payload of this length. */
  frameSize(payloadLength: number): number {
    return frameHeaderSize(payloadLength, this.#keys !== undefined) + payloadLength;
  }

  /**
   * Encodes one frame into `dst` at `offset`, which must have room for `frameSize(payload.length)`
   * bytes (RangeError otherwise, and `dst` is left untouched). Returns the offset just past the
   * frame, where the next one may go. `payload` is copied (masked in the copy), never modified.
   */
  frameInto(
    dst: Uint8Array,
    offset: number,
    opcode: number,
    payload: Uint8Array,
    fin = true,
    rsv1 = false,
  ): number {
    const length = payload.length;
    const end = offset + this.frameSize(length);
    checkRoom(dst, offset, end, "frame");
    const keys = this.#keys;
    const at = offset + writeFrameHeader(dst, offset, fin, rsv1, opcode, length, undefined);
    if (keys === undefined) {
      dst.set(payload, at);
      return end;
    }
    const keyAt = writeKey(keys, dst, offset, at);
    maskInto(payload, keys.block, dst, at + 4, keyAt);
    return end;
  }

  /**
   * Writes only the header of a frame with a `length`-byte payload (mask key included) into `dst` at
   * `offset`, for a payload that follows in buffers of its own through {@link payloadInto}. Returns
   * the offset past the header; when masking, the key is the 4 bytes before it.
   */
  headerInto(
    dst: Uint8Array,
    offset: number,
    opcode: number,
    length: number,
    fin = true,
    rsv1 = false,
  ): number {
    const end = offset + this.frameSize(length) - length;
    checkRoom(dst, offset, end, "header");
    const at = offset + writeFrameHeader(dst, offset, fin, rsv1, opcode, length, undefined);
    if (this.#keys !== undefined) writeKey(this.#keys, dst, offset, at);
    return end;
  }

  /**
   * Copies `payload` into `dst` at `dstOffset`, masked (when masking) with the key written by
   * {@link headerInto}: the 4 bytes of `header` before `headerEnd`. `payloadOffset` is where this
   * part starts in the whole payload, which sets the key's phase.
   */
  payloadInto(
    payload: Uint8Array,
    dst: Uint8Array,
    dstOffset: number,
    header: Uint8Array,
    headerEnd: number,
    payloadOffset: number,
  ): void {
    if (this.#keys === undefined) {
      dst.set(payload, dstOffset);
      return;
    }
    if ((payloadOffset & 3) === 0) {
      maskInto(payload, header, dst, dstOffset, headerEnd - 4);
      return;
    }
    const key = new Uint8Array(4);
    for (let i = 0; i < 4; i++) key[i] = header[headerEnd - 4 + ((payloadOffset + i) & 3)]!;
    maskInto(payload, key, dst, dstOffset);
  }

  /**
   * Finishes a frame whose `length` payload bytes the caller already wrote into `dst`, starting
   * `frameSize(length) - length` bytes after `offset` (right after where the header goes): writes
   * the header at `offset` and masks the payload in place. Returns the offset past the frame. This
   * saves the copy of a payload that can be produced in place, such as encoded text.
   */
  finishInto(
    dst: Uint8Array,
    offset: number,
    opcode: number,
    length: number,
    fin = true,
    rsv1 = false,
  ): number {
    const end = offset + this.frameSize(length);
    checkRoom(dst, offset, end, "frame");
    const keys = this.#keys;
    const at = offset + writeFrameHeader(dst, offset, fin, rsv1, opcode, length, undefined);
    if (keys !== undefined) {
      const keyAt = writeKey(keys, dst, offset, at);
      mask(dst.subarray(at + 4, end), keys.block.subarray(keyAt, keyAt + 4));
    }
    return end;
  }
}
