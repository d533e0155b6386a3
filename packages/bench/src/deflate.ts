// The bench server's side of permessage-deflate (RFC 7692) on node:zlib: compressing the receive
// scenarios' messages ahead of time, and inflating and verifying what a client sends. Written
// here, not taken from @tideway/client, so that the server measuring Tideway does not share its bugs.
import { constants, createInflateRaw, deflateRawSync } from "node:zlib";
import type { DeflateParams } from "./wire.js";

/** RFC 7692 section 7.2.1: a sync flush ends with this empty stored block, removed on the wire. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Compresses messages in order as one deflate context, the way a server with context takeover
 * does: each message may refer to the previous ones. zlib's sync API has no persistent stream, so
 * the history is passed as a preset dictionary: the last 2^windowBits bytes of earlier messages,
 * which is exactly what the client's inflater window holds. With server_no_context_takeover no
 * history is kept and each message stands alone.
 */
export class MessageDeflater {
  private history = Buffer.alloc(0);

  /**
   * `historyBytes`: how much of the window the compressor may refer back to (default: all of it).
   * Less is always valid (the window only bounds how far back a message may refer) and faster:
   * zlib hashes the whole preset dictionary again for every message.
   */
  constructor(
    private readonly params: DeflateParams,
    private readonly historyBytes = 2 ** params.serverMaxWindowBits,
  ) {}

  /** The compressed payload of the next message (what goes in a frame with RSV1 set). */
  compress(message: Uint8Array): Buffer {
    const out = deflateRawSync(message, {
      windowBits: this.params.serverMaxWindowBits,
      finishFlush: constants.Z_SYNC_FLUSH,
      ...(this.history.length > 0 ? { dictionary: this.history } : {}),
    });
    if (out.length < 4 || !out.subarray(-4).equals(TAIL))
      throw new Error("deflate did not end with a sync flush");
    if (!this.params.serverNoContextTakeover) {
      const window = Math.min(this.historyBytes, 2 ** this.params.serverMaxWindowBits);
      this.history = Buffer.concat([this.history, message]).subarray(-window);
    }
    return out.subarray(0, out.length - 4);
  }
}

/**
 * Inflates a client's compressed messages as ONE stream and compares the output with `expected`
 * repeated end to end. One stream is right with context takeover (each message continues the
 * previous one's LZ77 window) and without it too (each message then simply refers to nothing
 * earlier); the sync-flush tail put back after each message keeps the stream valid between
 * messages. Payloads are queued with `append`/`endMessage` and handed to zlib once per TCP read by
 * `flush`, so zlib runs a thread-pool job per read, not per message, and keeps up at ~1 GB/s.
 */
export class StreamVerifier {
  private readonly inflate = createInflateRaw({ windowBits: 15 });
  private pending: Buffer[] = [];
  private verified = 0;
  private failed = false;

  /**
   * `onProgress(bytes)` after each verified output chunk; `onError(reason)` once, on a corrupt
   * stream or a byte that differs from `expected`.
   */
  constructor(
    private readonly expected: Buffer,
    /** The length of every message (for error messages: which message, which byte). */
    private readonly messageSize: number,
    private readonly onProgress: (verifiedBytes: number) => void,
    private readonly onError: (reason: string) => void,
  ) {
    this.inflate.on("data", (chunk: Buffer) => this.check(chunk));
    this.inflate.on("error", (error) => this.fail(`inflate: ${error.message}`));
  }

  /** Bytes inflated and found equal to the expected stream so far. */
  get verifiedBytes(): number {
    return this.verified;
  }

  /** Queues an unmasked segment of a compressed message's payload. */
  append(segment: Buffer): void {
    this.pending.push(segment);
  }

  /** Marks the end of a compressed message. */
  endMessage(): void {
    this.pending.push(TAIL);
  }

  /** Hands the queued bytes to zlib; returns false when the caller should wait for `drain`. */
  flush(): boolean {
    if (this.pending.length === 0) return true;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    return this.inflate.write(data);
  }

  /** Resolves when zlib can take more input. */
  drained(): Promise<void> {
    return new Promise((resolve) => this.inflate.once("drain", resolve));
  }

  close(): void {
    this.inflate.destroy();
  }

  private check(chunk: Buffer): void {
    if (this.failed) return;
    let at = 0;
    while (at < chunk.length) {
      const phase = this.verified % this.expected.length;
      const n = Math.min(chunk.length - at, this.expected.length - phase);
      const got = chunk.subarray(at, at + n);
      const want = this.expected.subarray(phase, phase + n);
      if (Buffer.compare(got, want) !== 0) {
        let i = 0;
        while (got[i] === want[i]) i++;
        const offset = this.verified + i;
        this.verified = offset; // the bytes before it matched
        const message = Math.floor(offset / this.messageSize);
        this.fail(
          `message ${message}: inflated byte ${offset % this.messageSize} differs from the expected JSON`,
        );
        return;
      }
      at += n;
      this.verified += n;
    }
    this.onProgress(this.verified);
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(reason);
  }
}
