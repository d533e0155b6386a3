/**
 * The receive path: bytes in, whole messages and control frames out (RFC 6455 sections 5 and 6.2).
 *
 * One entry point, `read(chunk, out)`. Inside, an explicit state machine (HEADER, LENGTH_16, LENGTH_64,
 * MASK_KEY, PAYLOAD) runs one drive loop that returns as soon as it needs more bytes, like `ws`'
 * Receiver: chunks are kept in a list and consumed without copying when a frame's payload lies in one
 * chunk. Limits (maxPayload, maxFragments) are checked when a frame header arrives, before any
 * payload is buffered. A `limit` on a read stops it after a message, leaving the rest unparsed, so a
 * caller's backpressure applies before more messages are inflated.
 *
 * ALIASING: `binary`, `ping` and `pong` event data may be a view into a chunk passed to `read` (no copy):
 * the caller must not modify or reuse a chunk after passing it. Chunks that hold fragments of 1 KiB or
 * more of a message not yet complete are referenced until the message ends (smaller fragments are
 * copied). For masked frames (server role), payloads are unmasked IN PLACE in the input chunk. A chunk that is (a prefix of) the view `payloadRegion` returned
 * is already where it belongs: it is counted, not copied.
 *
 * UTF-8: a single-frame text message that arrives whole is validated once; a fragmented one fragment by
 * fragment (Utf8Validator), so invalid bytes fail on the fragment that carries them. A text frame whose
 * payload arrives over several reads (client role) is validated as its bytes arrive: a 16 MiB message
 * with a bad byte near its start fails then, not after 16 MiB (Autobahn 6.4.3/6.4.4, "fail fast").
 *
 * NOT HERE: what may follow a close frame (ignored), replies to pings and closes: the protocol
 * object above decides; the reader keeps parsing frames after a close.
 *
 * ERRORS: `read` throws a ProtocolError (its `closeCode` says how to close). Events completed before the
 * bad byte are already in `out`. After a throw the reader is dead: `read` throws InvalidStateError.
 */
import { parseCloseBody } from "./close.js";
import { DEFAULT_MAX_FRAGMENTS, MAX_CONTROL_PAYLOAD, Opcode } from "./constants.js";
import type { MessageCodec } from "./deflate.js";
import { ErrorCodes, InvalidStateError, ProtocolError } from "./errors.js";
import type { WsEvent } from "./events.js";
import { readLength64 } from "./frame.js";
import { mask } from "./mask.js";
import { Utf8ChunkDecoder, type Utf8Codec, Utf8Validator } from "./utf8.js";

/** The options of a {@link MessageReader}. */
export interface ReaderOptions {
  /** false for a client (server frames must be unmasked, section 5.1); true for a server. */
  expectMasked: boolean;
  /** Largest message accepted, after reassembly, in bytes (close 1009 beyond). */
  maxPayload: number;
  /** Most frames one data message may take (close 1009 beyond). Default DEFAULT_MAX_FRAGMENTS. */
  maxFragments?: number;
  utf8: Utf8Codec;
  /**
   * Allocates the buffer a message spanning several chunks is copied into; it is filled entirely.
   * Default `new Uint8Array(size)`; Node passes an allocator that skips zero-filling.
   */
  allocate?: (size: number) => Uint8Array;
  /**
   * The negotiated permessage-deflate codec: messages whose first frame has RSV1 set are inflated
   * through it. Without one, RSV1 fails the connection (no extension defines it). The inflated size
   * counts against `maxPayload` while inflating.
   */
  codec?: MessageCodec;
  /**
   * Deliver data messages as `message-start`, `message-chunk` and `message-end` events as their
   * bytes arrive, never reassembled: then `maxPayload` bounds each frame, `maxStreamedPayload` each
   * message, and compressed payloads are passed on as they are (the codec is not used to inflate).
   */
  streamMessages?: boolean;
  /** With `streamMessages`: the largest message, in payload bytes on the wire. Default unlimited. */
  maxStreamedPayload?: number;
  /** `false`: text messages are `utf8` events (validated bytes) instead of decoded `text`. Default true. */
  decodeText?: boolean;
}

// Parser states. Each names what the drive loop waits for next.
/** The first two header bytes (FIN, RSV, opcode, MASK, 7-bit length). */
const HEADER = 0;
/** The 16-bit extended length. */
const LENGTH_16 = 1;
/** The 64-bit extended length. */
const LENGTH_64 = 2;
/** The 4-byte masking key. */
const MASK_KEY = 3;
/** The whole payload of the current frame. */
const PAYLOAD = 4;
/** A ProtocolError was thrown: the connection is failed, nothing more is parsed. */
const DEAD = 5;

const EMPTY = /* @__PURE__ */ new Uint8Array(0);

