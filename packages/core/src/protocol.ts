import { encodeCloseBody } from "./close.js";
import {
  CloseCode,
  DEFAULT_MAX_ERROR_BODY,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_PAYLOAD,
  MAX_CONTROL_PAYLOAD,
  Opcode,
} from "./constants.js";
import {
  acceptDeflateOffer,
  DEFAULT_DEFLATE_THRESHOLD,
  type DeflateParams,
  formatDeflateOffer,
  type MessageCodec,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflateOptions,
  parseDeflateResponse,
  type ServerDeflateConfig,
} from "./deflate.js";
import {
  ErrorCodes,
  HandshakeError,
  InvalidStateError,
  ProtocolError,
  type WebSocketError,
} from "./errors.js";
import { END_OF_STREAM, type Outgoing, type WsEvent } from "./events.js";
import {
  buildAcceptResponse,
  buildRejectResponse,
  ClientHandshake,
  type HandshakeOutcome,
  ServerHandshake,
  type UpgradeRequest,
  UpgradeRequestError,
} from "./handshake.js";
import type { HttpRequest } from "./http.js";
import { MessageReader } from "./reader.js";
import { defaultUtf8 } from "./utf8.js";
import { FrameWriter } from "./writer.js";

/**
 * Connection states (RFC 6455 sections 4 and 7). CLOSING means a close frame was sent or received
 * and the transport has not ended yet; {@link Protocol.closeSent} / {@link Protocol.closeReceived}
 * say who started the close.
 */
export const State = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export type State = (typeof State)[keyof typeof State];

/**
 * Pluggable UTF-8: the core validates text incrementally, carrying code points split across
 * fragments itself, and calls `isValid` on runs of complete code points only. Node users plug in
 * `buffer.isUtf8` (about 10 GB/s, versus ~0.2 GB/s for a fatal TextDecoder on non-ASCII text).
 */
export interface Utf8Codec {
  /** True when `bytes` (which never ends inside a code point) is valid UTF-8. */
  isValid(bytes: Uint8Array): boolean;
  /** Decodes bytes that were already validated. */
  decode(bytes: Uint8Array): string;
  /** Encodes a string (never fails: lone surrogates become U+FFFD). */
  encode(text: string): Uint8Array;
  /**
   * Optional: encodes `text` into `dst` at `offset`, which has room for `3 * text.length` bytes, and
   * returns the number of bytes written. Lets a text frame be encoded in place, without the copy of
   * `encode`'s result; without it the core uses `encode`.
   */
  encodeInto?(text: string, dst: Uint8Array, offset: number): number;
}

/** Options shared by both roles. */
export interface ProtocolOptions {
  /** Largest message accepted, after reassembly, in bytes. Default {@link DEFAULT_MAX_PAYLOAD}. */
  maxPayload?: number;
  /**
   * Most frames one received data message may take; beyond, the connection fails with close 1009
   * (`WS_ERR_TOO_MANY_FRAGMENTS`). Default {@link DEFAULT_MAX_FRAGMENTS}.
   */
  maxFragments?: number;
  /** UTF-8 validation and coding; default: a pure-JS validator and TextDecoder/TextEncoder. */
  utf8?: Partial<Utf8Codec>;
  /**
   * Fills a buffer with random bytes, for mask keys and the handshake key. Default
   * `crypto.getRandomValues`. The core draws them in pooled blocks, not one call per frame; tests
   * inject a deterministic source.
   */
  randomFill?: (bytes: Uint8Array) => void;
  /**
   * Allocates the buffers the core fills entirely, so they need not be zeroed: each frame to send,
   * and a received message that spans several chunks. Default `new Uint8Array(size)`; Node's
   * `allocUnsafe` skips the zero fill (64 KiB: 1.6 us instead of 7.6 us, Node 20).
   */
  allocate?: (size: number) => Uint8Array;
  /**
   * Allocates the buffers frames to send are written into; default `allocate`. Frames of more
   * than 16 KiB leave as their header (in the buffer shared with small frames) followed by their
   * payload in pieces of at most 64 KiB, each a whole buffer from this function that appears in
   * {@link dataToSend} exactly once: once a piece is written, a transport may reuse its buffer.
   * The Node client does, and so masks into memory that is already mapped and cached.
   */
  allocateFrame?: (size: number) => Uint8Array;
}

