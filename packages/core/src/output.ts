/**
 * What a connection has to send, in order: frames written by a {@link FrameWriter}, buffers of their
 * own (the handshake, a close frame), and the end of stream. The protocol decides what to send; this
 * decides where the bytes go.
 *
 * Small frames are written back to back into one block and leave as one view per {@link take}: one
 * copy per payload (masked), instead of a buffer per frame that the transport copies again into one
 * write. Bytes before `blockStart` were handed out and are never written again until the transport
 * says it is done with them ({@link consumed}); the block is replaced when full.
 */
import { Opcode } from "./constants.js";
import { END_OF_STREAM, type Outgoing } from "./events.js";
import type { FrameWriter } from "./writer.js";

/**
 * Largest block small frames share, and the largest frame written into one. A connection that sent
 * holds one block (see room()); a bigger frame leaves in pieces of its own (see frame()).
 */
const BLOCK_SIZE = 16_384; // 16 KiB

/** Size of a connection's first block (see room()). */
const FIRST_BLOCK = 1024;

/**
 * Largest piece of a big frame's payload in one buffer: a multiple of 4 (each piece starts at key
 * phase 0), few enough writes per MiB, and small enough to stay in a core's L2 cache when reused.
 */
const PIECE_SIZE = 65_536; // 64 KiB

export class OutputBuffer {
  private items: Outgoing[] = [];
  private block: Uint8Array | undefined;
  private blockStart = 0;
  private blockEnd = 0;
  private ended = false;
  private readonly writer: FrameWriter;
  private readonly allocate: (size: number) => Uint8Array;

  /** `allocate` makes the blocks and the pieces of big frames; they are filled before use. */
  constructor(writer: FrameWriter, allocate: (size: number) => Uint8Array) {
    this.writer = writer;
    this.allocate = allocate;
  }

  /** Takes everything queued since the last call, in order, possibly ending with END_OF_STREAM. */
  take(): Outgoing[] {
    this.closeBlock();
    const items = this.items;
    if (items.length === 0) return items;
    this.items = [];
    return items;
  }

  /**
   * The transport is done with every buffer {@link take} returned so far: the block may be written
   * over from its start. Ignored while frames written since are still to be taken.
   */
  consumed(): void {
    if (this.blockStart !== this.blockEnd) return;
    this.blockStart = 0;
    this.blockEnd = 0;
  }

  /** True once {@link end} was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Queues `bytes` as they are (a handshake message), after the frames queued before them. */
  push(bytes: Uint8Array): void {
    this.closeBlock();
    this.items.push(bytes);
  }

  /** Queues the end of stream, once; later calls do nothing. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.closeBlock();
    this.items.push(END_OF_STREAM);
  }

  /**
   * Queues a frame: a small one into the shared block; a big one as its header in the block and its
   * payload in pieces of at most PIECE_SIZE bytes, each a whole buffer from `allocate`: a transport
   * that recycles them masks into memory already mapped and in cache, where a fresh 1 MiB buffer
   * costs page faults on every frame.
   */
  frame(opcode: number, payload: Uint8Array, fin: boolean, rsv1 = false): void {
    const writer = this.writer;
    const length = payload.length;
    const size = writer.frameSize(length);
    if (size <= BLOCK_SIZE) {
      const block = this.room(size);
      this.blockEnd = writer.frameInto(block, this.blockEnd, opcode, payload, fin, rsv1);
      return;
    }
    const block = this.room(size - length);
    const headerEnd = writer.headerInto(block, this.blockEnd, opcode, length, fin, rsv1);
    this.blockEnd = headerEnd;
    this.closeBlock();
    for (let at = 0; at < length; at += PIECE_SIZE) {
      const part = payload.subarray(at, Math.min(at + PIECE_SIZE, length));
      const piece = this.allocate(part.length);
      writer.payloadInto(part, piece, 0, block, headerEnd, at);
      this.items.push(piece);
    }
  }

  /**
   * Queues a frame in a buffer of its own: a connection that only connects and closes then never
   * allocates a block.
   */
  frameAlone(opcode: number, payload: Uint8Array): void {
    this.push(this.writer.frame(opcode, payload, true));
  }

  /**
   * Encodes a text frame straight into the block with `encodeInto`, when the string's worst case
   * (3 bytes per UTF-16 unit) fits one: the copy of a separately encoded payload is saved. The
   * payload goes after the worst case's header; a shorter length form moves it back (a few bytes of
   * short text only). Returns false, having queued nothing, when the caller must encode and copy.
   */
  text(
    text: string,
    fin: boolean,
    encodeInto: (text: string, dst: Uint8Array, offset: number) => number,
  ): boolean {
    const writer = this.writer;
    const upper = text.length * 3;
    const maxSize = writer.frameSize(upper);
    if (maxSize > BLOCK_SIZE) return false;
    const block = this.room(maxSize);
    const start = this.blockEnd;
    const maxHeader = maxSize - upper;
    const length = encodeInto(text, block, start + maxHeader);
    const header = writer.frameSize(length) - length;
    if (header < maxHeader) {
      block.copyWithin(start + header, start + maxHeader, start + maxHeader + length);
    }
    this.blockEnd = writer.finishInto(block, start, Opcode.Text, length, fin);
    return true;
  }

  /**
   * The block, with `size` bytes (at most BLOCK_SIZE) free at `blockEnd`: a new one when full, twice
   * the size of the last one up to BLOCK_SIZE. A connection keeps its block between sends, so one
   * that sends now and then holds FIRST_BLOCK bytes, not 16 KiB (10 000 such connections: 10 MB,
   * not 160 MB); a steady sender reaches BLOCK_SIZE after five blocks.
   */
  private room(size: number): Uint8Array {
    const block = this.block;
    if (block !== undefined && block.length - this.blockEnd >= size) return block;
    this.closeBlock();
    const next = block === undefined ? FIRST_BLOCK : Math.min(BLOCK_SIZE, block.length * 2);
    const fresh = this.allocate(Math.max(size, next));
    this.block = fresh;
    this.blockStart = 0;
    this.blockEnd = 0;
    return fresh;
  }

  /** Moves the frames written into the block since the last call to the items, as one view. */
  private closeBlock(): void {
    const start = this.blockStart;
    if (this.blockEnd === start) return;
    this.blockStart = this.blockEnd;
    this.items.push(this.block!.subarray(start, this.blockEnd));
  }
}
