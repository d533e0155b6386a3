// The /sink verifier: reads masked client frames straight from the TCP chunks and checks every
// payload byte against the pattern, without creating an object per frame. The generic FrameReader
// (wire.ts) allocates a header object, a mask copy and a subarray per frame and the sink a Buffer
// per frame: that capped the sink at ~1.1 M msg/s for 16 B frames (a raw client writing prebuilt
// frames, src/sink-ceiling.ts), below what the send-16 B scenario must be able to show (5x ws's
// ~0.6 M msg/s). Here a header is parsed by index arithmetic on the chunk, and a payload segment is
// compared in place with the 4 bytes its masked form repeats (each message is one repeated byte,
// so masked it has period 4); segments of REFERENCE_MIN bytes and more are compared by memcmp
// against a reference filled with those 4 bytes, which keeps large frames at GB/s.
import { patternByte } from "./payload.js";
import { OPCODE_BINARY, OPCODE_CLOSE, OPCODE_CONTINUATION } from "./wire.js";

/** From this segment length on, one native compare beats the byte loop (it needs a subarray). */
const REFERENCE_MIN = 256;
/** The reference covers at most this many payload bytes per compare. */
const REFERENCE_WINDOW = 64 * 1024;

/** What the sink reports to its connection. */
export interface PatternSinkEvents {
  /** A control frame (close, ping, pong) arrived whole, with its unmasked payload. */
  control(opcode: number, payload: Buffer): void;
  /** All `count` messages arrived and every byte matched: "ok COUNT BYTES" is due. */
  done(count: number, bytes: number): void;
  /** The stream is wrong; nothing more is read after this. */
  fail(reason: string): void;
}

export class PatternSink {
  /** A header split across chunks is gathered here (at most 14 bytes). */
  private readonly carry = new Uint8Array(14);
  private carryFill = 0;
  /** Payload bytes of the current frame still to come; -1 between frames. */
  private remaining = -1;
  private opcode = 0;
  /** Position of the next payload byte within the frame (for the mask phase). */
  private offset = 0;
  /** The 4 masked bytes that a correct data payload repeats, or the mask of a control frame. */
  private readonly expect = new Uint8Array(4);
  private readonly reference: Buffer;
  private referenceFor = -1;
  private control: number[] = [];
  private seq = 0;
  private verified = 0;
  private failed = false;
  /** `fragmented`: the current data frame ends its message; the message's payload bytes so far. */
  private fin = true;
  private messageBytes = 0;

