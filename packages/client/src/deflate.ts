/**
 * The permessage-deflate codec on `node:zlib` (RFC 7692), synchronous: the core calls it inside
 * `sendText` / `receiveData`, which keeps messages in order for free.
 *
 * Where the runtime allows it (Node, Bun: see zlib-sync.ts), {@link ZlibStreamCodec}: one persistent
 * zlib stream per direction and connection, which keeps its own window (context takeover) and is
 * freed when the connection ends. Elsewhere {@link ZlibCodec}, on the public one-shot
 * `deflateRawSync` / `inflateRawSync`, with context takeover emulated by preset dictionaries: a
 * preset dictionary of the last 2^windowBits bytes of the previous messages is exactly what the
 * peer's decompressor holds in its LZ77 window, so our back-references into it are the ones a
 * persistent compressor could make, and the peer's references into its history resolve against the
 * same bytes here. Only compressed messages enter the history: plain (RSV1 clear) messages never pass
 * through the peer's compressor or decompressor.
 */
import { constants as bufferConstants } from "node:buffer";
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, inflateRawSync } from "node:zlib";
import {
  type DeflateParams,
  ErrorCodes,
  type MessageCodec,
  type PerMessageDeflateOptions,
  ProtocolError,
} from "@tideway/core";
import type { ResolvedDeflateOptions, ZlibDeflateOptions } from "./deflate-options.js";
import { OutputLimitError, SyncZlibStream, syncZlibWorks } from "./zlib-sync.js";

/** The 4 bytes a sync flush ends with, removed on send and appended on receive (section 7.2.1). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The last `size` bytes of a byte stream, in a fixed buffer used as a ring. */
export class SlidingWindow {
  readonly #buffer: Uint8Array;
  /** Where the oldest byte is: 0 until the buffer is full. */
  #start = 0;
  #length = 0;

  constructor(size: number) {
    this.#buffer = new Uint8Array(size);
  }

