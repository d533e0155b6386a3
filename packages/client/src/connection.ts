/**
 * One WebSocket connection: a socket from transport.ts glued to the sans-I/O ClientProtocol of the
 * core, plus its heartbeat and timers. The glue is the loop of websockets' `data_received`: bytes ->
 * `receiveData` -> write `dataToSend` -> dispatch `eventsReceived`. It never reconnects; the client
 * (client.ts) owns the policy and makes a new Connection for every attempt.
 */

import { Buffer, isUtf8 } from "node:buffer";
import { randomFillSync } from "node:crypto";
import { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import {
  ClientProtocol,
  CloseCode,
  END_OF_STREAM,
  HandshakeError,
  type ProtocolError,
  State,
  type UpgradeResponse,
  type Utf8Codec,
  WebSocketError,
  type WsEvent,
} from "@tideway/core";
import type { ConnectionHandlers, StreamingConnection } from "./client-connection.js";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";
import {
  type ConnectionInfo,
  connectionInfo,
  nextAttempt,
  type SocketAddresses,
  socketAddresses,
} from "./connection-info.js";
import { deflateProtocolOptions } from "./deflate.js";
import { type ReadTarget, socketClosed } from "./direct-reads.js";
import {
  AbortedError,
  type CloseInfo,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
} from "./errors.js";
import { Heartbeat, type HeartbeatWheelMember, wheelOf } from "./heartbeat.js";
import * as observe from "./observe.js";
import type { BinaryType, ResolvedOptions } from "./options.js";
import {
  allocateFrame,
  type Batch,
  FLUSH_BYTES,
  isPooled,
  newBatch,
  POOLED_MIN,
  release,
  toWrites,
} from "./send-path.js";
import { textBytes } from "./text-bytes.js";
import { openTransport, type Transport } from "./transport.js";
import { decodeValidUtf8 } from "./utf8-decode.js";

const textEncoder = new TextEncoder();

/**
 * Node's UTF-8: `buffer.isUtf8` is a SIMD validator; `decodeValidUtf8` picks the faster decoder for
 * the text (utf8-decode.ts). `encode` turns lone surrogates into U+FFFD, as the core
 * requires; so does `encodeInto`, which the core uses to encode text straight into its output.
 */
export const nodeUtf8: Utf8Codec = {
  isValid: (bytes) => isUtf8(bytes),
  decode: decodeValidUtf8,
  encode: (text) => Buffer.from(text, "utf8"),
  encodeInto: (text, dst, offset) => textEncoder.encodeInto(text, dst.subarray(offset)).written,
};

/** Random bytes kept for small requests (handshake keys); each byte is handed out once. */
let randomPool = new Uint8Array(0);
let randomOffset = 0;

/**
 * Mask keys and the handshake key from node:crypto. The core draws mask keys in 8 KiB blocks; the
 * 16-byte handshake key comes from a shared 4 KiB block here: one randomFillSync call per connection
 * showed in the cost of a handshake.
 */
const randomFill = (bytes: Uint8Array): void => {
  const n = bytes.length;
  if (n > 256) {
    randomFillSync(bytes);
    return;
  }
  if (randomOffset + n > randomPool.length) {
    randomPool = randomFillSync(new Uint8Array(4096));
    randomOffset = 0;
  }
  bytes.set(randomPool.subarray(randomOffset, randomOffset + n));
  randomOffset += n;
};

/**
 * A plain Uint8Array for the core to fill entirely, so without the zero fill. Up to 64 bytes V8
 * keeps a typed array on its own heap, cheaper than Buffer's pool; above, zero-filled memory costs
 * more than Buffer's unzeroed one.
 */
const allocateUnzeroed = (size: number): Uint8Array => {
  if (size <= 64) return new Uint8Array(size);
  const buffer = Buffer.allocUnsafe(size);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
};

/** Output buffers: payload pieces of big frames from the reused pool (send-path.ts). */
const allocateOutput = (size: number): Uint8Array => allocateFrame(size, allocateUnzeroed);

export type ConnectionOptions = Pick<
  ResolvedOptions,
  | "url"
  | "headers"
  | "protocols"
  | "origin"
  | "maxPayload"
  | "maxHeadSize"
  | "tls"
  | "handshakeTimeout"
  | "closeTimeout"
  | "heartbeat"
  | "binaryType"
  | "textAs"
  // Networks (transport.ts): how the stream is opened.
  | "proxy"
  | "socketPath"
  | "createConnection"
  | "socket"
  // Compression (deflate.ts).
  | "perMessageDeflate"
  // Diagnostics (observe.ts).
  | "logger"
  // Streamed receive (message-stream.ts).
  | "receive"
  | "maxStreamedPayload"
> & { clock?: Clock };

/** The ClientProtocol options for these client options; also used to validate them up front. */
export function protocolOptions(o: ConnectionOptions): ConstructorParameters<typeof ClientProtocol>[0] {
  return {
    url: o.url,
    ...(o.headers !== undefined ? { headers: o.headers } : {}),
    protocols: o.protocols,
    ...(o.origin !== undefined ? { origin: o.origin } : {}),
    ...(o.maxHeadSize !== undefined ? { maxHeadSize: o.maxHeadSize } : {}),
    maxPayload: o.maxPayload,
    utf8: nodeUtf8,
    randomFill,
    allocate: o.binaryType === "buffer" ? Buffer.allocUnsafe : allocateUnzeroed,
    allocateFrame: allocateOutput,
    ...(o.textAs === "bytes" ? { decodeText: false } : {}),
    ...(o.perMessageDeflate !== false
      ? { perMessageDeflate: deflateProtocolOptions(o.perMessageDeflate) }
      : {}),
    ...(o.receive === "stream" ? { streamMessages: true, maxStreamedPayload: o.maxStreamedPayload } : {}),
  };
}

/**
 * The message as the user asked for it. The reader returns views into the chunks #receive passed:
 * Buffers for "buffer", plain Uint8Arrays otherwise, so both common cases return `data` as it is.
 */
function toBinary(data: Uint8Array, type: BinaryType): Uint8Array | ArrayBuffer | Buffer {
  switch (type) {
    case "buffer":
      return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    case "arraybuffer":
      return data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength &&
        data.buffer instanceof ArrayBuffer
        ? data.buffer
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    default:
      // A plain Uint8Array view (not a Buffer subclass), without copying.
      return data.constructor === Uint8Array
        ? data
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
}

/**
 * Payload bytes of the messages one receiveData call may parse before the connection dispatches
 * them and looks at backpressure: once the consumer's queue is past its high-water mark, the rest of
 * the read waits unparsed (not inflated, not decoded) until resume(). So a paused consumer holds at
 * most highWaterMark + the larger of one message and this step, plus one read. A 64 KiB read of
 * small messages is still one call.
 */
const RECEIVE_STEP = 64 * 1024;

/** The empty chunk that tells the protocol to go on with what it left unparsed. */
const NO_BYTES = new Uint8Array(0);

/** The property of a socket that names the connection it serves (see Connection's socket listeners). */
const kConnection = Symbol("tideway connection");
type Owned = Transport & { [kConnection]?: Connection };
/** The socket listeners, defined inside Connection (static block) to reach its private state. */
let onSocket: {
  error(this: Owned, err: Error): void;
  close(this: Owned): void;
  data(this: Owned, chunk: Buffer): void;
  end(this: Owned): void;
};

/** `#firstTick` of a connection whose heartbeat waits for a resume() to schedule its first ping. */
const TICK_PAUSED = -1;

export class Connection implements ReadTarget, StreamingConnection, HeartbeatWheelMember {
  readonly #o: ConnectionOptions;
  readonly #h: ConnectionHandlers;
  readonly #clock: Clock;
  readonly #protocol: ClientProtocol;
  /** Made at the first heartbeat ping or ping() call (see #lateHeartbeat). */
  #heartbeat: Heartbeat | undefined;
  /**
   * Until the Heartbeat is made: when its first ping is due (the connection waits on the clock's
   * heartbeat wheel itself), TICK_PAUSED while reading is paused, undefined when not started: an
   * idle connection's heartbeat is this one field, not a Heartbeat with two closures (~0.35 KiB).
   */
  #firstTick: number | undefined;
  #socket: Transport | undefined;
  #transport: AbortController | undefined;
  #opened = false;
  #finished = false;
  #paused = false;
  /**
   * The stream ended ("end"), or closed as well ("close"), while a paused read still held bytes not
   * parsed: the end applies once the consumer resumed and they were, so its messages are not lost
   * and backpressure still holds.
   */
  #endDeferred: "end" | "close" | undefined;
  /** The first error: it decides how the connection ended. */
  #error: Error | undefined;
  #initiatedByUser = false;
  #handshakeTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;
  /** Batches written (or about to be) whose write callback has not run: #finish rejects them. */
  /** Made on the first send: an idle connection that never sends holds no Set. */
  #pending: Set<Batch> | undefined;
  /** The batch that the sends of this tick join; flushed in a microtask. */
  #batch: Batch | undefined;
  /** Frame bytes queued in the protocol and not yet written (for bufferedAmount). */
  #unflushed = 0;
  #settleHandshake: { resolve(r: UpgradeResponse): void; reject(e: Error): void } | undefined;
  /**
   * `closed`, made only when someone asks for it: the client learns of the end through onClose, and
   * a pending promise with its resolver would weigh on every idle connection.
   */
  #closed: Promise<CloseInfo> | undefined;
  #resolveClosed: ((info: CloseInfo) => void) | undefined;
  /** How the connection ended, once it has. */
  #endInfo: CloseInfo | undefined;
  /** This attempt's number in the process: its id in logs (connection-info.ts). */
  readonly #attempt = nextAttempt();
  /** The socket's addresses, taken when it connected (a closed socket no longer has them). */
  #addresses: SocketAddresses | undefined;

  /** `protocol`: one already built from `protocolOptions(o)` and never used, else a new one. */
  constructor(o: ConnectionOptions, handlers: ConnectionHandlers, protocol?: ClientProtocol) {
    this.#o = o;
    this.#h = handlers;
    this.#clock = o.clock ?? systemClock;
    this.#protocol = protocol ?? new ClientProtocol(protocolOptions(o));
  }

  /** Resolves when the socket is gone (also for a connection that never opened). */
  get closed(): Promise<CloseInfo> {
    if (this.#closed === undefined) {
      const end = this.#endInfo;
      this.#closed =
        end !== undefined
          ? Promise.resolve(end)
          : new Promise((resolve) => {
              this.#resolveClosed = resolve;
            });
    }
    return this.#closed;
  }

  #newHeartbeat(interval: number, timeout: number): Heartbeat {
    const conn = this;
    // Methods, not arrow functions: under tsx (the bench) each named arrow carries a property
    // dictionary of its own (esbuild keepNames), per connection.
    return new Heartbeat({
      interval,
      timeout,
      clock: this.#clock,
      sendPing(payload) {
        conn.#protocol.sendPing(payload);
        conn.#flush();
      },
      onDead(elapsed) {
        const error = new HeartbeatTimeoutError(elapsed);
        conn.#failWith(error, error.closeCode);
        // A silent peer will not close TCP: end our side once the close frame is out, then drop it.
        const socket = conn.#socket;
        socket?.end(() => socket.destroy());
      },
    });
  }

  /**
   * The Heartbeat, made on first use (the first heartbeat ping, or a ping() call) in the state the
   * connection is in: most connections never ping, and an idle one pings only after an interval. With
   * the heartbeat disabled, ping() still works through a Heartbeat with interval and timeout 0
   * ("none"). `firstTick`: when its first ping is due, or "now".
   */
  #lateHeartbeat(firstTick: number | "now" | undefined = this.#takeFirstTick()): Heartbeat {
    const options = this.#o.heartbeat;
    const hb =
      options === false ? this.#newHeartbeat(0, 0) : this.#newHeartbeat(options.interval, options.timeout);
    this.#heartbeat = hb;
    if (this.#finished) hb.stop(new ConnectionClosedError(this.#info(), { cause: this.#error }));
    else if (this.#closeTimer !== undefined) {
      hb.stop(new ConnectionClosedError(this.#info(), { message: "Connection is closing" }));
    } else if (this.#opened) {
      if (this.#paused) hb.pause();
      if (firstTick === undefined) hb.start();
      else hb.startLate(firstTick);
    }
    return hb;
  }

  /** The connection opened: its first heartbeat ping is due after one interval (none if disabled). */
  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) {
      this.#heartbeat.start();
      return;
    }
    const options = this.#o.heartbeat;
    if (options === false || options.interval === 0 || !Number.isFinite(options.interval)) return;
    this.#firstTick = TICK_PAUSED;
    if (!this.#paused) this.#armFirstTick();
  }

  #armFirstTick(): void {
    const interval = (this.#o.heartbeat as { interval: number }).interval;
    const slot = Math.ceil(this.#clock.now() + interval);
    this.#firstTick = slot;
    wheelOf(this.#clock).add(this, slot);
  }

  /** Takes the connection off the wheel; returns when its first ping was due, if it was waiting. */
  #takeFirstTick(): number | undefined {
    const slot = this.#firstTick;
    this.#firstTick = undefined;
    if (slot === undefined || slot === TICK_PAUSED) return undefined;
    wheelOf(this.#clock).remove(this, slot);
    return slot;
  }

  /** HeartbeatWheelMember: the first heartbeat ping is due; the Heartbeat is made and sends it. */
  wake(_now: number): void {
    this.#firstTick = undefined;
    this.#lateHeartbeat("now");
  }

  /** The subprotocol and state, for the client's getters. */
  get state(): State {
    return this.#protocol.state;
  }
  get opened(): boolean {
    return this.#opened;
  }
  /** Bytes written to the socket and not yet handed to the OS. */
  get bufferedAmount(): number {
    return (this.#socket?.writableLength ?? 0) + this.#unflushed;
  }
  get latency(): number | undefined {
    return this.#heartbeat?.latency;
  }
  /** Its id and, once the transport is up, the socket's addresses. */
  get info(): ConnectionInfo {
    return connectionInfo(this.#attempt, this.#addresses);
  }
  /** How the connection ended, once it has. */
  get ended(): CloseInfo | undefined {
    return this.#endInfo;
  }
  /** The error that ended (or is ending) the connection, if it did not end cleanly by itself. */
  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Connects and runs the opening handshake. Resolves with the 101 response; rejects with a
   * ConnectError, HandshakeTimeoutError, AbortedError or the core's HandshakeError /
   * UnexpectedResponseError. `handshakeTimeout` bounds all of it: DNS, TCP, TLS and HTTP.
   */
  open(signal?: AbortSignal): Promise<UpgradeResponse> {
    const handshake = new Promise<UpgradeResponse>((resolve, reject) => {
      this.#settleHandshake = { resolve, reject };
    });
    if (signal?.aborted) {
      this.#abortHandshake(new AbortedError(signal.reason));
      this.#finish();
      return handshake;
    }
    const onAbort = () => this.#abortHandshake(new AbortedError(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timeout = this.#o.handshakeTimeout;
    this.#handshakeTimer = this.#clock.setTimeout(
      () => this.#abortHandshake(new HandshakeTimeoutError(timeout)),
      timeout,
    );
    // The socket exists only once the transport (TCP, TLS, proxy tunnel) is ready; until then an
    // abort or the handshake timer cancels the transport through this controller.
    const transport = new AbortController();
    this.#transport = transport;
    const { url, tls, proxy, socketPath, createConnection, socket } = this.#o;
    openTransport({
      url,
      tls,
      proxy,
      socketPath,
      createConnection,
      socket,
      readTarget: this,
      signal: transport.signal,
    }).then(
      (socket) => this.#attach(socket),
      (err: Error) => {
        this.#error ??= err;
        this.#finish();
      },
    );
    return handshake.finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /**
   * The transport is ready: listen, start reading, send the upgrade request. A method rather than
   * closures inside open(): those would keep open()'s whole scope (the abort signals, the transport
   * controller) alive as long as the socket.
   */
  #attach(socket: Transport): void {
    this.#transport = undefined;
    if (this.#finished || this.#settleHandshake === undefined) {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    this.#addresses = socketAddresses(socket);
    (socket as Owned)[kConnection] = this;
    socket.on("error", onSocket.error);
    socket.on("close", onSocket.close);
    socket.on("data", onSocket.data);
    socket.on("end", onSocket.end);
    socket.resume(); // the transport hands it over with reading not started
    this.#guard(() => this.#h.onConnect(this));
    observe.upgradeRequest(this.#h, this.#o, this.#protocol.upgradeRequest);
    this.#flush(); // the upgrade request
  }

  // The socket's listeners: shared functions that find their connection on the socket, as `ws` does
  // (socket[kWebSocket]), instead of four closures (and their context) per idle connection.
  static {
    onSocket = {
      error(this: Owned, err: Error): void {
        const conn = this[kConnection] as Connection;
        conn.#error ??= conn.#opened
          ? err
          : new ConnectError(`Connection to ${conn.#o.url.host} failed: ${err.message}`, { cause: err });
      },
      close(this: Owned): void {
        socketClosed(this);
        const conn = this[kConnection] as Connection;
        if (conn.#endDeferred !== undefined && !conn.#initiatedByUser) conn.#endDeferred = "close";
        else conn.#finish();
      },
      data(this: Owned, chunk: Buffer): void {
        (this[kConnection] as Connection).#receive(chunk);
      },
      end(this: Owned): void {
        const conn = this[kConnection] as Connection;
        // A socket may end while paused (data and FIN in one read): see #endDeferred.
        if (conn.#protocol.receiveStopped) {
          conn.#endDeferred = "end";
          return;
        }
        conn.#protocol.receiveEof();
        conn.#process();
      },
    };
  }

  /**
   * Queues one message and writes it. Resolves when the frame was handed to the OS, rejects with a
   * ConnectionClosedError if the connection ends first. Throws InvalidStateError unless OPEN.
   */
  send(data: string | Uint8Array, binary: boolean, compress = true): Promise<void> {
    // A string goes to the core as it is: it encodes small text straight into its output.
    let length: number;
    if (typeof data === "string") {
      if (binary) this.#protocol.sendBinary(nodeUtf8.encode(data), true, compress);
      else this.#protocol.sendText(data, true, compress);
      length = Buffer.byteLength(data);
    } else {
      if (binary) this.#protocol.sendBinary(data, true, compress);
      else this.#protocol.sendText(data, true, compress);
      length = data.length;
    }
    return this.#queued(length);
  }

  /**
   * Queues one fragment of a streamed message (stream-send.ts): the `first` one as a text or binary
   * frame, the others as continuations; `fin` ends the message. Resolves, rejects and throws as send().
   */
  sendFragment(data: string | Uint8Array, binary: boolean, first: boolean, fin: boolean): Promise<void> {
    const protocol = this.#protocol;
    if (first && !binary && typeof data === "string") {
      protocol.sendText(data, fin);
      return this.#queued(Buffer.byteLength(data));
    }
    const bytes = typeof data === "string" ? nodeUtf8.encode(data) : data;
    if (!first) protocol.sendContinuation(bytes, fin);
    else if (binary) protocol.sendBinary(bytes, fin);
    else protocol.sendText(bytes, fin);
    return this.#queued(bytes.length);
  }

  /**
   * Resolves once less than `limit` bytes wait to be handed to the OS (at once if so now), or the
   * socket is gone: a streamed send pulls its next chunk only then.
   */
  drained(limit: number): Promise<void> {
    const socket = this.#socket;
    if (this.bufferedAmount < limit || socket === undefined || socket.destroyed) return Promise.resolve();
    if (this.#unflushed > 0) this.#flush();
    // "drain" comes only after a write() that returned false; a socket below its own mark is writable.
    if (socket.writableLength < limit || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  /** Counts a frame just queued in the protocol; returns the promise of the batch it joins. */
  #queued(length: number): Promise<void> {
    // Counted as bytes on the wire (a masked header is 6, 8 or 14 bytes), like the socket's own
    // writableLength, so that FLUSH_BYTES matches what the protocol's 16 KiB block holds.
    this.#unflushed += length + (length < 126 ? 6 : length < 65_536 ? 8 : 14);
    // Frames sent within one tick leave in one write, flushed in a microtask: that runs before any
    // I/O, so a lone message is not delayed. All of them resolve together when that write is done.
    let batch = this.#batch;
    if (batch === undefined) {
      batch = newBatch();
      this.#batch = batch;
      (this.#pending ??= new Set()).add(batch);
      queueMicrotask(() => this.#flush());
    }
    // A long burst is written every FLUSH_BYTES instead of at the end of the tick: the frames of a
    // whole burst would outlive the young generation and cost full GCs.
    if (this.#unflushed >= FLUSH_BYTES) this.#flush();
    return batch.promise;
  }

  /** Sends a ping (`data`, or the heartbeat's own payload) and resolves with the round trip in ms. */
  ping(data?: Uint8Array): Promise<number> {
    return (this.#heartbeat ?? this.#lateHeartbeat()).ping(data);
  }

  /** Sends an unsolicited pong now. Throws InvalidStateError unless OPEN, RangeError over 125 bytes. */
  pong(data?: Uint8Array): void {
    this.#protocol.sendPong(data);
    this.#flush();
  }

  /**
   * Starts the closing handshake (if OPEN) and resolves when the socket is gone: the server closes
   * TCP first (RFC 6455 section 7.1.1), or we destroy it after `closeTimeout`.
   */
  close(code?: number, reason?: string): Promise<CloseInfo> {
    this.#initiatedByUser = true;
    if (!this.#opened) {
      this.#abortHandshake(new AbortedError(new Error("closed before the handshake completed")));
    } else if (this.#protocol.state === State.Open) {
      this.#protocol.sendClose(code, reason);
      this.#process();
    }
    // The server already closed while the consumer was paused: nothing will end it but this.
    if (this.#endDeferred === "close") this.#finish();
    return this.closed;
  }

  /**
   * Fails the open connection with the error's close code: a streamed message that fails once
   * inflated (invalid UTF-8 1007, too big 1009), a check the core cannot make on compressed bytes.
   */
  failReceive(error: ProtocolError): void {
    if (this.#protocol.state === State.Open) this.#failWith(error, error.closeCode);
  }

  /**
   * Fails the open connection with 1011 (`onOpen` threw, a streamed send's source failed): `error` is
   * how it ended; `reason` goes in the close frame (default: the error's message).
   */
  fail(error: Error, reason?: string): void {
    if (this.#protocol.state === State.Open) this.#failWith(error, CloseCode.InternalError, reason);
  }

  /** Destroys the socket now, without a close handshake. */
  terminate(error?: Error): void {
    this.#initiatedByUser = true;
    if (error !== undefined) this.#error ??= error;
    if (!this.#opened) this.#abortHandshake(error ?? new AbortedError(new Error("terminated")));
    this.#socket?.destroy();
    if (this.#socket === undefined || this.#endDeferred === "close") this.#finish();
  }

  /** Stops reading (backpressure); the heartbeat pauses too, since pongs cannot be read either. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    // Not during the handshake: that would stall it. The open event applies a pending pause.
    if (this.#opened) this.#socket?.pause();
    this.#heartbeat?.pause();
    if (this.#firstTick !== undefined) {
      this.#takeFirstTick();
      this.#firstTick = TICK_PAUSED;
    }
  }

  /**
   * Reads again: first what the last read left unparsed (in a microtask, so messages are never
   * dispatched from inside the caller, such as the iterator's next()), then from the socket, unless
   * those messages paused it again.
   */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#heartbeat?.resume();
    if (this.#firstTick === TICK_PAUSED) this.#armFirstTick();
    if (this.#protocol.receiveStopped) queueMicrotask(() => this.#resumeReading());
    else this.#socket?.resume();
  }

  #resumeReading(): void {
    if (this.#paused || this.#finished) return;
    this.#receiveRest();
    if (this.#paused) return;
    const ended = this.#endDeferred;
    if (ended === undefined) {
      this.#socket?.resume();
      return;
    }
    this.#endDeferred = undefined;
    this.#protocol.receiveEof();
    this.#process();
    if (ended === "close") this.#finish();
  }

  /** Fails the connection from this side: close frame with `code`, then wait for the server to close TCP. */
  #failWith(error: Error, code: number, reason = error.message): void {
    this.#error ??= error;
    this.#guard(() => this.#h.onError(this, error));
    this.#protocol.fail(code, reason);
    this.#process();
  }

  /**
   * ReadTarget (direct-reads.ts): the connection itself, so a plain TCP socket's reads need
   * no object or closures of their own (idle memory). Big message payloads are read straight into
   * their buffer in the protocol.
   */
  receiveBuffer(): Uint8Array | undefined {
    return this.#protocol.receiveBuffer();
  }

  /** ReadTarget: a read arrived; false stops reading (a paused open connection). */
  receiveRead(chunk: Uint8Array): boolean {
    this.#receive(chunk);
    // Pausing stops the socket's reads at once; while the handshake runs it does not (see pause).
    return !(this.#paused && this.#opened);
  }

  #receive(chunk: Uint8Array): void {
    this.#heartbeat?.onActivity();
    // One plain view per chunk rather than per message: the built-in Uint8Array#subarray is much
    // cheaper than Buffer#subarray (a JS function building a FastBuffer) for every message.
    this.#protocol.receiveData(
      this.#o.binaryType === "buffer" ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length),
      RECEIVE_STEP,
    );
    this.#process();
    this.#receiveRest();
  }

  /** Parses what the last step left of the read, step by step, until backpressure pauses reading. */
  #receiveRest(): void {
    const protocol = this.#protocol;
    while (protocol.receiveStopped && !(this.#paused && this.#opened)) {
      protocol.receiveData(NO_BYTES, RECEIVE_STEP);
      this.#process();
    }
  }

  /**
   * Writes what the protocol queued (pongs, close echoes go out before any user code runs), then
   * dispatches the events. Listeners run after the protocol state changed, so one that throws or
   * re-enters cannot corrupt it.
   */
  #process(): void {
    const events = this.#protocol.eventsReceived();
    this.#flush();
    if (this.#settleHandshake !== undefined && this.#protocol.failure !== undefined && events.length > 0) {
      // The frames that came with the 101 in the same read failed the protocol (a masked frame, a bad
      // length): the close frame is out; the attempt fails as any handshake failure, never half-open.
      const socket = this.#socket;
      this.#abortHandshake(this.#protocol.failure, false);
      socket?.end(() => socket.destroy());
      return;
    }
    const h = this.#h;
    const binaryType = this.#o.binaryType;
    for (let i = 0; i < events.length; i++) {
      // Not #guard: that would make a closure per message.
      try {
        const event = events[i]!;
        // Messages straight to the handler, the other events through #dispatch's switch.
        if (event.type === "binary") h.onMessage(toBinary(event.data, binaryType));
        else if (event.type === "text") h.onMessage(event.data);
        else if (event.type === "utf8") h.onMessage(textBytes(event.data));
        else this.#dispatch(event);
      } catch (err) {
        // The client's handlers catch listener errors themselves; this is a last line of defence.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    // "the client SHOULD wait for the server to close the connection but MAY close the connection at
    // any time after sending and receiving a close message" (RFC 6455 section 7.1.1).
    if (this.#protocol.closeExpected() && this.#closeTimer === undefined && !this.#finished) {
      this.#takeFirstTick();
      this.#heartbeat?.stop(new ConnectionClosedError(this.#info(), { message: "Connection is closing" }));
      this.#closeTimer = this.#clock.setTimeout(() => this.#socket?.destroy(), this.#o.closeTimeout);
    }
  }

  /** The events other than messages (#process hands those over itself), inside its try/catch. */
  #dispatch(event: Exclude<WsEvent, { type: "text" | "binary" | "utf8" }>): void {
    switch (event.type) {
      case "open":
        observe.upgradeResponse(this.#h, this.#o, event.response);
        this.#opened = true;
        this.#clearHandshakeTimer();
        if (this.#paused) {
          this.#socket?.pause();
          this.#heartbeat?.pause();
        }
        this.#startHeartbeat();
        this.#settleHandshake?.resolve(event.response);
        this.#settleHandshake = undefined;
        this.#guard(() => this.#h.onOpen(this, event.response));
        return;
      case "ping":
        this.#h.emit("ping", event.data);
        observe.ping(this.#h, this.#o.logger, event.data);
        return;
      case "pong":
        this.#heartbeat?.onPong(event.data);
        this.#h.emit("pong", event.data);
        observe.pong(this.#h, this.#o.logger, event.data);
        return;
      case "close":
        return; // reported with the end of the transport, in onClose
      case "message-start":
      case "message-chunk":
      case "message-end":
        // A failed connection passes on no more parts: its message was aborted (onError).
        if (this.#error === undefined) this.#h.deliverPart(event);
        return;
      case "error":
        if (!this.#opened) {
          this.#abortHandshake(event.error);
        } else {
          this.#error ??= event.error;
          this.#guard(() => this.#h.onError(this, event.error));
        }
        return;
    }
  }

  /** Writes the protocol's output; the last write's callback settles the current batch, if any. */
  #flush(): void {
    const socket = this.#socket;
    const output = this.#protocol.dataToSend();
    const batch = this.#batch;
    this.#batch = undefined;
    this.#unflushed = 0;
    if (socket === undefined || socket.destroyed) {
      if (batch !== undefined) this.#settle(batch, new Error("socket destroyed"));
      return;
    }
    if (output.length === 0) return;
    const writes = toWrites(output);
    let last = writes.length - 1;
    while (last >= 0 && writes[last] === END_OF_STREAM) last--;
    // Pooled pieces go back to the pool once written: net.Socket (and TLS) hand the bytes to the
    // kernel (or encrypt them) before the write callback runs; a custom Duplex might keep them.
    let written: Buffer[] | undefined;
    if (socket instanceof Socket) {
      for (let i = 0; i <= last; i++) {
        const item = writes[i]!;
        if (item instanceof Uint8Array && item.length >= POOLED_MIN && isPooled(item)) {
          (written ??= []).push(item);
        }
      }
    }
    // Node calls the callback of a write cancelled by destroy() with no error (stream_base_commons
    // onWriteComplete): a callback that finds the socket destroyed did not reach the OS.
    const done =
      batch === undefined && written === undefined
        ? undefined
        : (err?: Error | null) => {
            if (written !== undefined) for (const piece of written) release(piece);
            if (batch !== undefined) {
              this.#settle(batch, err ?? (socket.destroyed ? new Error("socket destroyed") : null));
            }
          };
    if (writes.length > 1) socket.cork();
    for (let i = 0; i < writes.length; i++) {
      const item = writes[i]!;
      if (item instanceof Uint8Array) socket.write(item, i === last ? done : undefined);
      else socket.end();
    }
    if (writes.length > 1) socket.uncork();
    // Nothing left in the stream's buffer right after writing means every write completed
    // synchronously: a plain TCP socket's bytes are in the kernel, so the buffers can be reused at
    // once, where waiting for the callbacks would allocate most pieces of a burst fresh. TLS keeps
    // the callback: its plaintext path is not ours to reason about.
    if (socket.writableLength === 0 && socket instanceof Socket && !(socket instanceof TLSSocket)) {
      this.#protocol.outputConsumed();
      if (written !== undefined) for (const piece of written) release(piece);
      written = undefined;
    }
    if (last < 0 && batch !== undefined) this.#settle(batch, new Error("socket ended"));
  }

  #settle(batch: Batch, err: Error | null | undefined): void {
    if (this.#pending?.delete(batch) !== true) return;
    if (err) batch.reject(new ConnectionClosedError(this.#info(), { cause: err }));
    else batch.resolve();
  }

  /** Rejects the handshake with `error` and, unless told otherwise, destroys the socket. */
  #abortHandshake(error: Error, destroy = true): void {
    if (this.#settleHandshake === undefined) return;
    // A refusal (a non-101 status, a bad 101) carries the server's answer.
    if (error instanceof HandshakeError && error.response !== undefined) {
      observe.upgradeResponse(this.#h, this.#o, error.response);
    }
    this.#error ??= error;
    this.#settleHandshake.reject(error);
    this.#settleHandshake = undefined;
    this.#clearHandshakeTimer();
    this.#transport?.abort(error);
    if (destroy) this.#socket?.destroy();
    else if (this.#socket !== undefined && this.#closeTimer === undefined) {
      // A server that never closes TCP is dropped after closeTimeout, as after any close frame.
      const socket = this.#socket;
      this.#closeTimer = this.#clock.setTimeout(() => socket.destroy(), this.#o.closeTimeout);
    }
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== undefined) this.#clock.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
  }

  #info(): CloseInfo {
    const p = this.#protocol;
    const received = p.closeReceived;
    return {
      code: received?.code ?? CloseCode.Abnormal,
      reason: received?.reason ?? "",
      wasClean:
        received !== undefined &&
        p.closeSent !== undefined &&
        p.failure === undefined &&
        this.#error === undefined,
      initiatedByUser: this.#initiatedByUser,
      sent: p.closeSent,
      received,
    };
  }

  /** The socket is gone: settle everything, once. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#clearHandshakeTimer();
    if (this.#closeTimer !== undefined) this.#clock.clearTimeout(this.#closeTimer);
    if (this.#protocol.state !== State.Closed) {
      this.#protocol.receiveEof();
      this.#protocol.eventsReceived();
      this.#protocol.dataToSend();
    }
    const info = this.#info();
    // A system error after the handshake (ECONNRESET, EPIPE) becomes a typed error with the close codes.
    if (this.#opened && this.#error !== undefined && !(this.#error instanceof WebSocketError)) {
      this.#error = new ConnectionClosedError(info, { cause: this.#error });
    }
    // Errors are made only when someone gets them: capturing a stack is a cost on every handshake.
    const pending = this.#pending;
    this.#takeFirstTick();
    if (this.#heartbeat !== undefined || (pending !== undefined && pending.size > 0)) {
      const closedError = new ConnectionClosedError(info, { cause: this.#error });
      this.#heartbeat?.stop(closedError);
      if (pending !== undefined) {
        for (const batch of pending) batch.reject(closedError);
        pending.clear();
      }
    }
    if (this.#settleHandshake !== undefined) {
      this.#abortHandshake(
        this.#error ?? new ConnectError(`Connection to ${this.#o.url.host} closed during the handshake`),
      );
    }
    this.#endInfo = info;
    if (this.#opened) this.#guard(() => this.#h.onClose(this, info, this.#error));
    this.#resolveClosed?.(info);
  }

  /** Runs a handler; whatever it throws must not break the connection's bookkeeping. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // The client's handlers catch listener errors themselves; this is a last line of defence.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
