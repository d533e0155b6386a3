import { closeReasonToSend, encodeCloseBody } from "./close.js";
import {
  CloseCode,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  MAX_CONTROL_PAYLOAD,
  Opcode,
} from "./constants.js";
import { DEFAULT_DEFLATE_THRESHOLD, type MessageCodec } from "./deflate.js";
import { ErrorCodes, InvalidStateError, ProtocolError, type WebSocketError } from "./errors.js";
import type { Outgoing, WsEvent } from "./events.js";
import { OutputBuffer } from "./output.js";
import { MessageReader } from "./reader.js";
import { resolveUtf8Codec, type Utf8Codec } from "./utf8.js";
import { FrameWriter } from "./writer.js";

/**
 * Connection states (RFC 6455 sections 4 and 7). CLOSING means a close frame was sent or received
 * and the transport has not ended yet; {@link Protocol.closeSent} / {@link Protocol.closeReceived}
 * say who started the close.
 */
export const State = { Connecting: 0, Open: 1, Closing: 2, Closed: 3 } as const;
export type State = (typeof State)[keyof typeof State];

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
   * `allocUnsafe` skips the zero fill.
   */
  allocate?: (size: number) => Uint8Array;
  /**
   * Allocates the buffers frames to send are written into; default `allocate`. Frames of more
   * than 16 KiB leave as their header (in the buffer shared with small frames) followed by their
   * payload in pieces of at most 64 KiB, each a whole buffer from this function that appears in
   * {@link Protocol.dataToSend} exactly once: once a piece is written, a transport may reuse its buffer.
   * The Node client does, and so masks into memory that is already mapped and cached.
   */
  allocateFrame?: (size: number) => Uint8Array;
  /**
   * Receive data messages as streams: `message-start`, `message-chunk` and `message-end` events
   * (see {@link WsEvent}) as their bytes arrive, instead of `text` / `binary` events of whole
   * messages, so memory does not grow with the message. `maxPayload` then bounds each frame, and
   * {@link ProtocolOptions.maxStreamedPayload} each message. Compressed messages are passed on
   * compressed: the caller inflates them, and a `receiveData` call stops right after one ends
   * (before any ping after it: {@link Protocol.receiveStopped}), so the caller can inflate it and
   * fail the connection before the frames that follow are answered. Default false.
   */
  streamMessages?: boolean;
  /**
   * With `streamMessages`: the largest message accepted, in payload bytes (close 1009 beyond);
   * `Infinity` for no limit. Default unlimited: a streamed message costs no memory per byte.
   */
  maxStreamedPayload?: number;
  /**
   * `false`: a text message is reported as a `utf8` event carrying its UTF-8 bytes, validated but
   * not decoded (a relay that forwards text as it came). Default `true`: a `text` event with a string.
   */
  decodeText?: boolean;
}

/** An option that must be a non-negative integer, or its default when absent. */
export function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * The state machine both roles share once the handshake is done (ClientProtocol and ServerProtocol
 * in protocol-client.ts and protocol-server.ts): framing, the close handshake, and failing the
 * connection. It never does I/O: after each call, take {@link eventsReceived} and write
 * {@link dataToSend}.
 */
export abstract class Protocol<E extends WsEvent | Readonly<{ type: "request" }> = WsEvent> {
  /** The current state; every send checks it first. */
  state: State = State.Connecting;
  /** The close frame this side sent, once sent. */
  closeSent: Readonly<{ code: number; reason: string }> | undefined;
  /** The close frame the peer sent, once received. */
  closeReceived: Readonly<{ code: number; reason: string }> | undefined;
  /** The error that failed the connection, if it failed. */
  failure: WebSocketError | undefined;