  /**
   * `fragmented`: each message may arrive as a binary frame and continuations (a streamed send),
   * whose lengths add up to `size`; otherwise each message is one binary frame of `size` bytes.
   */
  constructor(
    private readonly size: number,
    private readonly count: number,
    private readonly events: PatternSinkEvents,
    private readonly fragmented = false,
  ) {
    this.reference = Buffer.allocUnsafe(Math.min(size, REFERENCE_WINDOW) + 4);
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end && !this.failed) {
      if (this.remaining < 0) {
        pos = this.header(chunk, pos);
        continue;
      }
      const take = Math.min(this.remaining, end - pos);
      if (this.opcode >= OPCODE_CLOSE) {
        for (let i = 0; i < take; i++)
          this.control.push(chunk[pos + i]! ^ this.expect[(this.offset + i) & 3]!);
      } else if (!this.verify(chunk, pos, take)) {
        return;
      }
      pos += take;
      this.offset += take;
      this.remaining -= take;
      if (this.remaining === 0) this.endFrame();
    }
  }

  /** Reads one header from `chunk` at `pos` (or completes a carried one); returns the new position. */
  private header(chunk: Uint8Array, pos: number): number {
    let src = chunk;
    let at = pos;
    const available = this.carryFill + chunk.length - pos;
    if (this.carryFill > 0 || available < 2 || available < headerLength(chunk[pos + 1]!)) {
      // Slow path, only for a header split across chunks: gather it byte by byte.
      while (pos < chunk.length) {
        this.carry[this.carryFill++] = chunk[pos++]!;
        if (this.carryFill >= 2 && this.carryFill === headerLength(this.carry[1]!)) break;
      }
      if (this.carryFill < 2 || this.carryFill < headerLength(this.carry[1]!)) return pos;
      src = this.carry;
      at = 0;
      this.carryFill = 0;
    } else {
      pos += headerLength(chunk[pos + 1]!);
    }
    const b0 = src[at]!;
    const b1 = src[at + 1]!;
    if ((b0 & 0x70) !== 0) return this.fail("bad frame: reserved bits set");
    if ((b1 & 0x80) === 0) return this.fail("bad frame: client frame is not masked");
    let length = b1 & 0x7f;
    let maskAt = at + 2;
    if (length === 126) {
      length = (src[at + 2]! << 8) | src[at + 3]!;
      maskAt += 2;
    } else if (length === 127) {
      const high = ((src[at + 2]! << 24) | (src[at + 3]! << 16) | (src[at + 4]! << 8) | src[at + 5]!) >>> 0;
      if (high > 0x1fffff) return this.fail("bad frame: frame length over 2^53");
      length =
        high * 2 ** 32 +
        (((src[at + 6]! << 24) | (src[at + 7]! << 16) | (src[at + 8]! << 8) | src[at + 9]!) >>> 0);
      maskAt += 8;
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    this.opcode = opcode;
    this.offset = 0;
    this.remaining = length;
    const e = this.expect;
    if (opcode >= OPCODE_CLOSE) {
      if (length > 125 || !fin) return this.fail(`bad frame: control frame of ${length} bytes, fin ${fin}`);
      for (let i = 0; i < 4; i++) e[i] = src[maskAt + i]!;
      this.control = [];
    } else {
      const whole = this.fragmented
        ? this.fragmentFits(opcode, fin, length)
        : opcode === OPCODE_BINARY && fin && length === this.size;
      if (!whole) return this.fail(`message ${this.seq}: opcode ${opcode} fin ${fin} length ${length}`);
      const want = patternByte(this.seq);
      for (let i = 0; i < 4; i++) e[i] = want ^ src[maskAt + i]!;
    }
    if (length === 0) this.endFrame();
    return pos;
  }

  /** A fragment in its place: binary first, continuations after, and `size` bytes when FIN comes. */
  private fragmentFits(opcode: number, fin: boolean, length: number): boolean {
    const first = this.messageBytes === 0 && this.fin;
    const total = this.messageBytes + length;
    if (opcode !== (first ? OPCODE_BINARY : OPCODE_CONTINUATION) || total > this.size) return false;
    if (fin && total !== this.size) return false;
    this.fin = fin;
    this.messageBytes = fin ? 0 : total;
    return true;
  }

  /** Checks `length` payload bytes of `chunk` from `pos` against the expected masked pattern. */
  private verify(chunk: Uint8Array, pos: number, length: number): boolean {
    const e = this.expect;
    const phase = this.offset;
    if (length < REFERENCE_MIN) {
      for (let i = 0; i < length; i++) {
        if (chunk[pos + i] !== e[(phase + i) & 3]) return this.mismatch(phase + i);
      }
      return true;
    }
    const reference = this.reference;
    if (this.referenceFor !== this.seq) {
      reference.fill(e);
      this.referenceFor = this.seq;
    }
    const window = reference.length - 4;
    const segment =
      chunk instanceof Buffer ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    for (let at = 0; at < length; at += window) {
      const n = Math.min(window, length - at);
      const start = (phase + at) & 3;
      if (segment.compare(reference, start, start + n, pos + at, pos + at + n) !== 0) {
        return this.mismatch(phase + at);
      }
    }
    return true;
  }

  private mismatch(byte: number): false {
    this.fail(`message ${this.seq}: payload differs from the pattern near byte ${byte}`);
    return false;
  }

  private endFrame(): void {
    this.remaining = -1;
    if (this.opcode >= OPCODE_CLOSE) {
      this.events.control(this.opcode, Buffer.from(this.control));
      return;
    }
    this.referenceFor = -1; // the next frame has another mask
    if (!this.fin) return;
    this.verified += this.size;
    this.seq++;
    if (this.seq === this.count) this.events.done(this.seq, this.verified);
    else if (this.seq > this.count) this.fail(`more than ${this.count} messages`);
  }

  private fail(reason: string): number {
    if (!this.failed) {
      this.failed = true;
      this.events.fail(reason);
    }
    return Number.POSITIVE_INFINITY;
  }
}

/** The header length (with the mask) that the second header byte announces. */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return len7 === 126 ? 8 : len7 === 127 ? 14 : 6;
}