/** The empty list of message parts, shared by all readers: replaced (never pushed to) by the first part. */
const NO_PARTS = /* @__PURE__ */ Object.freeze([]) as unknown as Uint8Array[];

/**
 * Parts of a fragmented message at least this big are kept as they came (a view, ~100 B of heap:
 * at most 10% more); smaller ones are copied into blocks of FIRST_BLOCK doubling up to BLOCK_SIZE.
 */
const KEPT_PART = 1024;
const FIRST_BLOCK = 1024;
const BLOCK_SIZE = 65_536; // 64 KiB

/** A 64-bit length split across chunks, gathered and read in one step: shared by all readers. */
const LENGTH_SCRATCH = /* @__PURE__ */ new Uint8Array(8);

/**
 * payloadRegion allocates a frame's payload buffer as soon as its header is read up to this size;
 * beyond it, once 1/16 of the payload has arrived. A peer that announces a frame and sends nothing
 * pins at most this much per connection (or 16 times what it sent).
 */
const EAGER_ALLOCATION = 1_048_576; // 1 MiB

function fail(code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string): never {
  throw new ProtocolError(code, message);
}

/**
 * Reads frames from a byte stream and returns whole messages and control frames as events
 * (reassembling fragments, unmasking, validating UTF-8 and inflating): the receiving half of
 * {@link Protocol}, for transports and servers that drive frames themselves. Throws ProtocolError.
 */
export class MessageReader {
  readonly #expectMasked: boolean;
  readonly #maxPayload: number;
  readonly #maxFragments: number;
  readonly #isValidUtf8: (bytes: Uint8Array) => boolean;
  readonly #decodeUtf8: (bytes: Uint8Array) => string;
  readonly #decodeText: boolean;
  readonly #allocate: (size: number) => Uint8Array;
  readonly #allowRsv1: boolean;
  readonly #codec: MessageCodec | undefined;
  /** Made on the first text message: a binary-only connection never needs one. */
  #validator: Utf8Validator | undefined;
  /** The streaming mode (ReaderOptions.streamMessages), and its limit per message. */
  readonly #streaming: boolean;
  readonly #maxStreamed: number;
  /** The fast path of whole unmasked frames (#wholeFrames): a client that does not stream. */
  readonly #wholeFramesAllowed: boolean;
  /** Streaming: the text decoder of streamed text messages, made on the first one. */
  #chunkDecoder: Utf8ChunkDecoder | undefined;
  /** Streaming: payload bytes of the current frame passed on so far, or -1 before its payload starts. */
  #streamed = -1;

  // The byte queue: unread bytes start at #pos in #chunks[#head]. An index rather than shift(), which
  // is O(n) on long arrays: a payload arriving in thousands of tiny chunks would cost quadratic time.
  #chunks: Uint8Array[] = [];
  #head = 0;
  #pos = 0;
  #buffered = 0;

  #state = HEADER;
  // The frame being parsed.
  #fin = false;
  #opcode = 0;
  #masked = false;
  #rsv1 = false;
  #payloadLength = 0;
  /**
   * The frame's masking key, made on the first masked frame: only a server reads masked frames, so a
   * client's reader never holds one. A 64-bit length split across chunks is read at once, into
   * LENGTH_SCRATCH.
   */
  #maskKey: Uint8Array | undefined;

  // The message being assembled: #messageOpcode is 0 outside a message.
  #messageOpcode = 0;
  #messageLength = 0;
  /** Frames of the message being assembled so far, against maxFragments. */
  #messageFrames = 0;
  /**
   * The parts of a message that spans several frames (its fragments, or its inflated parts when
   * compressed), joined at its end: parts of KEPT_PART bytes or more as they came (no copy), smaller
   * ones copied together into #block as they arrive, one view per run. So the overhead per part is
   * bounded (a view per KEPT_PART bytes at worst) and memory follows the payload, not the number of
   * fragments (a view is ~100 B of heap: one per one-byte fragment is 30 times the wire size).
   * NO_PARTS (shared, never pushed to) until the first one, as most messages are one frame.
   */
  #parts: Uint8Array[] = NO_PARTS;
  /** Where small parts are copied; `#runStart` to `#blockUsed` is the run not yet in #parts. */
  #block: Uint8Array | undefined;
  #blockUsed = 0;
  #runStart = 0;
  /** Bytes of the message in its parts so far. */
  #assembled = 0;
  /** The message's first frame had RSV1: its payload is deflated (RFC 7692 section 6.1). */
  #compressed = false;
  /** Inflated bytes of the current compressed message, counted against maxPayload. */
  #inflatedLength = 0;
  /**
   * Bytes of the current text frame's payload validated while it was still arriving, or -1 when the
   * frame is not being validated early.
   */
  #validatedEarly = -1;
  /**
   * The current frame's payload, filled as its chunks arrive (#filled bytes so far), once it spans
   * several reads; undefined otherwise.
   */
  #partial: Uint8Array | undefined;
  #filled = 0;
  /**
   * Payload bytes of data messages the current read may still complete before it stops, leaving the
   * rest of its bytes unparsed (see `read`'s `limit`).
   */
  #budget = Number.POSITIVE_INFINITY;
  #stopped = false;
  /**
   * Streaming: a compressed message just ended. The read stops there, before control frames too,
   * so that the caller inflates it (and may fail the connection) before a ping after it is answered.
   */
  #stopAfterMessage = false;
  /**
   * Ping, pong and close frames parsed so far: the protocol reacts to events only when this moved,
   * not with a scan of every data event.
   */
  controlFrames = 0;

