/**
 * The permessage-deflate codec on `node:zlib` (RFC 7692), synchronous, with context takeover
 * emulated by preset dictionaries.
 *
 * Why not a persistent zlib stream: Node 20 has no public synchronous API on `DeflateRaw` /
 * `InflateRaw` objects (the internal `_processChunk` closes the handle after one call), and the
 * asynchronous one costs a thread-pool round trip per message (~150-250 us, versus ~20-90 us here)
 * plus a queue to keep messages in order. The public `deflateRawSync` / `inflateRawSync` take a
 * `dictionary`, and a preset dictionary of the last 2^windowBits bytes of the previous messages is
 * exactly what the peer's decompressor holds in its LZ77 window: our back-references into it are the
 * ones a persistent compressor could make, and the peer's references into its history resolve against
 * the same bytes here. Only compressed messages enter the history: plain (RSV1 clear) messages never
 * pass through the peer's compressor or decompressor.
 */
import { constants as bufferConstants } from "node:buffer";
import { constants, createInflateRaw, deflateRawSync, type InflateRaw, inflateRawSync } from "node:zlib";
import {
  DEFAULT_DEFLATE_THRESHOLD,
  type DeflateParams,
  ErrorCodes,
  type MessageCodec,
  type PerMessageDeflateOptions,
  ProtocolError,
} from "@tideway/core";

/** zlib settings of the compressor. */
export interface ZlibDeflateOptions {
  /** 0..9; default 6 (zlib's Z_DEFAULT_COMPRESSION). Lower is faster, higher smaller. */
  level?: number;
  /** 1..9; default 8. Memory for the compressor's hash tables (2^(memLevel+9) bytes per call). */
  memLevel?: number;
}

/** The 4 bytes a sync flush ends with, removed on send and appended on receive (section 7.2.1). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The last `size` bytes of a byte stream, in a fixed buffer. */
export class SlidingWindow {
  readonly #buffer: Uint8Array;
  #length = 0;

  constructor(size: number) {
    this.#buffer = new Uint8Array(size);
  }

  append(data: Uint8Array): void {
    const buffer = this.#buffer;
    const size = buffer.length;
    if (data.length >= size) {
      buffer.set(data.subarray(data.length - size));
      this.#length = size;
      return;
    }
    const overflow = this.#length + data.length - size;
    if (overflow > 0) {
      buffer.copyWithin(0, overflow, this.#length);
      this.#length -= overflow;
    }
    buffer.set(data, this.#length);
    this.#length += data.length;
  }

  /** The bytes held, oldest first (a view: valid until the next append). */
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
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
    let out: Uint8Array;
    try {
      out = inflateRawSync(input, {
        finishFlush: constants.Z_SYNC_FLUSH,
        // A window at least as large as the peer's is always safe; it lives for this call only.
        windowBits: 15,
        // zlib stops and throws as soon as the output passes this: a bomb cannot inflate further
        // than maxPayload plus one 16 KiB output chunk.
        // (Clamped to what a Buffer can hold: a larger maxPayload cannot be reached anyway.)
        maxOutputLength: Math.min(Math.max(1, maxOutput), MAX_LENGTH),
        ...(history !== undefined && history.bytes.length > 0 ? { dictionary: history.bytes } : {}),
      });
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

const EMPTY = new Uint8Array(0);
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

/** The `perMessageDeflate` client option, when an object. */
export interface PerMessageDeflateClientOptions extends ZlibDeflateOptions {
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024, as `ws`. */
  threshold?: number;
  /**
   * Offer `client_max_window_bits`: `true` (default) lets the server choose our window; a number 8..15
   * caps it (smaller = less memory per compression, worse ratio); `false` leaves the parameter out.
   */
  clientMaxWindowBits?: number | boolean;
  /** Ask the server to use a window of at most 2^N bytes (less memory here to inflate). */
  serverMaxWindowBits?: number;
  /** Reset our compressor after each message (less CPU per message, worse ratio). */
  clientNoContextTakeover?: boolean;
  /** Ask the server to reset its compressor after each message. */
  serverNoContextTakeover?: boolean;
}

/** The resolved default (`true` or no option): one frozen object for every client. */
const DEFAULT_DEFLATE: ResolvedDeflateOptions = Object.freeze({ threshold: DEFAULT_DEFLATE_THRESHOLD });

/** `perMessageDeflate` after validation: the settings, or false (not offered). */
export type ResolvedDeflateOptions =
  | false
  | Readonly<Required<Pick<PerMessageDeflateClientOptions, "threshold">> & PerMessageDeflateClientOptions>;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(
      `Option perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Validates the `perMessageDeflate` option. Default `true`: offered, as `ws`, browsers and Python
 * `websockets` do, so servers that compress (most exchange and chat feeds) can; the cost stays on the
 * messages that are actually compressed. Every problem is a TypeError.
 */
export function resolveDeflateOptions(
  option: boolean | PerMessageDeflateClientOptions | undefined,
): ResolvedDeflateOptions {
  if (option === false) return false;
  if (option === undefined || option === true) return DEFAULT_DEFLATE;
  if (typeof option !== "object" || option === null) {
    throw new TypeError("Option perMessageDeflate must be a boolean or an object");
  }
  const o = option;
  const out: PerMessageDeflateClientOptions & { threshold: number } = {
    threshold:
      o.threshold === undefined
        ? DEFAULT_DEFLATE_THRESHOLD
        : integerIn("threshold", o.threshold, 0, 2 ** 53 - 1),
  };
  if (o.level !== undefined) out.level = integerIn("level", o.level, 0, 9);
  if (o.memLevel !== undefined) out.memLevel = integerIn("memLevel", o.memLevel, 1, 9);
  if (o.clientMaxWindowBits !== undefined && typeof o.clientMaxWindowBits !== "boolean") {
    out.clientMaxWindowBits = integerIn("clientMaxWindowBits", o.clientMaxWindowBits, 8, 15);
  } else if (o.clientMaxWindowBits !== undefined) out.clientMaxWindowBits = o.clientMaxWindowBits;
  if (o.serverMaxWindowBits !== undefined) {
    out.serverMaxWindowBits = integerIn("serverMaxWindowBits", o.serverMaxWindowBits, 8, 15);
  }
  if (o.clientNoContextTakeover !== undefined)
    out.clientNoContextTakeover = o.clientNoContextTakeover === true;
  if (o.serverNoContextTakeover !== undefined)
    out.serverNoContextTakeover = o.serverNoContextTakeover === true;
  return out;
}

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
    codecFactory: (params, isServer) => new ZlibCodec(params, isServer, zlib),
    threshold: o.threshold,
    ...(o.clientMaxWindowBits !== undefined ? { clientMaxWindowBits: o.clientMaxWindowBits } : {}),
    ...(o.serverMaxWindowBits !== undefined ? { serverMaxWindowBits: o.serverMaxWindowBits } : {}),
    ...(o.clientNoContextTakeover ? { clientNoContextTakeover: true } : {}),
    ...(o.serverNoContextTakeover ? { serverNoContextTakeover: true } : {}),
  };
}