  protected events: E[] = [];
  /** What to send, in order: see {@link dataToSend}. */
  protected readonly output: OutputBuffer;
  protected readonly utf8: Utf8Codec;
  protected readonly maxPayload: number;
  private readonly maxFragments: number;
  private readonly streamMessages: boolean;
  private readonly maxStreamedPayload: number;
  /** The `limit` of the receiveData call in progress. */
  protected receiveLimit = Number.POSITIVE_INFINITY;
  private readonly allocate: ((size: number) => Uint8Array) | undefined;
  private readonly decodeText: boolean;
  /**
   * The frame reader, made when the first bytes after the handshake arrive (receiveFrames), so that
   * a connection that received nothing since the 101 holds none (idle connections stay small).
   */
  protected reader: MessageReader | undefined;
  /** startFrames ran: bytes are parsed as frames from now on. */
  private framesStarted = false;
  /** The permessage-deflate codec, once negotiated; messages of `threshold` bytes or more use it. */
  protected codec: MessageCodec | undefined;
  protected deflateThreshold = DEFAULT_DEFLATE_THRESHOLD;
  private readonly isClient: boolean;
  /** True while a message sent with `fin: false` waits for its continuation frames. */
  private sendingFragments = false;
  /** After failing, or after the peer's close frame, incoming bytes are ignored (RFC 6455 7.1.7). */
  private discarding = false;

  protected constructor(options: ProtocolOptions, isClient: boolean) {
    this.isClient = isClient;
    this.utf8 = resolveUtf8Codec(options.utf8);
    this.maxPayload = checkLimit("maxPayload", options.maxPayload, DEFAULT_MAX_PAYLOAD);
    this.maxFragments = checkLimit("maxFragments", options.maxFragments, DEFAULT_MAX_FRAGMENTS);
    this.streamMessages = options.streamMessages === true;
    this.maxStreamedPayload =
      options.maxStreamedPayload === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : checkLimit("maxStreamedPayload", options.maxStreamedPayload, Number.POSITIVE_INFINITY);
    this.allocate = options.allocate;
    this.decodeText = options.decodeText ?? true;
    const allocateFrame = options.allocateFrame ?? options.allocate ?? ((size) => new Uint8Array(size));
    // "A client MUST mask all frames that it sends to the server" (RFC 6455 section 5.1).
    const writer = new FrameWriter({
      mask: isClient,
      ...(options.randomFill !== undefined ? { randomFill: options.randomFill } : {}),
      allocate: allocateFrame,
    });
    this.output = new OutputBuffer(writer, allocateFrame);
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
    this.output.end();
    this.codec?.close?.();
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
    return this.output.take();
  }

  /**
   * Tells the protocol that the transport is done with every buffer {@link dataToSend} returned so
   * far (written out or copied): new frames may then be written over them. Optional. The Node
   * client calls it when its socket took a flush synchronously, so small frames keep reusing one
   * block that stays in cache instead of allocating a new one every 16 KiB.
   */
  outputConsumed(): void {
    this.output.consumed();
  }

  /**
   * True when this side sent a close frame (or failed) and now expects the peer to close the
   * transport. A client waits for the server to close TCP first (RFC 6455 section 7.1.1); if it
   * does not within your close timeout, end the transport yourself.
   */
  closeExpected(): boolean {
    return this.state === State.Closing;
  }

  /**
   * Queues a text frame. `data` may be a string or UTF-8 bytes. `compress: false` sends this message
   * uncompressed even with permessage-deflate negotiated. Throws InvalidStateError unless OPEN.
   */
  sendText(data: string | Uint8Array, fin = true, compress = true): void {
    this.checkCanSendData(false);
    const encodeInto = this.utf8.encodeInto;
    if (
      typeof data === "string" &&
      (this.codec === undefined || !compress) &&
      encodeInto !== undefined &&
      this.output.text(data, fin, encodeInto)
    ) {
      this.sendingFragments = !fin;
      return;
    }
    const bytes = typeof data === "string" ? this.utf8.encode(data) : data;
    this.sendData(Opcode.Text, bytes, fin, compress);
  }

  /**
   * Queues a binary frame. The payload is copied (and masked) into the output: `data` may be reused.
   * With permessage-deflate negotiated, a whole message (`fin`) of `threshold` bytes or more is
   * compressed, synchronously, unless `compress` is false; fragmented sends are never compressed.
   */
  sendBinary(data: Uint8Array, fin = true, compress = true): void {
    this.checkCanSendData(false);
    this.sendData(Opcode.Binary, data, fin, compress);
  }