  constructor(options: ReaderOptions) {
    this.#expectMasked = options.expectMasked;
    this.#maxPayload = options.maxPayload;
    this.#maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
    this.#isValidUtf8 = options.utf8.isValid;
    this.#decodeUtf8 = options.utf8.decode;
    this.#decodeText = options.decodeText ?? true;
    this.#allocate = options.allocate ?? allocateZeroed;
    this.#codec = options.codec;
    this.#allowRsv1 = options.codec !== undefined;
    this.#streaming = options.streamMessages === true;
    this.#maxStreamed = options.maxStreamedPayload ?? Number.POSITIVE_INFINITY;
    this.#wholeFramesAllowed = !this.#expectMasked && !this.#streaming;
  }

  /**
   * True when the last `read` stopped at its `limit` with bytes left unparsed: `read(EMPTY, limit)`
   * goes on with them.
   */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * The part of the current frame's payload buffer where its next bytes go, for a transport that
   * reads from the network straight into it (see Protocol#receiveBuffer); undefined unless an
   * unmasked, uncompressed data frame has at least `minimum` payload bytes still to come. The view
   * ends where the payload ends. Allocates that buffer now if needed, when the payload is at most
   * EAGER_ALLOCATION bytes (or 1/16 of it has arrived, as in #readPayload).
   */
  payloadRegion(minimum: number): Uint8Array | undefined {
    const length = this.#payloadLength;
    if (
      this.#state !== PAYLOAD ||
      this.#streaming || // chunks are passed on as they come: no message buffer to read into
      this.#masked ||
      this.#compressed ||
      this.#opcode >= 0x8 ||
      length - this.#filled - this.#buffered < minimum
    ) {
      return undefined;
    }
    let partial = this.#partial;
    if (partial === undefined) {
      if (length > EAGER_ALLOCATION && this.#buffered * 16 < length) return undefined;
      partial = this.#allocate(length);
      this.#partial = partial;
      const n = this.#buffered;
      this.#buffered = 0;
      this.#copyInto(partial, 0, n);
      this.#filled = n;
    }
    return view(partial, this.#filled, length - this.#filled);
  }

  /** `chunk` holds the next payload bytes, already in place: a prefix of payloadRegion's view. */
  #isPayloadRegion(chunk: Uint8Array): boolean {
    const partial = this.#partial;
    return (
      partial !== undefined &&
      this.#state === PAYLOAD &&
      this.#buffered === 0 &&
      chunk.buffer === partial.buffer &&
      chunk.byteOffset === partial.byteOffset + this.#filled &&
      this.#filled + chunk.length <= this.#payloadLength
    );
  }

  /**
   * Parses `chunk` (split at any byte boundary) and pushes every completed event into `out`. Throws a
   * ProtocolError on a protocol violation; see the module doc for aliasing and the state after a throw.
   * With a `limit`, parsing stops after the data message that brings the payload bytes of the
   * messages this call completed to `limit` or more (at least one message), and the control frames
   * right after it: the rest stays buffered, unparsed (not validated, not inflated), and `stopped`
   * is true until a later `read` (an empty chunk will do) gets through it.
   */
  read(chunk: Uint8Array, out: WsEvent[], limit = Number.POSITIVE_INFINITY): void {
    if (this.#state === DEAD) throw new InvalidStateError("The reader failed earlier and cannot read more");
    this.#stopped = false;
    if (chunk.length === 0 && this.#buffered === 0) return;
    this.#budget = limit > 0 ? limit : 1;
    this.#stopAfterMessage = false;
    try {
      if (this.#validatedEarly >= 0) this.#validateArriving(chunk);
      if (this.#isPayloadRegion(chunk)) {
        // Read in place (see payloadRegion): count the bytes; the payload state completes the frame.
        // This saves the copy of large payloads (docs/benchmarks.md, recv-binary scenarios).
        this.#filled += chunk.length;
        this.#drive(out);
        return;
      }
      if (chunk.length > 0) {
        this.#chunks.push(chunk);
        this.#buffered += chunk.length;
      }
      this.#drive(out);
    } catch (error) {
      this.#state = DEAD;
      this.#chunks = [];
      this.#head = 0;
      this.#parts = NO_PARTS;
      this.#block = undefined;
      this.#partial = undefined;
      this.#buffered = 0;
      this.#validatedEarly = -1;
      this.#streamed = -1;
      throw error;
    }
  }

  /** The drive loop: each step consumes what its state needs, or returns false for "need more data". */
  #drive(out: WsEvent[]): void {
    for (;;) {
      let progressed: boolean;
      switch (this.#state) {
        case HEADER:
          if (this.#messageOpcode === 0 && this.#wholeFramesAllowed && this.#buffered > 0)
            this.#wholeFrames(out);
          if (
            this.#budget <= 0 &&
            this.#buffered > 0 &&
            (this.#stopAfterMessage || !this.#controlFrameNext())
          ) {
            this.#stopped = true;
            return;
          }
          progressed = this.#readHeader();
          break;
        case LENGTH_16:
          progressed = this.#readLength16();
          break;
        case LENGTH_64:
          progressed = this.#readLength64();
          break;
        case MASK_KEY:
          progressed = this.#readMaskKey();
          break;
        default:
          progressed = this.#readPayload(out);
      }
      if (!progressed) return;
    }
  }

  /**
   * The next frame is a ping, pong or close (its first byte is buffered): parsed even past a read's
   * limit, so that a paused reader still answers pings and sees the peer's close. They are small.
   */
  #controlFrameNext(): boolean {
    return (this.#chunks[this.#head]![this.#pos]! & 0x08) !== 0;
  }

  // --- byte queue ---

  /** The current chunk is used up: move to the next one, and release it. */
  #nextChunk(): void {
    const chunks = this.#chunks;
    const head = this.#head + 1;
    this.#pos = 0;
    if (head === chunks.length) {
      chunks.length = 0;
      this.#head = 0;
    } else if (head >= 1024 && head * 2 >= chunks.length) {
      // Compact now and then: amortized O(1) per chunk.
      this.#chunks = chunks.slice(head);
      this.#head = 0;
    } else {
      chunks[head - 1] = EMPTY; // let the consumed chunk be collected
      this.#head = head;
    }
  }

  #byte(): number {
    const chunk = this.#chunks[this.#head]!;
    const b = chunk[this.#pos++]!;
    if (this.#pos === chunk.length) this.#nextChunk();
    this.#buffered--;
    return b;
  }

  /**
   * Takes the next `n` bytes (the caller checked they are buffered): a view when they lie in one chunk
   * (the chunk itself when it is exactly those bytes), else one copy into a new buffer.
   */
  #consume(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    this.#buffered -= n;
    const first = this.#chunks[this.#head]!;
    const start = this.#pos;
    const end = start + n;
    if (end <= first.length) {
      if (end === first.length) {
        this.#nextChunk();
        return start === 0 ? first : view(first, start, n);
      }
      this.#pos = end;
      return view(first, start, n);
    }
    const out = this.#allocate(n);
    this.#copyInto(out, 0, n);
    return out;
  }

  /** Moves the next `n` buffered bytes into `out` at `offset` (#buffered already counts them out). */
  #copyInto(out: Uint8Array, offset: number, n: number): void {
    const end = offset + n;
    while (offset < end) {
      const chunk = this.#chunks[this.#head]!;
      const available = chunk.length - this.#pos;
      const take = Math.min(available, end - offset);
      out.set(take === chunk.length ? chunk : chunk.subarray(this.#pos, this.#pos + take), offset);
      offset += take;
      if (take === available) {
        this.#nextChunk();
      } else {
        this.#pos += take;
      }
    }
  }

  /**
   * The fast path of the HEADER state: takes every frame at the head of the current chunk that is a
   * whole message by itself and lies entirely in the chunk (FIN, no RSV bit, text or binary,
   * unmasked, 7- or 16-bit length, within maxPayload), with the checks those frames need and none of
   * the states. It stops at the first other frame, which the states then parse (and reject, if it is
   * invalid). Outside a fragmented message, in the client role only (the caller checks). Why: for
   * small messages the per-frame state steps cost more than the bytes.
   */
  #wholeFrames(out: WsEvent[]): void {
    const chunk = this.#chunks[this.#head]!;
    const size = chunk.length;
    const first = this.#pos;
    const maxPayload = this.#maxPayload;
    // view() inlined, with the chunk's class, buffer and offset read once per chunk, not per frame.
    const buffer = chunk.constructor === Uint8Array ? chunk.buffer : undefined;
    const base = chunk.byteOffset;
    let pos = first;
    let budget = this.#budget;
    while (pos + 2 <= size && budget > 0) {
      const b0 = chunk[pos]!;
      // FIN and opcode 1 or 2, RSV clear: continuations, control frames and RSV bits take the states.
      if (b0 !== 0x82 && b0 !== 0x81) break;
      let start = pos + 2;
      let length = chunk[pos + 1]!;
      if (length >= 126) {
        // A masked frame (0x80 set) or a 64-bit length: the states parse it, or reject it.
        if (length !== 126 || start + 2 > size) break;
        length = (chunk[start]! << 8) | chunk[start + 1]!;
        start += 2;
      }
      const end = start + length;
      if (end > size || length > maxPayload) break;
      const data =
        buffer !== undefined ? new Uint8Array(buffer, base + start, length) : chunk.subarray(start, end);
      if (b0 === 0x82) {
        out.push({ type: "binary", data });
      } else {
        if (!this.#isValidUtf8(data)) fail(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message");
        out.push(this.#decodeText ? { type: "text", data: this.#decodeUtf8(data) } : { type: "utf8", data });
      }
      budget -= length;
      pos = end;
    }
    this.#budget = budget;
    this.#buffered -= pos - first;
    if (pos === size) this.#nextChunk();
    else this.#pos = pos;
  }

  // --- states ---

  #readHeader(): boolean {
    if (this.#buffered < 2) return false;
    let b0: number;
    let b1: number;
    const chunk = this.#chunks[this.#head]!;
    const pos = this.#pos;
    if (pos + 2 < chunk.length) {
      // Both bytes and more in this chunk: read them in place, not through two #byte() calls (the
      // header is a large share of receiving small messages).
      b0 = chunk[pos]!;
      b1 = chunk[pos + 1]!;
      this.#pos = pos + 2;
      this.#buffered -= 2;
    } else {
      b0 = this.#byte();
      b1 = this.#byte();
    }
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const length7 = b1 & 0x7f;
    // "MUST be 0 unless an extension is negotiated that defines meanings for non-zero values" (5.2).
    if ((b0 & 0x30) !== 0) fail(ErrorCodes.UnexpectedRsvBits, "Invalid frame: RSV2 and RSV3 must be clear");
    if (opcode >= 0x8) {
      // "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
      if (opcode > Opcode.Pong) fail(ErrorCodes.InvalidOpcode, `Invalid opcode: ${opcode}`);
      // permessage-deflate (RFC 7692 section 6.1) sets RSV1 on the first frame of data messages only.
      if (rsv1) fail(ErrorCodes.UnexpectedRsvBits, "Invalid frame: RSV1 must be clear on control frames");
      // "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
      if (!fin)
        fail(ErrorCodes.FragmentedControlFrame, "Invalid frame: control frames must not be fragmented");
      if (length7 > MAX_CONTROL_PAYLOAD) {
        fail(ErrorCodes.ControlFrameTooBig, "Invalid frame: control frame payload longer than 125 bytes");
      }
    } else if (opcode === Opcode.Continuation) {
      if (this.#messageOpcode === 0) {
        fail(
          ErrorCodes.UnexpectedContinuation,
          "Invalid frame: continuation frame without a message to continue",
        );
      }
      if (rsv1)
        fail(ErrorCodes.UnexpectedRsvBits, "Invalid frame: RSV1 must be clear on continuation frames");
    } else {
      if (opcode > Opcode.Binary) fail(ErrorCodes.InvalidOpcode, `Invalid opcode: ${opcode}`);
      if (rsv1 && !this.#allowRsv1) {
        fail(ErrorCodes.UnexpectedRsvBits, "Invalid frame: RSV1 set but no extension was negotiated");
      }
      // Fragments of one message arrive in order, only control frames in between (section 5.4).
      if (this.#messageOpcode !== 0) {
        fail(ErrorCodes.ExpectedContinuation, "Invalid frame: new message before the previous one ended");
      }
    }
    const masked = (b1 & 0x80) !== 0;
    // "A server MUST NOT mask any frames that it sends to the client. A client MUST close a connection
    // if it detects a masked frame" (section 5.1); and a server requires masked frames.
    if (masked !== this.#expectMasked) {
      if (masked) fail(ErrorCodes.MaskedFrame, "Invalid frame: the server sent a masked frame");
      fail(ErrorCodes.UnmaskedFrame, "Invalid frame: the client sent an unmasked frame");
    }
    this.#fin = fin;
    this.#opcode = opcode;
    this.#masked = masked;
    this.#rsv1 = rsv1;
    if (length7 === 126) {
      this.#state = LENGTH_16;
      return true;
    }
    if (length7 === 127) {
      this.#state = LENGTH_64;
      return true;
    }
    return this.#lengthKnown(length7);
  }

  #readLength16(): boolean {
    if (this.#buffered < 2) return false;
    const chunk = this.#chunks[this.#head]!;
    const pos = this.#pos;
    if (pos + 2 < chunk.length) {
      this.#pos = pos + 2;
      this.#buffered -= 2;
      return this.#lengthKnown((chunk[pos]! << 8) | chunk[pos + 1]!);
    }
    const high = this.#byte();
    return this.#lengthKnown((high << 8) | this.#byte());
  }

  #readLength64(): boolean {
    if (this.#buffered < 8) return false;
    const first = this.#chunks[this.#head]!;
    let length: number;
    if (first.length - this.#pos >= 8) {
      length = readLength64(first, this.#pos);
      this.#consume(8);
    } else {
      for (let i = 0; i < 8; i++) LENGTH_SCRATCH[i] = this.#byte();
      length = readLength64(LENGTH_SCRATCH, 0);
    }
    return this.#lengthKnown(length);
  }

  /** The payload length is known: enforce the size limit now, before buffering any payload. */
  #lengthKnown(length: number): boolean {
    const opcode = this.#opcode;
    if (opcode < 0x8) {
      const total = opcode === Opcode.Continuation ? this.#messageLength + length : length;
      if (this.#streaming) this.#checkStreamed(length, total);
      else if (total > this.#maxPayload) {
        fail(ErrorCodes.PayloadTooBig, `Message too big: ${total} bytes (the limit is ${this.#maxPayload})`);
      }
      if (opcode !== Opcode.Continuation) {
        this.#messageFrames = 1;
        this.#messageOpcode = opcode;
        this.#validator?.reset();
        // "the "Per-Message Compressed" bit ... is set on the first frame of a message" (RFC 7692 6).
        this.#compressed = this.#rsv1; // set only with a codec (see #allowRsv1)
        this.#inflatedLength = 0;
      }
      // Checked at the header like the size: a flood of tiny fragments costs work per frame, whatever
      // memory it takes.
      else if (++this.#messageFrames > this.#maxFragments) {
        fail(
          ErrorCodes.TooManyFragments,
          `Message in too many frames: over ${this.#maxFragments} (the limit is ${this.#maxFragments})`,
        );
      }
      this.#messageLength = total;
    }
    this.#payloadLength = length;
    this.#state = this.#masked ? MASK_KEY : PAYLOAD;
    return true;
  }

  #readMaskKey(): boolean {
    if (this.#buffered < 4) return false;
    const key = (this.#maskKey ??= new Uint8Array(4));
    key[0] = this.#byte();
    key[1] = this.#byte();
    key[2] = this.#byte();
    key[3] = this.#byte();
    this.#state = PAYLOAD;
    return true;
  }

  /** Streaming: a frame over maxPayload, or a message over maxStreamedPayload, fails with 1009. */
  #checkStreamed(length: number, total: number): void {
    if (length > this.#maxPayload) {
      fail(ErrorCodes.PayloadTooBig, `Frame too big: ${length} bytes (the limit is ${this.#maxPayload})`);
    }
    if (total > this.#maxStreamed) {
      fail(
        ErrorCodes.PayloadTooBig,
        `Message too big: ${total} bytes (the limit of streamed messages is ${this.#maxStreamed})`,
      );
    }
  }

  #readPayload(out: WsEvent[]): boolean {
    if (this.#streaming && this.#opcode < 0x8) return this.#streamPayload(out);
    const length = this.#payloadLength;
    let data: Uint8Array;
    if (this.#filled + this.#buffered < length) {
      if (
        this.#validatedEarly < 0 &&
        this.#opcode < 0x8 &&
        this.#messageOpcode === Opcode.Text &&
        !this.#masked &&
        !this.#compressed // compressed bytes are not text: validate them once inflated
      ) {
        this.#validateBuffered();
      }
      // A payload spanning several reads is copied chunk by chunk into its destination as they
      // arrive, while each chunk is still in cache, rather than all at the end. The destination is
      // allocated once 1/16 of the payload is here, so memory stays within 16 times the bytes
      // actually received.
      if (this.#partial === undefined && this.#buffered * 16 >= length) {
        this.#partial = this.#allocate(length);
      }
      if (this.#partial !== undefined) {
        const n = this.#buffered;
        this.#buffered = 0;
        this.#copyInto(this.#partial, this.#filled, n);
        this.#filled += n;
      }
      return false;
    }
    if (this.#partial !== undefined) {
      data = this.#partial;
      const n = length - this.#filled;
      this.#buffered -= n;
      this.#copyInto(data, this.#filled, n);
      this.#partial = undefined;
      this.#filled = 0;
    } else {
      data = this.#consume(length);
    }
    if (this.#masked) mask(data, this.#maskKey as Uint8Array);
    this.#state = HEADER;
    const opcode = this.#opcode;
    if (opcode >= 0x8) this.controlFrames++;
    if (opcode === Opcode.Ping) out.push({ type: "ping", data });
    else if (opcode === Opcode.Pong) out.push({ type: "pong", data });
    else if (opcode === Opcode.Close) {
      const { code, reason } = parseCloseBody(data, this.#isValidUtf8, this.#decodeUtf8);
      out.push({ type: "close", code, reason });
    } else this.#dataFrame(data, out);
    return true;
  }

  /**
   * Streaming: passes on the buffered bytes of the current data frame's payload, one view per chunk
   * (no copy), without waiting for the rest; completes the frame, and the message at FIN.
   */
  #streamPayload(out: WsEvent[]): boolean {
    if (this.#streamed < 0) {
      this.#streamed = 0;
      if (this.#opcode !== Opcode.Continuation) {
        out.push({
          type: "message-start",
          binary: this.#opcode === Opcode.Binary,
          compressed: this.#compressed,
        });
        if (this.#opcode === Opcode.Text) this.#chunkDecoder?.reset();
      }
    }
    const length = this.#payloadLength;
    while (this.#streamed < length && this.#buffered > 0) {
      const chunk = this.#chunks[this.#head]!;
      const pos = this.#pos;
      const n = Math.min(chunk.length - pos, length - this.#streamed);
      const piece = view(chunk, pos, n);
      this.#buffered -= n;
      if (pos + n === chunk.length) this.#nextChunk();
      else this.#pos = pos + n;
      // Section 5.3: octet i of the payload is XORed with octet i MOD 4 of the key.
      if (this.#masked) mask(piece, this.#maskKey as Uint8Array, this.#streamed);
      this.#streamed += n;
      this.#budget -= n;
      this.#streamChunk(piece, false, out);
    }
    if (this.#streamed < length) return false;
    this.#streamed = -1;
    this.#state = HEADER;
    if (this.#fin) {
      this.#streamChunk(EMPTY, true, out);
      this.#messageOpcode = 0;
      if (this.#compressed) {
        this.#budget = 0;
        this.#stopAfterMessage = true;
      }
      this.#compressed = false;
      out.push(MESSAGE_END);
    }
    return true;
  }

  /** Streaming: one piece of payload as a `message-chunk` (text validated and decoded first). */
  #streamChunk(piece: Uint8Array, final: boolean, out: WsEvent[]): void {
    if (this.#compressed || this.#messageOpcode !== Opcode.Text) {
      if (piece.length > 0) out.push({ type: "message-chunk", data: piece });
      return;
    }
    const decoder = (this.#chunkDecoder ??= new Utf8ChunkDecoder(this.#isValidUtf8));
    const text = decoder.push(piece, final);
    if (text === undefined) fail(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message");
    if (text.length > 0) out.push({ type: "message-chunk", data: text });
  }

  /** The payload of a text frame is incomplete: validate what is buffered of it, once. */
  #validateBuffered(): void {
    for (let i = this.#head; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!;
      this.#pushArriving(i === this.#head ? chunk.subarray(this.#pos) : chunk);
    }
    this.#validatedEarly = this.#filled + this.#buffered;
  }

  /** A chunk arrives while a text frame's payload is incomplete: validate its share of the payload. */
  #validateArriving(chunk: Uint8Array): void {
    const received = this.#filled + this.#buffered;
    const share = Math.min(chunk.length, this.#payloadLength - received);
    this.#pushArriving(share === chunk.length ? chunk : chunk.subarray(0, share));
    this.#validatedEarly = received + share;
  }

  #pushArriving(bytes: Uint8Array): void {
    if (!this.#textValidator().push(bytes, false))
      fail(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message");
  }

  #textValidator(): Utf8Validator {
    if (this.#validator === undefined) this.#validator = new Utf8Validator(this.#isValidUtf8);
    return this.#validator;
  }

  #dataFrame(data: Uint8Array, out: WsEvent[]): void {
    if (this.#compressed) {
      this.#compressedFrame(data, out);
      return;
    }
    const opcode = this.#opcode;
    const messageOpcode = this.#messageOpcode;
    const validatedEarly = this.#validatedEarly;
    if (validatedEarly >= 0) {
      // The first bytes were checked as they arrived: check the rest, and the end of the message.
      this.#validatedEarly = -1;
      if (!this.#textValidator().push(data.subarray(validatedEarly), this.#fin)) {
        fail(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message");
      }
    } else if (messageOpcode === Opcode.Text) {
      // A text frame that arrived whole (compressed messages took #compressedFrame instead).
      const valid =
        this.#fin && opcode !== Opcode.Continuation
          ? this.#isValidUtf8(data) // a whole message in one frame: no incremental state
          : this.#textValidator().push(data, this.#fin);
      if (!valid) fail(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message");
    }
    if (this.#fin && opcode !== Opcode.Continuation) {
      // A whole message in one frame: no copy.
      this.#messageOpcode = 0;
      this.#budget -= data.length;
      out.push(
        opcode === Opcode.Binary
          ? { type: "binary", data }
          : this.#decodeText
            ? { type: "text", data: this.#decodeUtf8(data) }
            : { type: "utf8", data },
      );
      return;
    }
    this.#append(data);
    if (this.#fin) this.#pushMessage(messageOpcode, out);
  }

  /** Adds a part to the message being assembled: see #parts. */
  #append(part: Uint8Array): void {
    const n = part.length;
    if (n === 0) return;
    this.#assembled += n;
    if (n >= KEPT_PART) {
      this.#endRun();
      this.#keep(part);
      return;
    }
    let block = this.#block;
    if (block === undefined || block.length - this.#blockUsed < n) {
      this.#endRun();
      // Doubling up to BLOCK_SIZE: a message of a few small fragments takes a small block.
      block = this.#allocate(block === undefined ? FIRST_BLOCK : Math.min(2 * block.length, BLOCK_SIZE));
      this.#block = block;
      this.#blockUsed = 0;
      this.#runStart = 0;
    }
    block.set(part, this.#blockUsed);
    this.#blockUsed += n;
  }

  /** Moves the run of small parts copied into #block since the last one to #parts, as one view. */
  #endRun(): void {
    const start = this.#runStart;
    if (this.#blockUsed === start) return;
    this.#runStart = this.#blockUsed;
    this.#keep(view(this.#block!, start, this.#blockUsed - start));
  }

  #keep(part: Uint8Array): void {
    if (this.#parts === NO_PARTS) this.#parts = [part];
    else this.#parts.push(part);
  }

  /** The last frame of a message that spans several arrived: push the whole message. */
  #pushMessage(messageOpcode: number, out: WsEvent[]): void {
    this.#endRun();
    const length = this.#assembled;
    const whole = concat(this.#parts, length, this.#allocate);
    this.#parts = NO_PARTS;
    this.#block = undefined;
    this.#blockUsed = 0;
    this.#runStart = 0;
    this.#assembled = 0;
    this.#messageOpcode = 0;
    this.#budget -= length;
    if (messageOpcode === Opcode.Binary) out.push({ type: "binary", data: whole });
    else if (this.#decodeText) out.push({ type: "text", data: this.#decodeUtf8(whole) });
    else out.push({ type: "utf8", data: whole });
  }

  #compressedFrame(data: Uint8Array, out: WsEvent[]): void {
    const fin = this.#fin;
    const budget = this.#maxPayload - this.#inflatedLength;
    const plain = inflateFrame(this.#codec!, data, fin, budget);
    if (plain.length > budget) {
      fail(
        ErrorCodes.PayloadTooBig,
        `Message too big: over ${this.#maxPayload} bytes once inflated (the limit is ${this.#maxPayload})`,
      );
    }
    this.#inflatedLength += plain.length;
    if (this.#messageOpcode === Opcode.Text && !this.#textValidator().push(plain, fin)) {
      fail(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message");
    }
    this.#append(plain);
    if (!fin) return;
    this.#compressed = false;
    this.#pushMessage(this.#messageOpcode, out);
  }
}

/**
 * One frame of a compressed message: inflate it (the codec may hold the output until the last
 * frame), count the output against maxPayload, validate text on the inflated bytes. The wire
 * (compressed) length was already checked against maxPayload in #lengthKnown, which bounds what a
 * codec that inflates only at `fin` buffers.
 */
function inflateFrame(codec: MessageCodec, data: Uint8Array, fin: boolean, budget: number): Uint8Array {
  let plain: Uint8Array;
  try {
    plain = codec.decompress(data, fin, budget);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(
      ErrorCodes.DecompressionFailed,
      `Invalid compressed data: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return plain;
}

const allocateZeroed = (size: number): Uint8Array => new Uint8Array(size);

/** The one `message-end` event: it carries nothing. */
const MESSAGE_END: WsEvent = /* @__PURE__ */ Object.freeze({ type: "message-end" });

/**
 * `length` bytes of `chunk` from `start`, without copying. A plain Uint8Array gets its view from the
 * constructor, faster than `subarray`, which looks up the species constructor; a subclass of
 * Uint8Array (what Node's sockets hand out) keeps its class through `subarray`.
 */
function view(chunk: Uint8Array, start: number, length: number): Uint8Array {
  return chunk.constructor === Uint8Array
    ? new Uint8Array(chunk.buffer, chunk.byteOffset + start, length)
    : chunk.subarray(start, start + length);
}

/** The parts joined: the only part as it is, else one copy into a buffer of exactly `length` bytes. */
function concat(parts: Uint8Array[], length: number, allocate: (size: number) => Uint8Array): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = allocate(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
