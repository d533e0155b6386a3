/**
 * permessage-deflate for streamed receives (`receive: "stream"`), on `node:zlib`. Its own module so
 * the browser build, which refuses `receive: "stream"`, puts stream-inflate-browser.ts in its place
 * (tsup.config.ts) and carries no zlib.
 */
import type { Buffer } from "node:buffer";
import { constants, createInflateRaw, type InflateRaw } from "node:zlib";

/** "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end" (RFC 7692 section 7.2.2). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/**
 * Inflates streamed compressed messages as their bytes arrive (`receive: "stream"`): one zlib
 * inflate stream per connection, so the history the peer's compressor references is there whether
 * or not it resets it (RFC 7692 section 7.2.2), and its 15-bit window fits any window the peer uses.
 * Asynchronous, unlike ZlibCodec: Node has no synchronous API that keeps a zlib context between
 * calls. Output goes to `onData` in order; `pause()` stops it (zlib then stops reading input).
 */
export class StreamInflater {
  readonly #zlib: InflateRaw;

  constructor(onData: (bytes: Buffer) => void, onError: (error: Error) => void) {
    const zlib = createInflateRaw({ windowBits: 15 });
    zlib.on("data", onData);
    zlib.on("error", onError);
    this.#zlib = zlib;
  }

  /** Queues compressed bytes; false when zlib's input buffer is full: wait for `onDrain`. */
  write(bytes: Uint8Array): boolean {
    return this.#zlib.write(bytes);
  }

  /** Calls `callback` once the input queued so far has been taken in. */
  onDrain(callback: () => void): void {
    this.#zlib.once("drain", callback);
  }

  /** The message is complete: appends the tail and calls `callback` after its last output. */
  endMessage(callback: () => void): void {
    // "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end" (section 7.2.2).
    this.#zlib.write(TAIL);
    this.#zlib.flush(constants.Z_SYNC_FLUSH, callback);
  }

  pause(): void {
    this.#zlib.pause();
  }

  resume(): void {
    this.#zlib.resume();
  }

  /** Frees the zlib context (the connection is gone). */
  destroy(): void {
    this.#zlib.destroy();
  }
}