/** Options of {@link ClientProtocol}: the upgrade request and the limits on the response. */
export interface ClientProtocolOptions extends ProtocolOptions {
  /** ws:, wss:, http: or https: URL. Userinfo becomes a Basic `Authorization` header. */
  url: string | URL;
  /** Extra request headers (Cookie, Authorization...). Names the handshake owns are rejected. */
  headers?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  /** Subprotocols offered, in order of preference. */
  protocols?: readonly string[];
  /** `Origin` header, if any. */
  origin?: string;
  /** Limit on the response head size. Default {@link DEFAULT_MAX_HEAD_SIZE}. */
  maxHeadSize?: number;
  /** Bytes of a non-101 response body kept for the error. Default {@link DEFAULT_MAX_ERROR_BODY}. */
  maxErrorBodySize?: number;
  /**
   * Offers permessage-deflate (RFC 7692) with these parameters and, when the server accepts,
   * compresses and inflates messages through the codec. Absent: no extension is offered.
   */
  perMessageDeflate?: PerMessageDeflateOptions;
}

/** Options of {@link ServerProtocol}. */
export interface ServerProtocolOptions extends ProtocolOptions {
  /** Limit on the request head size. Default {@link DEFAULT_MAX_HEAD_SIZE}. */
  maxHeadSize?: number;
  /**
   * Accepts a client's permessage-deflate offer in {@link ServerProtocol.accept}, within these
   * limits, and compresses and inflates through the codec. Absent: offers are ignored.
   */
  perMessageDeflate?: ServerDeflateConfig & Pick<PerMessageDeflateOptions, "codecFactory" | "threshold">;
}

/** What {@link ServerProtocol} reports: the upgrade request first, then the same events as a client. */
export type ServerEvent =
  | WsEvent
  | Readonly<{ type: "request"; request: HttpRequest; upgrade: UpgradeRequest }>;

const textEncoder = new TextEncoder();

/** The in-place twin of the default `encode` (room for 3 bytes per UTF-16 unit is guaranteed). */
const defaultEncodeInto = (text: string, dst: Uint8Array, offset: number): number =>
  textEncoder.encodeInto(text, dst.subarray(offset)).written;

const defaultCodec: Utf8Codec = { ...defaultUtf8, encodeInto: defaultEncodeInto };

/**
 * The codec resolved from each `utf8` option object, so that connections given the same one (the
 * Node client passes one module-level codec) share it: a codec object per connection was 56 B of
 * each idle connection (heap snapshot of 2000 idle clients).
 */
const resolvedCodecs = new WeakMap<Partial<Utf8Codec>, Utf8Codec>();

