/**
 * A persistent `node:zlib` raw deflate or inflate stream, driven synchronously: one zlib context per
 * connection and direction, which keeps its own LZ77 window between messages.
 *
 * Node has no public API for this: `deflateRawSync` / `inflateRawSync` make a zlib context per call,
 * whose native memory (window, hash tables) is freed only when the garbage collector finalises it,
 * which V8 does not schedule for that memory: a connection receiving many small compressed messages
 * grew by a hundred MiB. The stream objects' `_processChunk` closes the context after one call. So
 * this drives the stream's native handle the way `_processChunk` does (`_handle.writeSync` and the
 * `_writeState` it fills), without the close. That is undocumented: {@link syncZlibWorks} checks,
 * once, that the runtime's `node:zlib` has it and that it behaves (Node does; Bun and Deno each have
 * their own `node:zlib`), and deflate.ts keeps the one-shot functions where it does not.
 */
import { Buffer } from "node:buffer";
import { constants, createInflateRaw, type DeflateRaw, type InflateRaw, type ZlibOptions } from "node:zlib";

/** The private part of a Node zlib stream this module uses (lib/zlib.js). */
interface ZlibInternals {
  _handle?: {
    writeSync(
      flush: number,
      input: Uint8Array,
      inOffset: number,
      inLength: number,
      output: Uint8Array,
      outOffset: number,
      outLength: number,
    ): void;
  } | null;
  /** [output bytes left, input bytes left] after each write. */
  _writeState?: Uint32Array;
}

/** What one call produced: the output, and whether zlib stopped before the end of the input. */
export interface SyncZlibOutput {
  readonly data: Uint8Array;
  /** The deflate stream ended (a block with BFINAL set): zlib took no input after it. */
  readonly ended: boolean;
}

/** Thrown by {@link SyncZlibStream.write} when the output passes `maxOutput`. */
export class OutputLimitError extends Error {
  constructor(readonly limit: number) {
    super(`zlib output over ${limit} bytes`);
  }
}

/**
 * Output memory, shared by every stream: each write takes the bytes it produces from the current
 * slab, so the outputs of many small messages share one allocation, and a new slab is made when it
 * is full. A slab's bytes are never written twice: an output stays valid for as long as it is held.
 */
const SLAB_SIZE = 16 * 1024;
let slab = Buffer.allocUnsafe(SLAB_SIZE);
let slabUsed = 0;

const EMPTY = new Uint8Array(0);

export class SyncZlibStream {
  readonly #zlib: DeflateRaw | InflateRaw;
  readonly #handle: NonNullable<ZlibInternals["_handle"]>;
  readonly #state: Uint32Array;

  /** `zlib`: a new stream that {@link syncZlibWorks} vouched for; this object owns it from now on. */
  constructor(zlib: DeflateRaw | InflateRaw) {
    const internals = zlib as unknown as ZlibInternals;
    this.#zlib = zlib;
    this.#handle = internals._handle!;
    this.#state = internals._writeState!;
    // A zlib error also destroys the stream, which emits it as an event later: write() throws it.
    zlib.on("error", ignore);
  }

  /**
   * Deflates or inflates `input` with a sync flush, synchronously. Throws OutputLimitError once the
   * output passes `maxOutput` (having made at most one slab more), zlib's error on bad input.
   */
  write(input: Uint8Array, maxOutput = Number.POSITIVE_INFINITY): SyncZlibOutput {
    // Closed, or failed before: its native context is gone, and writing to it would crash.
    if (this.#zlib.destroyed) throw new Error("zlib stream closed");
    const handle = this.#handle;
    const state = this.#state;
    let parts: Uint8Array[] | undefined;
    let first: Uint8Array = EMPTY;
    let length = 0;
    let inOffset = 0;
    let inLength = input.length;
    for (;;) {
      if (slabUsed === SLAB_SIZE) {
        slab = Buffer.allocUnsafe(SLAB_SIZE);
        slabUsed = 0;
      }
      const room = SLAB_SIZE - slabUsed;
      handle.writeSync(constants.Z_SYNC_FLUSH, input, inOffset, inLength, slab, slabUsed, room);
      if (this.#zlib.destroyed) throw this.#zlib.errored ?? new Error("zlib failed");
      const outLeft = state[0]!;
      const inLeft = state[1]!;
      const produced = room - outLeft;
      if (produced > 0) {
        const out = slab.subarray(slabUsed, slabUsed + produced);
        slabUsed += produced;
        length += produced;
        if (length > maxOutput) throw new OutputLimitError(maxOutput);
        if (first === EMPTY) first = out;
        else (parts ??= [first]).push(out);
      }
      inOffset += inLength - inLeft;
      inLength = inLeft;
      // Output space left over: zlib has flushed all it could; input left over means the stream ended.
      if (outLeft > 0) {
        return { data: parts === undefined ? first : Buffer.concat(parts, length), ended: inLeft > 0 };
      }
    }
  }

  /** Back to a fresh stream (the dictionary it was made with, if any): no history. */
  reset(): void {
    this.#zlib.reset();
  }

  /** Frees the zlib context now, rather than whenever the garbage collector gets to it. */
  close(): void {
    this.#zlib.close();
  }
}

function ignore(): void {}

const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
/** "tideway", sync-flushed by a fresh raw deflate stream. */
const PROBE_FIRST = new Uint8Array([42, 201, 76, 73, 45, 79, 172, 4, 0, ...TAIL]);
/** "tideway" again from the same stream: one back-reference, which only the history resolves. */
const PROBE_AGAIN = new Uint8Array([42, 129, 80, 0, 0, ...TAIL]);
let works: boolean | undefined;

/**
 * Whether {@link SyncZlibStream} works in this runtime: the stream has the internals it drives, keeps
 * its history between writes, and starts from a preset dictionary (deflate.ts restarts a stream that
 * ended with one). Checked once, on valid input only: Node 20 formats a zlib error's stack, which
 * under source maps (tsx, --enable-source-maps) loads the whole source map of the bundle.
 */
export function syncZlibWorks(): boolean {
  works ??= probe();
  return works;
}

function probe(): boolean {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const made: SyncZlibStream[] = [];
  const stream = (options: ZlibOptions) => {
    const zlib = createInflateRaw(options);
    const internals = zlib as unknown as ZlibInternals;
    if (
      typeof internals._handle?.writeSync !== "function" ||
      !(internals._writeState instanceof Uint32Array)
    ) {
      zlib.close();
      return undefined;
    }
    const s = new SyncZlibStream(zlib);
    made.push(s);
    return s;
  };
  try {
    const kept = stream({ windowBits: 15 });
    if (kept === undefined) return false;
    if (decode(kept.write(PROBE_FIRST).data) !== "tideway") return false;
    if (decode(kept.write(PROBE_AGAIN).data) !== "tideway") return false;
    const preset = stream({ windowBits: 15, dictionary: new TextEncoder().encode("tideway") });
    return preset !== undefined && decode(preset.write(PROBE_AGAIN).data) === "tideway";
  } catch {
    return false;
  } finally {
    for (const s of made) s.close();
  }
}
