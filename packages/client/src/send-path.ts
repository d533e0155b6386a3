/**
 * The send path between the core's output and `socket.write`: the sends of one tick share one batch
 * (one write, one promise), the output of a flush becomes views for a corked writev, and the
 * payload pieces of big frames (the core writes a frame of more than 16 KiB as its header plus
 * pieces of at most 64 KiB, each in a buffer from `allocateFrame`) come from buffers reused once
 * the socket has written them: a fresh buffer per frame costs page faults on every frame, and
 * masking into it is much slower than into memory already mapped and in cache.
 *
 * The pool is process-wide and bounded: at most MAX_IDLE_BYTES of free buffers are kept, in four
 * size classes.
 */
import { Buffer } from "node:buffer";
import type { EndOfStream, Outgoing } from "@tideway/core";

/** The sends of one tick: they leave in one write and share one promise, settled by that write. */
export interface Batch {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

const noop = (): void => {};

export function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A send nobody awaits must not crash the process with an unhandled rejection: its failure also
  // ends the connection, which the close event reports. One handler per batch, not per send.
  promise.catch(noop);
  return { promise, resolve, reject };
}

/**
 * Pooled payload pieces (see allocateFrame) are at least this big; smaller outputs are never
 * looked up in the pool.
 */
export const POOLED_MIN = 16 * 1024;

/**
 * Bytes of frames queued in one tick after which they are written at once (see Connection#send). Below the
 * protocol's 16 KiB block, so a flush is one view of one block, which outputConsumed() then lets
 * the protocol reuse: no allocation per flush (a larger threshold spans blocks).
 */
export const FLUSH_BYTES = 12 * 1024;

/**
 * The output of one flush as Buffers for socket.write (views, no copy); END_OF_STREAM stays in its
 * place. Small frames already share the protocol's block, so a flush is a few views: corked, they
 * leave in one writev, with no copy into one buffer (an allocation and a memcpy per flush).
 */
export function toWrites(output: readonly Outgoing[]): (Buffer | EndOfStream)[] {
  const writes: (Buffer | EndOfStream)[] = new Array(output.length);
  for (let i = 0; i < output.length; i++) {
    const item = output[i]!;
    writes[i] =
      item instanceof Uint8Array ? Buffer.from(item.buffer, item.byteOffset, item.byteLength) : item;
  }
  return writes;
}

/** Size classes, smallest first: a piece takes the smallest that holds it. */
const CLASSES = [32 * 1024, 64 * 1024, 128 * 1024, 256 * 1024] as const;

/** Free buffers kept at most, in bytes, across classes (8 pieces of 256 KiB). */
export const MAX_IDLE_BYTES = 2 * 1024 * 1024;

/** Frames of this size or less are not pooled: the core's shared 16 KiB block and small frames. */
const SMALLEST_POOLED = 16 * 1024;

const free: ArrayBuffer[][] = CLASSES.map(() => []);
/** Buffers this module made: only those are ever taken back. */
const ours = new WeakSet<ArrayBufferLike>();
let idleBytes = 0;

function classOf(size: number): number {
  for (let c = 0; c < CLASSES.length; c++) if (size <= CLASSES[c]!) return c;
  return -1;
}

/** Uninitialized memory: the core fills every byte it hands out. */
function unzeroed(size: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
}

/**
 * The `allocateFrame` of the core: a pooled buffer for a payload piece, a plain one otherwise.
 * Small sizes go through `allocateSmall` (the connection's allocator for everything else).
 */
export function allocateFrame(size: number, allocateSmall: (size: number) => Uint8Array): Uint8Array {
  if (size <= SMALLEST_POOLED) return allocateSmall(size);
  const c = classOf(size);
  if (c < 0) return allocateSmall(size);
  const buffer = free[c]!.pop();
  if (buffer !== undefined) {
    idleBytes -= buffer.byteLength;
    return new Uint8Array(buffer, 0, size);
  }
  const fresh = unzeroed(CLASSES[c]!);
  ours.add(fresh);
  return new Uint8Array(fresh, 0, size);
}

/** Whether `bytes` lies in a buffer that {@link release} would take back. */
export function isPooled(bytes: Uint8Array): boolean {
  return ours.has(bytes.buffer);
}

/**
 * Takes back the buffer of a piece the socket has written (its write callback ran): nothing may
 * read or write it any more. Each piece is released at most once.
 */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBuffer;
  if (!ours.has(buffer) || idleBytes + buffer.byteLength > MAX_IDLE_BYTES) return;
  const c = classOf(buffer.byteLength);
  free[c]!.push(buffer);
  idleBytes += buffer.byteLength;
}

/**
 * For tests only, and not exported by index.ts (so not in the published bundle): the free bytes the
 * pool holds now, and emptying it so that each test starts from an empty pool.
 */
export const sendPoolForTests = {
  idleBytes: (): number => idleBytes,
  clear(): void {
    for (const list of free) list.length = 0;
    idleBytes = 0;
  },
};