function resolveUtf8(partial: Partial<Utf8Codec> | undefined): Utf8Codec {
  if (partial === undefined) return defaultCodec;
  let codec = resolvedCodecs.get(partial);
  if (codec === undefined) {
    // The default encodeInto stands in only for the default encode: a custom encode keeps its say.
    const encodeInto = partial.encodeInto ?? (partial.encode === undefined ? defaultEncodeInto : undefined);
    codec = {
      isValid: partial.isValid ?? defaultUtf8.isValid,
      decode: partial.decode ?? defaultUtf8.decode,
      encode: partial.encode ?? defaultUtf8.encode,
      ...(encodeInto !== undefined ? { encodeInto } : {}),
    };
    resolvedCodecs.set(partial, codec);
  }
  return codec;
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

const defaultRandomFill = (bytes: Uint8Array): void => {
  globalThis.crypto.getRandomValues(bytes);
};

/**
 * What both roles share once the handshake is done: framing, the close handshake, and failing the
 * connection. It never does I/O: after each call, take {@link eventsReceived} and write
 * {@link dataToSend}.
 */
export abstract class Protocol<E extends WsEvent | ServerEvent = WsEvent> {
  /** The current state; every send checks it first. */
  state: State = State.Connecting;
  /** The close frame this side sent, once sent. */
  closeSent: Readonly<{ code: number; reason: string }> | undefined;
  /** The close frame the peer sent, once received. */
  closeReceived: Readonly<{ code: number; reason: string }> | undefined;
  /** The error that failed the connection, if it failed. */
  failure: WebSocketError | undefined;

  protected events: E[] = [];
  protected output: Outgoing[] = [];
  protected readonly utf8: Utf8Codec;
  protected readonly maxPayload: number;
  private readonly maxFragments: number;
  /** The `limit` of the receiveData call in progress. */
  protected receiveLimit = Number.POSITIVE_INFINITY;
  private readonly allocate: ((size: number) => Uint8Array) | undefined;
  /**
   * The frame reader, made when the first bytes after the handshake arrive (receiveFrames): a
   * connection that received nothing since the 101 holds none: 0.3 KiB less per idle connection
   * (the reader and its chunk list; heap snapshot of 2000 idle clients).
   */
  protected reader: MessageReader | undefined;
  /** startFrames ran: bytes are parsed as frames from now on. */
  private framesStarted = false;
  /** The permessage-deflate codec, once negotiated; messages of `threshold` bytes or more use it. */
  protected codec: MessageCodec | undefined;
  protected deflateThreshold = DEFAULT_DEFLATE_THRESHOLD;
  private readonly writer: FrameWriter;
  /**
   * Small frames are written straight into this block, back to back, and leave as one view per
   * {@link dataToSend} call: one copy per payload (masked) instead of a buffer per frame that the
   * caller then copies again into one write. Send 1 KiB binary went from 1.25x to 1.5-1.6x ws and
   * 16 B from 3.2x to 4.4-5.0x (packages/bench: `node --import tsx src/main.ts --adapters tideway,ws
   * --scenarios send-binary-16,send-binary-1024 --reps 5`). Bytes before `blockStart` were handed
   * out and are never written again; the block is replaced when full.
   */
  private block: Uint8Array | undefined;
  private blockStart = 0;
  private blockEnd = 0;
  private readonly allocateBlock: (size: number) => Uint8Array;
  private readonly isClient: boolean;
  /** True while a message sent with `fin: false` waits for its continuation frames. */
  private sendingFragments = false;
  /** After failing, or after the peer's close frame, incoming bytes are ignored (RFC 6455 7.1.7). */
  private discarding = false;
  private eofSent = false;

  protected constructor(options: ProtocolOptions, isClient: boolean) {
    this.isClient = isClient;
    this.utf8 = resolveUtf8(options.utf8);
    this.maxPayload = checkLimit("maxPayload", options.maxPayload, DEFAULT_MAX_PAYLOAD);
    this.maxFragments = checkLimit("maxFragments", options.maxFragments, DEFAULT_MAX_FRAGMENTS);
    this.allocate = options.allocate;
    this.allocateBlock = options.allocateFrame ?? options.allocate ?? ((size) => new Uint8Array(size));
    // "A client MUST mask all frames that it sends to the server" (RFC 6455 section 5.1).
    this.writer = new FrameWriter({
      mask: isClient,
      randomFill: options.randomFill ?? defaultRandomFill,
      allocate: this.allocateBlock,
    });
  }

  /**
   * Feeds bytes received from the transport, split anywhere. Never throws on peer errors: they end
   * with an `error` event, a queued close frame and, where due, the end of stream. Next: take
   * {@link eventsReceived}, then write {@link dataToSend}.
   *
   * `limit` bounds the work of one call, so that a consumer's backpressure applies before messages
   * are inflated or decoded: parsing stops after the data message that brings the payload bytes of
   * the messages completed in this call to `limit` or more (always at least one message), and the
   * pings, pongs and close frames right after it (so a paused reader still sees them). The rest
   * stays buffered, unparsed, and {@link receiveStopped} is true: after taking the events, call
   * `receiveData(new Uint8Array(0), limit)` to go on (an empty chunk parses only what is buffered).
   * Default: everything is parsed.
   */
  abstract receiveData(chunk: Uint8Array, limit?: number): void;

  /**
   * True when the last {@link receiveData} stopped at its `limit` with received bytes still
   * unparsed; false once they are parsed, and after the connection failed or the peer's close frame.
   */
  get receiveStopped(): boolean {
    return !this.discarding && this.reader?.stopped === true;
  }

  /**
   * Where the transport may read the next bytes, to skip a copy: while a data frame with at least
   * 16 KiB of payload still to come is arriving (not masked, not compressed), the view of the
   * message's own buffer where those bytes go, ending exactly where the frame's payload ends (a read
   * into it can never take bytes of the next frame); otherwise undefined. Optional: a transport that
   * never calls it works as before. Next: read into a prefix of the view and pass that prefix (same
   * buffer, same start) to {@link receiveData}, which then counts the bytes instead of copying them;
   * any other chunk is copied as usual. The view is valid until the next `receiveData`. Calling it
   * may allocate the frame's buffer before its payload arrived, up to a bound (EAGER_ALLOCATION in
   * reader.ts) against a peer that announces a big frame and sends nothing.
   */
  receiveBuffer(): Uint8Array | undefined {
    if (this.discarding || this.reader === undefined || this.state === State.Closed) return undefined;
    return this.reader.payloadRegion(MIN_RECEIVE_BUFFER);
  }

  /**
   * The transport reached end of stream. Next: write {@link dataToSend} (it may hold the end of
   * stream for a half-closed transport), then release the transport. An end of stream before the
   * close handshake is an abnormal closure (1006): `closeReceived` stays undefined.
   */
  receiveEof(): void {
    if (this.state === State.Closed) return;
    this.state = State.Closed;
    this.discarding = true;
    this.endStream();
  }

  /** Takes the events parsed since the last call. */
  eventsReceived(): E[] {
    const events = this.events;
    if (events.length === 0) return events;
    this.events = [];
    return events;
  }

  /** Takes the bytes to write, in order, and possibly {@link END_OF_STREAM} last. */
  dataToSend(): Outgoing[] {
    this.closeBlock();
    const output = this.output;
    if (output.length === 0) return output;
    this.output = [];
    return output;
  }

  /**
   * Tells the protocol that the transport is done with every buffer {@link dataToSend} returned so
   * far (written out or copied): new frames may then be written over them. Optional. The Node
   * client calls it when its socket took a flush synchronously, so small frames keep reusing one
   * block that stays in cache instead of allocating a new one every 16 KiB.
   */
  outputConsumed(): void {
    if (this.blockStart !== this.blockEnd) return; // frames queued since: still to be handed out
    this.blockStart = 0;
    this.blockEnd = 0;
  }

  /**
   * True when this side sent a close frame (or failed) and now expects the peer to close the
   * transport. A client waits for the server to close TCP first (RFC 6455 section 7.1.1); if it
   * does not within your close timeout, end the transport yourself.
   */
  closeExpected(): boolean {
    return this.state === State.Closing;
  }

  /** Queues a text frame. `data` may be a string or UTF-8 bytes. Throws InvalidStateError unless OPEN. */
  sendText(data: string | Uint8Array, fin = true): void {
    this.checkCanSendData(false);
    if (typeof data === "string" && this.codec === undefined && this.encodeTextInto(data, fin)) return;
    const bytes = typeof data === "string" ? this.utf8.encode(data) : data;
    this.sendData(Opcode.Text, bytes, fin);
  }

  /**
   * Queues a binary frame. The payload is copied (and masked) into the output: `data` may be reused.
   * With permessage-deflate negotiated, a whole message (`fin`) of `threshold` bytes or more is
   * compressed, synchronously; fragmented sends are never compressed.
   */
  sendBinary(data: Uint8Array, fin = true): void {
    this.checkCanSendData(false);
    this.sendData(Opcode.Binary, data, fin);
  }

  private sendData(opcode: number, bytes: Uint8Array, fin: boolean): void {
    // RSV1 is per message (RFC 7692 section 6): a message below the threshold goes out plain.
    if (this.codec !== undefined && fin && bytes.length >= this.deflateThreshold) {
      this.queueFrame(opcode, this.codec.compress(bytes), true, true);
    } else {
      this.queueFrame(opcode, bytes, fin);
    }
    this.sendingFragments = !fin;
  }

  /** Queues the next fragment of a message started with `fin = false`. */
  sendContinuation(data: Uint8Array, fin: boolean): void {
    this.checkCanSendData(true);
    this.queueFrame(Opcode.Continuation, data, fin);
    this.sendingFragments = !fin;
  }

  /** Queues a ping. Throws RangeError over 125 bytes, InvalidStateError unless OPEN. */
  sendPing(data: Uint8Array = EMPTY): void {
    this.checkOpen("ping");
    this.queueFrame(Opcode.Ping, checkControlPayload(data), true);
  }

  /** Queues a pong. Throws RangeError over 125 bytes, InvalidStateError unless OPEN. */
  sendPong(data: Uint8Array = EMPTY): void {
    this.checkOpen("pong");
    this.queueFrame(Opcode.Pong, checkControlPayload(data), true);
  }

  /**
   * Starts the closing handshake. With no code the frame has no body (the peer sees 1005); a reason
   * without a code uses 1000. Throws RangeError for a code that may not appear on the wire or a
   * reason over 123 bytes, InvalidStateError unless OPEN. Next: wait for the peer's close frame and
   * then for the end of stream ({@link closeExpected}).
   */
  sendClose(code?: number, reason = ""): void {
    this.checkOpen("close");
    const effectiveCode = code ?? (reason === "" ? undefined : CloseCode.Normal);
    const body = encodeCloseBody(effectiveCode, reason, this.utf8.encode);
    this.queueClose(effectiveCode ?? CloseCode.NoStatusReceived, reason, body);
  }

  /**
   * Fails the connection (RFC 6455 section 7.1.7): queues a close frame with `code` when OPEN, and
   * ignores anything the peer sends from now on. A server also ends the stream at once; a client
   * waits for the server to close TCP ({@link closeExpected}).
   */
  fail(code: number, reason = ""): void {
    if (this.state === State.Open && code !== CloseCode.Abnormal) {
      const body = encodeCloseBody(code, truncateUtf8(reason, this.utf8.encode), this.utf8.encode);
      this.queueClose(code, reason, body);
    }
    if (!this.isClient) this.endStream();
    if (this.state === State.Connecting) {
      this.state = State.Closed;
      this.endStream();
    }
    this.discarding = true;
  }

  /** Feeds WebSocket frames: the OPEN / CLOSING part of {@link receiveData}. */
  protected receiveFrames(chunk: Uint8Array): void {
    if (this.discarding || !this.framesStarted) return;
    const reader = (this.reader ??= this.newReader());
    const events = this.events as WsEvent[];
    const first = events.length;
    const controlFrames = reader.controlFrames;
    try {
      reader.read(chunk, events, this.receiveLimit);
    } catch (error) {
      this.reactToEvents(events, first);
      if (!this.discarding) this.failWith(error);
      return;
    }
    // Only pings and closes need an answer: skip the scan of a chunk of data messages (a chunk holds
    // ~4000 16 B messages in bench recv-binary-16).
    if (reader.controlFrames !== controlFrames) this.reactToEvents(events, first);
  }

  /** Answers pings and close frames among the events just parsed; drops what follows a close frame. */
  private reactToEvents(events: WsEvent[], first: number): void {
    for (let i = first; i < events.length; i++) {
      const event = events[i]!;
      if (event.type === "ping") {
        // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response" (5.5.2).
        if (this.state === State.Open) this.queueFrame(Opcode.Pong, event.data, true);
      } else if (event.type === "close") {
        this.onCloseFrame(event.code, event.reason);
        // The peer sends nothing after its close frame; whatever follows is discarded (5.5.1).
        events.length = i + 1;
        this.discarding = true;
        return;
      }
    }
  }

  private onCloseFrame(code: number, reason: string): void {
    this.closeReceived = { code, reason };
    if (this.state === State.Open) {
      // "the endpoint MUST send a Close frame in response ... typically echoing the status code it
      // received" (5.5.1). A body-less close (1005) is echoed body-less.
      const echo = code === CloseCode.NoStatusReceived ? undefined : code;
      this.queueClose(code, "", encodeCloseBody(echo, "", this.utf8.encode));
    }
    // "the server MUST close the underlying TCP connection immediately" after the handshake (7.1.1);
    // a client waits for it.
    if (!this.isClient) this.endStream();
  }

  private failWith(error: unknown): void {
    const failure =
      error instanceof ProtocolError
        ? error
        : new ProtocolError(ErrorCodes.InternalError, "internal error while parsing", { cause: error });
    this.failure = failure;
    (this.events as WsEvent[]).push({ type: "error", error: failure });
    // Unexpected errors close with 1011 and no details (the message may leak internals).
    this.fail(failure.closeCode, error instanceof ProtocolError ? failure.message : "");
  }

  private queueClose(code: number, reason: string, body: Uint8Array): void {
    // Its own buffer, after the frames queued before it: a connection that only connects and closes
    // (bench handshakes, idle) then never allocates a 16 KiB block.
    this.closeBlock();
    this.output.push(this.writer.frame(Opcode.Close, body, true));
    this.closeSent = { code, reason };
    this.state = State.Closing;
  }

  protected endStream(): void {
    if (this.eofSent) return;
    this.eofSent = true;
    this.closeBlock();
    this.output.push(END_OF_STREAM);
  }

  /**
   * Queues a frame: small ones into the shared block (see `block`); a big one as its header in the
   * block and its payload in pieces of at most PIECE_SIZE bytes, each in a buffer of its own (see
   * `allocateFrame`): a transport that recycles them masks into memory already mapped and in
   * cache, where a fresh 1 MiB buffer costs page faults on every frame.
   */
  private queueFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv1 = false): void {
    const length = payload.length;
    const size = this.writer.frameSize(length);
    if (size <= BLOCK_SIZE) {
      const block = this.room(size);
      this.blockEnd = this.writer.frameInto(block, this.blockEnd, opcode, payload, fin, rsv1);
      return;
    }
    const block = this.room(size - length);
    const headerEnd = this.writer.headerInto(block, this.blockEnd, opcode, length, fin, rsv1);
    this.blockEnd = headerEnd;
    this.closeBlock();
    for (let at = 0; at < length; at += PIECE_SIZE) {
      const part = payload.subarray(at, Math.min(at + PIECE_SIZE, length));
      const piece = this.allocateBlock(part.length);
      this.writer.payloadInto(part, piece, 0, block, headerEnd, at);
      this.output.push(piece);
    }
  }

  /**
   * Encodes a text frame straight into the block, when the codec can and the string's worst case
   * (3 bytes per UTF-16 unit) fits: 1 KiB of text costs ~100 ns to encode in place against ~350 ns
   * to encode into a new buffer and copy it (Node 20, 1e6 sends of a 1024-char string).
   * The payload goes after the worst case's header; a shorter length form moves it back (a few bytes
   * of short text only). Returns false when the caller must encode and copy instead.
   */
  private encodeTextInto(text: string, fin: boolean): boolean {
    const encodeInto = this.utf8.encodeInto;
    const upper = text.length * 3;
    const maxSize = this.writer.frameSize(upper);
    if (encodeInto === undefined || maxSize > BLOCK_SIZE) return false;
    const block = this.room(maxSize);
    const start = this.blockEnd;
    const maxHeader = maxSize - upper;
    const length = encodeInto(text, block, start + maxHeader);
    const header = this.writer.frameSize(length) - length;
    if (header < maxHeader) {
      block.copyWithin(start + header, start + maxHeader, start + maxHeader + length);
    }
    this.blockEnd = this.writer.finishInto(block, start, Opcode.Text, length, fin);
    this.sendingFragments = !fin;
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
    const fresh = this.allocateBlock(Math.max(size, next));
    this.block = fresh;
    this.blockStart = 0;
    this.blockEnd = 0;
    return fresh;
  }

  /** Moves the frames written into the block since the last call to the output, as one view. */
  private closeBlock(): void {
    const start = this.blockStart;
    if (this.blockEnd === start) return;
    this.blockStart = this.blockEnd;
    this.output.push(this.block!.subarray(start, this.blockEnd));
  }

  protected checkOpen(what: string): void {
    if (this.state !== State.Open) {
      throw new InvalidStateError(`cannot send ${what}: the connection is ${stateName(this.state)}`);
    }
  }

  private checkCanSendData(continuation: boolean): void {
    this.checkOpen("data");
    if (continuation && !this.sendingFragments) {
      throw new InvalidStateError("no fragmented message to continue: start one with fin = false");
    }
    if (!continuation && this.sendingFragments) {
      throw new InvalidStateError("a fragmented message is in progress: finish it with sendContinuation");
    }
  }

  protected startFrames(rest: Uint8Array): void {
    this.state = State.Open;
    this.framesStarted = true;
    if (rest.length > 0) this.receiveFrames(rest);
  }

  private newReader(): MessageReader {
    return new MessageReader({
      // "The server MUST close the connection upon receiving a frame that is not masked" and the
      // client fails on masked frames (RFC 6455 section 5.1).
      expectMasked: !this.isClient,
      maxPayload: this.maxPayload,
      maxFragments: this.maxFragments,
      utf8: this.utf8,
      ...(this.allocate !== undefined ? { allocate: this.allocate } : {}),
      ...(this.codec !== undefined ? { codec: this.codec } : {}),
    });
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The least payload still to come for which {@link Protocol.receiveBuffer} offers a buffer: a read
 * into a smaller one would save little copying and cost an extra, short read at the frame's end.
 */
const MIN_RECEIVE_BUFFER = 16 * 1024;

/**
 * Largest block small frames share, and the largest frame written into one. A connection that sent
 * holds one block (see room()); a bigger frame leaves in pieces of its own (see queueFrame).
 */
const BLOCK_SIZE = 16 * 1024;

/** Size of a connection's first block (see room()). */
const FIRST_BLOCK = 1024;

/**
 * Largest piece of a big frame's payload in one buffer: a multiple of 4 (each piece starts at key
 * phase 0), few enough writes per MiB, and small enough to stay in a core's L2 cache when reused.
 */
const PIECE_SIZE = 64 * 1024;

function checkControlPayload(data: Uint8Array): Uint8Array {
  if (data.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(
      `control frame payloads are at most ${MAX_CONTROL_PAYLOAD} bytes, got ${data.length}`,
    );
  }
  return data;
}

/** Cuts a reason to the 123 bytes a close frame can carry, at a code point boundary. */
function truncateUtf8(reason: string, encode: (s: string) => Uint8Array): string {
  let text = reason;
  while (encode(text).length > 123) text = text.slice(0, Math.max(0, text.length - 8));
  return text;
}

function stateName(state: State): string {
  return ["CONNECTING", "OPEN", "CLOSING", "CLOSED"][state] ?? String(state);
}

/**
 * The client side of RFC 6455 as a sans-I/O state machine. It never touches a socket or a timer:
 * right after construction {@link dataToSend} holds the upgrade request; feed what the server sends
 * to {@link receiveData}, then take {@link eventsReceived} and write {@link dataToSend}. The first
 * event is `open` (or an `error` carrying a {@link HandshakeError}).
 */
export class ClientProtocol extends Protocol<WsEvent> {
  /** The `Sec-WebSocket-Key` sent. */
  readonly key: string;
  /** The permessage-deflate parameters agreed with the server, once open; undefined if none. */
  deflateParams: DeflateParams | undefined;
  private handshake: ClientHandshake | undefined;
  private readonly deflate: PerMessageDeflateOptions | undefined;

  constructor(options: ClientProtocolOptions) {
    super(options, true);
    const deflate = options.perMessageDeflate;
    this.deflate = deflate;
    if (deflate !== undefined) {
      this.deflateThreshold = checkLimit("threshold", deflate.threshold, DEFAULT_DEFLATE_THRESHOLD);
    }
    this.handshake = new ClientHandshake({
      url: options.url,
      headers: options.headers,
      protocols: options.protocols,
      origin: options.origin,
      ...(deflate !== undefined
        ? { extensions: formatDeflateOffer(deflate), extensionsOffered: [PERMESSAGE_DEFLATE] }
        : {}),
      randomFill: options.randomFill ?? defaultRandomFill,
      maxHeadSize: checkLimit("maxHeadSize", options.maxHeadSize, DEFAULT_MAX_HEAD_SIZE),
      maxErrorBodySize: checkLimit("maxErrorBodySize", options.maxErrorBodySize, DEFAULT_MAX_ERROR_BODY),
    });
    this.key = this.handshake.key;
    this.output.push(this.handshake.request);
  }

  receiveData(chunk: Uint8Array, limit = Number.POSITIVE_INFINITY): void {
    this.receiveLimit = limit;
    if (this.handshake === undefined) {
      this.receiveFrames(chunk);
      return;
    }
    if (this.state !== State.Connecting) return;
    const outcome = this.handshake.receiveData(chunk);
    if (outcome !== undefined) this.settleHandshake(outcome);
  }

  override receiveEof(): void {
    if (this.handshake !== undefined && this.state === State.Connecting) {
      this.settleHandshake(this.handshake.receiveEof());
    }
    super.receiveEof();
  }

  private settleHandshake(outcome: HandshakeOutcome): void {
    this.handshake = undefined;
    if (outcome.type === "accepted" && this.deflate !== undefined) {
      try {
        this.startDeflate(outcome.response.extensions, this.deflate);
      } catch (error) {
        const failure =
          error instanceof HandshakeError
            ? new HandshakeError(error.code, error.message, outcome.response)
            : new HandshakeError(
                ErrorCodes.InvalidExtension,
                "permessage-deflate setup failed",
                outcome.response,
                {
                  cause: error,
                },
              );
        this.settleHandshake({ type: "failed", error: failure });
        return;
      }
    }
    if (outcome.type === "failed") {
      this.failure = outcome.error;
      this.events.push({ type: "error", error: outcome.error });
      this.state = State.Closed;
      this.endStream();
      return;
    }
    this.events.push({ type: "open", response: outcome.response });
    this.startFrames(outcome.rest);
  }

  /** Validates the server's permessage-deflate answer and makes the codec (RFC 7692 section 7.1). */
  private startDeflate(extensions: string, deflate: PerMessageDeflateOptions): void {
    const params = parseDeflateResponse(extensions, deflate);
    if (params === undefined) return;
    this.deflateParams = params;
    this.codec = deflate.codecFactory(params, false);
  }
}

/**
 * The server side of the same protocol, for tests, conformance servers and library authors. The
 * first event is `request`; answer it with {@link accept} or {@link reject}. Client frames must be
 * masked; they are unmasked in place (the input chunks are modified).
 */
export class ServerProtocol extends Protocol<ServerEvent> {
  private handshake: ServerHandshake | undefined;
  /** Frames that arrived with the request, before accept() was called. */
  private pending: Uint8Array[] = [];
  private request: UpgradeRequest | undefined;
  private readonly deflate: ServerProtocolOptions["perMessageDeflate"];
  /** The permessage-deflate parameters agreed in {@link accept}; undefined if none. */
  deflateParams: DeflateParams | undefined;

  constructor(options: ServerProtocolOptions = {}) {
    super(options, false);
    this.deflate = options.perMessageDeflate;
    if (this.deflate !== undefined) {
      this.deflateThreshold = checkLimit("threshold", this.deflate.threshold, DEFAULT_DEFLATE_THRESHOLD);
    }
    this.handshake = new ServerHandshake({
      maxHeadSize: checkLimit("maxHeadSize", options.maxHeadSize, DEFAULT_MAX_HEAD_SIZE),
    });
  }

  receiveData(chunk: Uint8Array, limit = Number.POSITIVE_INFINITY): void {
    this.receiveLimit = limit;
    if (this.state !== State.Connecting) {
      this.receiveFrames(chunk);
      return;
    }
    if (this.handshake === undefined) {
      // Waiting for accept() or reject(): keep the bytes (a client may pipeline its first frames).
      this.pending.push(chunk);
      return;
    }
    const outcome = this.handshake.receiveData(chunk);
    if (outcome === undefined) return;
    this.handshake = undefined;
    if (outcome.type === "failed") {
      this.failure = outcome.error;
      this.events.push({ type: "error", error: outcome.error });
      const error = outcome.error;
      // A wrong version gets 426 with the version we speak (RFC 6455 section 4.4); the rest 400.
      const [status, headers] =
        error instanceof UpgradeRequestError ? [error.status, { ...error.responseHeaders }] : [400, {}];
      this.output.push(buildRejectResponse(status, { headers, body: error.message }));
      this.state = State.Closed;
      this.endStream();
      return;
    }
    this.request = outcome.upgrade;
    if (outcome.rest.length > 0) this.pending.push(outcome.rest);
    this.events.push({ type: "request", request: outcome.request, upgrade: outcome.upgrade });
  }

  /**
   * Accepts the upgrade request: queues the 101 response and opens the connection. With
   * `perMessageDeflate` configured, the client's first acceptable permessage-deflate offer is
   * accepted and its answer appended to `extensions`.
   */
  accept(options: { protocol?: string; extensions?: string; headers?: Record<string, string> } = {}): void {
    const request = this.request;
    if (this.state !== State.Connecting || request === undefined) {
      throw new InvalidStateError("accept() needs a received upgrade request and a CONNECTING state");
    }
    let extensions = options.extensions;
    if (this.deflate !== undefined) {
      const accepted = acceptDeflateOffer(request.extensions, this.deflate);
      if (accepted !== undefined) {
        this.deflateParams = accepted.params;
        this.codec = this.deflate.codecFactory(accepted.params, true);
        extensions = extensions ? `${extensions}, ${accepted.answer}` : accepted.answer;
      }
    }
    this.output.push(
      buildAcceptResponse({ key: request.key, ...options, ...(extensions ? { extensions } : {}) }),
    );
    const pending = this.pending;
    this.pending = [];
    this.receiveLimit = Number.POSITIVE_INFINITY;
    this.startFrames(EMPTY);
    for (const chunk of pending) this.receiveFrames(chunk);
  }

  /** Refuses the upgrade request with an HTTP status, then ends the stream. */
  reject(
    status: number,
    options: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
  ): void {
    if (this.state !== State.Connecting || this.request === undefined) {
      throw new InvalidStateError("reject() needs a received upgrade request and a CONNECTING state");
    }
    this.output.push(buildRejectResponse(status, options));
    this.state = State.Closed;
    this.endStream();
  }
}
