/**
 * Buffers for the payload pieces of big frames (the core writes a frame of more than 16 KiB as its
 * header plus pieces of at most 64 KiB, each in a buffer from `allocateFrame`), reused once the
 * socket has written them: a fresh buffer per frame costs page faults on every frame, and masking
 * into it is much slower than into memory already mapped and in cache.
 *
 * Process-wide and bounded: at most MAX_IDLE_BYTES of free buffers are kept, in four size classes.
 */
import { Buffer } from "node:buffer";

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

/** Drops every free buffer (for tests: each starts from an empty pool). */
export function clearSendBuffers(): void {
  for (const list of free) list.length = 0;
  idleBytes = 0;
}

/** Free bytes held now (for tests). */
export function idleBufferBytes(): number {
  return idleBytes;
}
