/**
 * The send path: one output buffer per frame, header then payload, masked while copying with a fresh
 * key per frame (RFC 6455 section 5.3: "The masking key is a 32-bit value chosen at random by the
 * client ... MUST pick a fresh masking key for each frame"). Keys come from a pooled block of random
 * bytes (see MaskKeys), not one random call per frame.
 */
import { frameHeaderSize, writeFrameHeader } from "./frame.js";
import { MaskKeys, maskInto } from "./mask.js";

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

/** Fills with the platform CSPRNG (at most 65536 bytes per call: MaskKeys splits larger fills). */
const defaultRandomFill = (bytes: Uint8Array): void => {
  globalThis.crypto.getRandomValues(bytes);
};

/**
 * One pool of mask keys per random source, shared by the writers that use it. Keys are consumed,
 * never handed out twice, so sharing is safe (`ws` keeps one module-level pool too); a connection
 * then holds no 8 KiB block of its own, and its first frame no longer fills one (1.3% of a
 * connect + close cycle, bench `handshakes`, node --cpu-prof).
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

export class FrameWriter {
  readonly #keys: MaskKeys | undefined;
  readonly #allocate: ((size: number) => Uint8Array) | undefined;

  constructor(options: FrameWriterOptions) {
    this.#keys = options.mask ? keysFor(options.randomFill ?? defaultRandomFill) : undefined;
    this.#allocate = options.allocate;
  }

  /**
   * Encodes one frame into a new buffer. `payload` is copied (and masked in the copy), never modified:
   * the caller may reuse it. Control frame rules (size, no fragmentation) are the caller's to enforce.
   */
  frame(opcode: number, payload: Uint8Array, fin = true, rsv1 = false): Uint8Array {
    const key = this.#keys?.next();
    const length = payload.length;
    const size = frameHeaderSize(length, key !== undefined) + length;
    const out = this.#allocate === undefined ? new Uint8Array(size) : this.#allocate(size);
    const at = writeFrameHeader(out, 0, fin, rsv1, opcode, length, key);
    if (key === undefined) out.set(payload, at);
    else maskInto(payload, key, out, at);
    return out;
  }
}
