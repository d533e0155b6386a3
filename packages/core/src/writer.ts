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
  /** Source of mask keys. Default `crypto.getRandomValues`; tests inject a deterministic one. */
  randomFill?: (bytes: Uint8Array) => void;
}

/** Fills with the platform CSPRNG (at most 65536 bytes per call: MaskKeys splits larger fills). */
const defaultRandomFill = (bytes: Uint8Array): void => {
  globalThis.crypto.getRandomValues(bytes);
};

export class FrameWriter {
  readonly #keys: MaskKeys | undefined;

  constructor(options: FrameWriterOptions) {
    this.#keys = options.mask ? new MaskKeys(options.randomFill ?? defaultRandomFill) : undefined;
  }

  /**
   * Encodes one frame into a new buffer. `payload` is copied (and masked in the copy), never modified:
   * the caller may reuse it. Control frame rules (size, no fragmentation) are the caller's to enforce.
   */
  frame(opcode: number, payload: Uint8Array, fin = true, rsv1 = false): Uint8Array {
    const key = this.#keys?.next();
    const length = payload.length;
    const out = new Uint8Array(frameHeaderSize(length, key !== undefined) + length);
    const at = writeFrameHeader(out, 0, fin, rsv1, opcode, length, key);
    if (key === undefined) out.set(payload, at);
    else maskInto(payload, key, out, at);
    return out;
  }
}