  private sendData(opcode: number, bytes: Uint8Array, fin: boolean, compress: boolean): void {
    // RSV1 is per message (RFC 7692 section 6): a message below the threshold, or sent with
    // `compress: false`, goes out plain.
    if (this.codec !== undefined && compress && fin && bytes.length >= this.deflateThreshold) {
      this.output.frame(opcode, this.codec.compress(bytes), true, true);
    } else {
      this.output.frame(opcode, bytes, fin);
    }
    this.sendingFragments = !fin;
  }

  /** Queues the next fragment of a message started with `fin = false`. */
  sendContinuation(data: Uint8Array, fin: boolean): void {
    this.checkCanSendData(true);
    this.output.frame(Opcode.Continuation, data, fin);
    this.sendingFragments = !fin;
  }

  /** Queues a ping. Throws RangeError over 125 bytes, InvalidStateError unless OPEN. */
  sendPing(data: Uint8Array = EMPTY): void {
    this.checkOpen("ping");
    this.output.frame(Opcode.Ping, checkControlPayload(data), true);
  }

  /** Queues a pong. Throws RangeError over 125 bytes, InvalidStateError unless OPEN. */
  sendPong(data: Uint8Array = EMPTY): void {
    this.checkOpen("pong");
    this.output.frame(Opcode.Pong, checkControlPayload(data), true);
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
    // The body holds the whole reason (or encodeCloseBody threw): only lone surrogates may differ.
    this.queueClose(effectiveCode ?? CloseCode.NoStatusReceived, closeReasonToSend(reason), body);
  }

  /**
   * Fails the connection (RFC 6455 section 7.1.7): queues a close frame with `code` when OPEN, and
   * ignores anything the peer sends from now on. A reason over 123 bytes is cut between code points;
   * {@link closeSent} holds the reason as sent (see closeReasonToSend). A server also ends the stream at once; a client
   * waits for the server to close TCP ({@link closeExpected}).
   */
  fail(code: number, reason = ""): void {
    if (this.state === State.Open && code !== CloseCode.Abnormal) {
      const sent = closeReasonToSend(reason);
      this.queueClose(code, sent, encodeCloseBody(code, sent, this.utf8.encode));
    }
    if (!this.isClient) this.output.end();
    if (this.state === State.Connecting) {
      this.state = State.Closed;
      this.output.end();
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
    // Only pings and closes need an answer: skip the scan of a chunk of data messages (a 64 KiB
    // chunk can hold thousands of small ones).
    if (reader.controlFrames !== controlFrames) this.reactToEvents(events, first);
  }

  /** Answers pings and close frames among the events just parsed; drops what follows a close frame. */
  private reactToEvents(events: WsEvent[], first: number): void {
    for (let i = first; i < events.length; i++) {
      const event = events[i]!;
      if (event.type === "ping") {
        // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response" (5.5.2).
        if (this.state === State.Open) this.output.frame(Opcode.Pong, event.data, true);
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
    if (!this.isClient) this.output.end();
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
    this.output.frameAlone(Opcode.Close, body);
    this.closeSent = { code, reason };
    this.state = State.Closing;
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
      ...(this.streamMessages ? { streamMessages: true, maxStreamedPayload: this.maxStreamedPayload } : {}),
      ...(this.decodeText ? {} : { decodeText: false }),
    });
  }
}

export const EMPTY = /* @__PURE__ */ new Uint8Array(0);

/**
 * The least payload still to come for which {@link Protocol.receiveBuffer} offers a buffer: a read
 * into a smaller one would save little copying and cost an extra, short read at the frame's end.
 */
const MIN_RECEIVE_BUFFER = 16_384; // 16 KiB

function checkControlPayload(data: Uint8Array): Uint8Array {
  if (data.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(
      `control frame payloads are at most ${MAX_CONTROL_PAYLOAD} bytes, got ${data.length}`,
    );
  }
  return data;
}

function stateName(state: State): string {
  return ["CONNECTING", "OPEN", "CLOSING", "CLOSED"][state] ?? String(state);
}