  append(data: Uint8Array): void {
    const buffer = this.#buffer;
    const size = buffer.length;
    if (data.length >= size) {
      buffer.set(data.subarray(data.length - size));
      this.#start = 0;
      this.#length = size;
      return;
    }
    const end = (this.#start + this.#length) % size;
    const first = Math.min(data.length, size - end);
    buffer.set(data.subarray(0, first), end);
    if (first < data.length) buffer.set(data.subarray(first), 0);
    const length = this.#length + data.length;
    if (length > size) this.#start = (this.#start + length - size) % size;
    this.#length = Math.min(length, size);
  }

  /** The bytes held, oldest first (a view: valid until the next append). */
  get bytes(): Uint8Array {
    const buffer = this.#buffer;
    const start = this.#start;
    if (start !== 0) {
      // Full and wrapped: rotate the oldest bytes to the front, through a copy of the shorter part.
      const size = buffer.length;
      if (start <= size / 2) {
        const newest = buffer.slice(0, start);
        buffer.copyWithin(0, start);
        buffer.set(newest, size - start);
      } else {
        const oldest = buffer.slice(start);
        buffer.copyWithin(size - start, 0, start);
        buffer.set(oldest, 0);
      }
      this.#start = 0;
    }
    return buffer.subarray(0, this.#length);
  }
}

/**
 * zlib cannot make a raw deflate stream with an 8-bit window; Node silently uses 9. That is safe for
 * a peer that negotiated 8: zlib never emits a distance above 2^windowBits - 262 (MAX_DIST in
 * deflate.c), 250 bytes for windowBits 9, within the 256-byte window of the peer's decompressor.
 */
const zlibBits = (bits: number): number => Math.max(bits, 9);

/**
 * History given to the compressor: 8 KiB, not the whole 32 KiB window. zlib hashes a preset
 * dictionary on every call, so its size is paid per message: 8 KiB costs much less CPU per message
 * than 32 KiB, for a compressed size a few percent larger. Using less
 * history than the window allows is always valid: the peer's window only bounds how far back we may
 * reference. The receive side keeps the whole negotiated window: the peer may reference all of it.
 */
const SEND_HISTORY = 8 * 1024;

/** The codec on the one-shot functions, for runtimes where {@link ZlibStreamCodec} cannot work. */
export class ZlibCodec implements MessageCodec {
  readonly #level: number | undefined;
  readonly #memLevel: number | undefined;
  readonly #sendBits: number;
  /** History of what we compressed, or undefined without context takeover. */
  readonly #sent: SlidingWindow | undefined;
  /** History of what we inflated, or undefined when the peer resets its compressor. */
  readonly #received: SlidingWindow | undefined;
  /** Compressed frames of the message being received: inflated at its last frame. */
  #pending: Uint8Array[] = [];
  #pendingLength = 0;

  constructor(params: DeflateParams, isServer: boolean, options: ZlibDeflateOptions = {}) {
    this.#level = options.level;
    this.#memLevel = options.memLevel;
    const sendBits = isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    const receiveBits = isServer ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    const sendReset = isServer ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    const receiveReset = isServer ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.#sendBits = zlibBits(sendBits);
    // Our compressor may reference at most 2^sendBits bytes back (its window may be smaller than the
    // peer's, never larger); the peer's, at most 2^receiveBits.
    this.#sent = sendReset ? undefined : new SlidingWindow(Math.min(2 ** sendBits, SEND_HISTORY));
    this.#received = receiveReset ? undefined : new SlidingWindow(2 ** receiveBits);
  }

  compress(data: Uint8Array): Uint8Array {
    const history = this.#sent;
    const out = deflateRawSync(data, {
      finishFlush: constants.Z_SYNC_FLUSH,
      windowBits: this.#sendBits,
      ...(this.#level !== undefined ? { level: this.#level } : {}),
      ...(this.#memLevel !== undefined ? { memLevel: this.#memLevel } : {}),
      ...(history !== undefined && history.bytes.length > 0 ? { dictionary: history.bytes } : {}),
    });
    history?.append(data);
    // A sync flush always ends with an empty stored block, 00 00 ff ff: "remove 4 octets" (7.2.1).
    return out.subarray(0, out.length - TAIL.length);
  }

  decompress(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    // A deflate block may span frames, and a one-shot inflate cannot resume mid-block: keep the
    // frames and inflate at the last one. The reader already bounds their total by maxPayload.
    if (data.length > 0) {
      this.#pending.push(data);
      this.#pendingLength += data.length;
    }
    if (!fin) return EMPTY;
    const input = new Uint8Array(this.#pendingLength + TAIL.length);
    let at = 0;
    for (const part of this.#pending) {
      input.set(part, at);
      at += part.length;
    }
    input.set(TAIL, at); // "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end" (7.2.2)
    this.#pending = [];
    this.#pendingLength = 0;
    const history = this.#received;
    // Where zlib ignores `dictionary` (Deno), the history goes in front of the input instead.
    const prefix = history !== undefined && !inflateTakesDictionary() ? history.bytes.length : 0;
    let out: Uint8Array;
    try {
      out = inflateRawSync(prefix > 0 ? withStoredPrefix(history!.bytes, input) : input, {
        finishFlush: constants.Z_SYNC_FLUSH,
        // A window at least as large as the peer's is always safe; it lives for this call only.
        windowBits: 15,
        // zlib stops and throws as soon as the output passes this: a bomb cannot inflate further
        // than maxPayload plus one 16 KiB output chunk.
        // (Clamped to what a Buffer can hold: a larger maxPayload cannot be reached anyway.)
        maxOutputLength: Math.min(Math.max(1, maxOutput) + prefix, MAX_LENGTH),
        ...(prefix === 0 && history !== undefined && history.bytes.length > 0
          ? { dictionary: history.bytes }
          : {}),
      });
      if (prefix > 0) out = out.subarray(prefix);
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ProtocolError(
          ErrorCodes.PayloadTooBig,
          `Message too big: over ${maxOutput} bytes once inflated`,
          { cause: error },
        );
      }
      throw error; // the core reports it as DecompressionFailed (1007)
    }
    history?.append(out);
    return out;
  }
}

/**
 * The codec on persistent zlib streams (zlib-sync.ts), made on first use: a connection that never
 * sends or receives a compressed message holds no zlib context. Each stream keeps its window between
 * messages, so context takeover costs nothing; without it the stream is reset after each message.
 * {@link close} frees them when the connection ends.
 */
export class ZlibStreamCodec implements MessageCodec {
  readonly #deflateOptions: { windowBits: number; level?: number; memLevel?: number };
  readonly #sendReset: boolean;
  readonly #receiveReset: boolean;
  /**
   * What we inflated, kept with context takeover to restart the inflater after a message that ended
   * the deflate stream (a block with BFINAL set, section 7.2.3.3): "the client MUST decompress each
   * new message using the LZ77 sliding window used to process the last compressed message" (7.2.2).
   */
  #received: SlidingWindow | undefined;
  /** Its size, made at the first inflated bytes (an idle connection holds none); 0 without takeover. */
  readonly #receivedSize: number;
  #deflater: SyncZlibStream | undefined;
  #inflater: SyncZlibStream | undefined;
  /** Compressed bytes of the message being received, so far. */
  #messageLength = 0;
  #closed = false;

  constructor(params: DeflateParams, isServer: boolean, options: ZlibDeflateOptions = {}) {
    const sendBits = isServer ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    const receiveBits = isServer ? params.clientMaxWindowBits : params.serverMaxWindowBits;
    this.#sendReset = isServer ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.#receiveReset = isServer ? params.clientNoContextTakeover : params.serverNoContextTakeover;
    this.#deflateOptions = {
      windowBits: zlibBits(sendBits),
      ...(options.level !== undefined ? { level: options.level } : {}),
      ...(options.memLevel !== undefined ? { memLevel: options.memLevel } : {}),
    };
    this.#receivedSize = this.#receiveReset ? 0 : 2 ** receiveBits;
  }

  compress(data: Uint8Array): Uint8Array {
    const deflater = (this.#deflater ??= this.#open(createDeflateRaw(this.#deflateOptions)));
    const out = deflater.write(data).data;
    if (this.#sendReset) deflater.reset();
    // zlib writes nothing for a flush right after a flush (an empty message): send the one 0x00 byte
    // of an empty stored block (section 7.2.3.6), whose 00 00 ff ff the peer appends.
    if (out.length === 0) return EMPTY_BLOCK;
    // A sync flush always ends with an empty stored block, 00 00 ff ff: "remove 4 octets" (7.2.1).
    return out.subarray(0, out.length - TAIL.length);
  }

  decompress(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    // A window at least as large as the peer's is always safe.
    const inflater = (this.#inflater ??= this.#open(createInflateRaw({ windowBits: 15 })));
    let out: Uint8Array;
    try {
      // Each frame as it comes: the stream resumes wherever the previous one stopped, even mid-block.
      out = data.length > 0 ? inflater.write(data, maxOutput).data : EMPTY;
      this.#messageLength += data.length;
      if (fin) {
        const empty = this.#messageLength === 0;
        this.#messageLength = 0;
        // A message of no bytes at all (not even section 7.2.3.6's 0x00) is empty, as a one-shot
        // inflate of the tail alone makes it: the tail would leave the stream mid-block.
        if (empty) return EMPTY;
        // "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end" (7.2.2).
        const tail = inflater.write(TAIL, maxOutput - out.length);
        if (tail.data.length > 0) out = out.length > 0 ? concat(out, tail.data) : tail.data;
        this.#keep(out);
        if (tail.ended) this.#restartInflater();
        else if (this.#receiveReset) inflater.reset();
        return out;
      }
    } catch (error) {
      if (error instanceof OutputLimitError) {
        // The stream stopped mid-message: no later message can be inflated with it.
        this.#inflater = undefined;
        inflater.close();
        throw new ProtocolError(
          ErrorCodes.PayloadTooBig,
          `Message too big: over ${maxOutput} bytes once inflated`,
          { cause: error },
        );
      }
      throw error; // the core reports it as DecompressionFailed (1007)
    }
    this.#keep(out);
    return out;
  }

  #keep(inflated: Uint8Array): void {
    if (this.#receivedSize === 0 || inflated.length === 0) return;
    (this.#received ??= new SlidingWindow(this.#receivedSize)).append(inflated);
  }

  /** Frees the zlib streams: the connection is over, the codec is not used again. */
  close(): void {
    this.#closed = true;
    this.#deflater?.close();
    this.#inflater?.close();
    this.#deflater = undefined;
    this.#inflater = undefined;
  }

  #open(zlib: ConstructorParameters<typeof SyncZlibStream>[0]): SyncZlibStream {
    if (this.#closed) {
      zlib.close();
      throw new Error("permessage-deflate codec used after its connection ended");
    }
    return new SyncZlibStream(zlib);
  }

  /** The peer ended its deflate stream: its next message is a new one, over the same history. */
  #restartInflater(): void {
    const history = this.#received?.bytes;
    this.#inflater!.close();
    this.#inflater =
      history !== undefined && history.length > 0
        ? this.#open(createInflateRaw({ windowBits: 15, dictionary: history }))
        : undefined;
  }
}

/** `a` then `b`, in one new buffer. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The codec for this runtime: on persistent zlib streams where they work synchronously
 * ({@link syncZlibWorks}), else on the one-shot functions.
 */
export function newZlibCodec(
  params: DeflateParams,
  isServer: boolean,
  options?: ZlibDeflateOptions,
): MessageCodec {
  return syncZlibWorks()
    ? new ZlibStreamCodec(params, isServer, options)
    : new ZlibCodec(params, isServer, options);
}

/**
 * `data` after one stored (uncompressed, non-final) deflate block holding `history`: inflated, the
 * stored block fills the window exactly as a preset dictionary would, and `data` starts on the byte
 * boundary a stored block ends at, as a message's first block does (RFC 1951 section 3.2.4).
 * `history` is at most one window, 32 KiB, within a stored block's 65535 bytes.
 */
export function withStoredPrefix(history: Uint8Array, data: Uint8Array): Uint8Array {
  const n = history.length;
  const out = new Uint8Array(5 + n + data.length);
  // BFINAL 0, BTYPE 00 (stored), padded to the byte; LEN and its one's complement NLEN, little-endian.
  out.set([0x00, n & 0xff, n >>> 8, ~n & 0xff, (~n >>> 8) & 0xff]);
  out.set(history, 5);
  out.set(data, 5 + n);
  return out;
}

/** "tideway" deflated with the dictionary "tideway": a back-reference only the dictionary resolves. */
const DICTIONARY_PROBE = new Uint8Array([42, 129, 80, 0, 0, 0, 0, 255, 255]);
let dictionaryWorks: boolean | undefined;

/**
 * Whether `inflateRawSync` honours `dictionary`: Node and Bun do; Deno 2's `node:zlib` ignores it
 * for raw streams (and fails on the peer's references into it: "invalid distance too far back").
 * Probed once, on the first message that needs the history.
 */
export function inflateTakesDictionary(): boolean {
  if (dictionaryWorks === undefined) {
    const dictionary = new TextEncoder().encode("tideway");
    try {
      const out = inflateRawSync(DICTIONARY_PROBE, { finishFlush: constants.Z_SYNC_FLUSH, dictionary });
      dictionaryWorks = new TextDecoder().decode(out) === "tideway";
    } catch {
      dictionaryWorks = false;
    }
  }
  return dictionaryWorks;
}

const EMPTY = new Uint8Array(0);
/** A compressed empty message: an empty stored block without its LEN and NLEN (section 7.2.3.6). */
const EMPTY_BLOCK = new Uint8Array([0x00]);
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

/** The core's permessage-deflate options for the resolved client option: the offer and a zlib codec. */
export function deflateProtocolOptions(o: ResolvedDeflateOptions): PerMessageDeflateOptions | undefined {
  if (o === false) return undefined;
  let options = protocolDeflateOptions.get(o);
  if (options === undefined) {
    options = buildProtocolOptions(o);
    protocolDeflateOptions.set(o, options);
  }
  return options;
}

/**
 * The core's options per resolved option object, shared by the connections of a client (and by all
 * clients left to the default): the core keeps them, with the codec factory's closure, for the life
 * of each connection.
 */
const protocolDeflateOptions = new WeakMap<object, PerMessageDeflateOptions>();

function buildProtocolOptions(o: Exclude<ResolvedDeflateOptions, false>): PerMessageDeflateOptions {
  const zlib: ZlibDeflateOptions = {
    ...(o.level !== undefined ? { level: o.level } : {}),
    ...(o.memLevel !== undefined ? { memLevel: o.memLevel } : {}),
  };
  return {
    codecFactory: (params, isServer) => newZlibCodec(params, isServer, zlib),
    threshold: o.threshold,
    ...(o.clientMaxWindowBits !== undefined ? { clientMaxWindowBits: o.clientMaxWindowBits } : {}),
    ...(o.serverMaxWindowBits !== undefined ? { serverMaxWindowBits: o.serverMaxWindowBits } : {}),
    ...(o.clientNoContextTakeover ? { clientNoContextTakeover: true } : {}),
    ...(o.serverNoContextTakeover ? { serverNoContextTakeover: true } : {}),
  };
}
