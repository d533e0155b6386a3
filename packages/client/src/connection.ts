/**
 * One WebSocket connection: a socket from transport.ts glued to the sans-I/O ClientProtocol of the
 * core, plus its heartbeat and timers. The glue is the loop of websockets' `data_received`: bytes ->
 * `receiveData` -> write `dataToSend` -> dispatch `eventsReceived`. It never reconnects; the client
 * (client.ts) owns the policy and makes a new Connection for every attempt.
 */

import { Buffer, isUtf8 } from "node:buffer";
import { randomFillSync } from "node:crypto";
import {
  ClientProtocol,
  CloseCode,
  END_OF_STREAM,
  State,
  type UpgradeResponse,
  type Utf8Codec,
  WebSocketError,
  type WsEvent,
} from "@tideway/core";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";
import {
  AbortedError,
  type CloseInfo,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
} from "./errors.js";
import { Heartbeat } from "./heartbeat.js";
import type { BinaryType, ResolvedOptions } from "./options.js";
import { openTransport, type Transport } from "./transport.js";

/** A received message as handed to the user: text as a string, binary per `binaryType`. */
export type Message = string | Uint8Array | ArrayBuffer | Buffer;

/**
 * Node's UTF-8: `buffer.isUtf8` is a SIMD validator, and Buffer's decoder skips TextDecoder's
 * per-call overhead. `encode` turns lone surrogates into U+FFFD, as the core requires.
 */
export const nodeUtf8: Utf8Codec = {
  isValid: (bytes) => isUtf8(bytes),
  decode: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
  encode: (text) => Buffer.from(text, "utf8"),
};

/** Mask keys and the handshake key from node:crypto (the core draws them in pooled blocks). */
const randomFill = (bytes: Uint8Array): void => {
  randomFillSync(bytes);
};

/** What the connection tells its owner. Called after the protocol processed the bytes, never inside. */
export interface ConnectionHandlers {
  /** TCP (or TLS) is established; the upgrade request is being sent. */
  onConnect(): void;
  /** The handshake completed. Called before the messages that arrived with the 101 are dispatched. */
  onOpen(response: UpgradeResponse): void;
  onMessage(data: Message): void;
  onPing(data: Uint8Array): void;
  onPong(data: Uint8Array): void;
  /** The connection failed after opening (protocol error, heartbeat timeout, socket error). */
  onError(error: Error): void;
  /** The connection that had opened is gone. Called once, last. */
  onClose(info: CloseInfo, error: Error | undefined): void;
}

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
  };
}

function toBinary(data: Uint8Array, type: BinaryType): Uint8Array | ArrayBuffer | Buffer {
  switch (type) {
    case "buffer":
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    case "arraybuffer":
      return data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength &&
        data.buffer instanceof ArrayBuffer
        ? data.buffer
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    default:
      // A plain Uint8Array view (not a Buffer subclass), without copying.
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
}

interface PendingWrite {
  resolve(): void;
  reject(error: Error): void;
}

export class Connection {
  readonly #o: ConnectionOptions;
  readonly #h: ConnectionHandlers;
  readonly #clock: Clock;
  readonly #protocol: ClientProtocol;
  readonly #heartbeat: Heartbeat;
  #socket: Transport | undefined;
  #opened = false;
  #finished = false;
  #paused = false;
  #corked = false;
  /** The first error: it decides how the connection ended. */
  #error: Error | undefined;
  #initiatedByUser = false;
  #handshakeTimer: TimerHandle | undefined;
  #closeTimer: TimerHandle | undefined;
  readonly #pending = new Set<PendingWrite>();
  #settleHandshake: { resolve(r: UpgradeResponse): void; reject(e: Error): void } | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  /** Resolves when the socket is gone (also for a connection that never opened). */
  readonly closed: Promise<CloseInfo>;

  constructor(o: ConnectionOptions, handlers: ConnectionHandlers) {
    this.#o = o;
    this.#h = handlers;
    this.#clock = o.clock ?? systemClock;
    this.#protocol = new ClientProtocol(protocolOptions(o));
    const hb = o.heartbeat;
    // With the heartbeat disabled it still serves ping(): interval and timeout 0 mean "none".
    this.#heartbeat = new Heartbeat({
      interval: hb === false ? 0 : hb.interval,
      timeout: hb === false ? 0 : hb.timeout,
      clock: this.#clock,
      sendPing: (payload) => {
        this.#protocol.sendPing(payload);
        this.#flush();
      },
      onDead: (elapsed) => {
        this.#failWith(new HeartbeatTimeoutError(elapsed), CloseCode.InternalError);
        // A silent peer will not close TCP: end our side once the close frame is out, then drop it.
        const socket = this.#socket;
        socket?.end(() => socket.destroy());
      },
    });
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
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
    return this.#socket?.writableLength ?? 0;
  }
  get latency(): number | undefined {
    return this.#heartbeat.latency;
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
    const { socket, ready } = openTransport({ url: this.#o.url, tls: this.#o.tls });
    this.#socket = socket;
    socket.on("error", (err) => {
      this.#error ??= this.#opened
        ? err
        : new ConnectError(`Connection to ${this.#o.url.host} failed: ${err.message}`, { cause: err });
    });
    socket.on("close", () => this.#finish());
    ready.then(
      () => {
        if (this.#finished || this.#settleHandshake === undefined) return;
        socket.on("data", (chunk: Buffer) => this.#receive(chunk));
        socket.on("end", () => {
          this.#protocol.receiveEof();
          this.#process();
        });
        this.#guard(() => this.#h.onConnect());
        this.#flush(); // the upgrade request
      },
      (err: Error) => {
        this.#error ??= err;
      },
    );
    return handshake.finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /**
   * Queues one message and writes it. Resolves when the frame was handed to the OS, rejects with a
   * ConnectionClosedError if the connection ends first. Throws InvalidStateError unless OPEN.
   */
  send(data: string | Uint8Array, binary: boolean): Promise<void> {
    if (binary) this.#protocol.sendBinary(typeof data === "string" ? nodeUtf8.encode(data) : data);
    else this.#protocol.sendText(data);
    return new Promise<void>((resolve, reject) => {
      const pending: PendingWrite = { resolve, reject };
      this.#pending.add(pending);
      this.#flush(pending);
    });
  }

  /** Sends a ping and resolves with the round trip in ms. */
  ping(): Promise<number> {
    return this.#heartbeat.ping();
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
    return this.closed;
  }

  /** Destroys the socket now, without a close handshake. */
  terminate(error?: Error): void {
    this.#initiatedByUser = true;
    if (error !== undefined) this.#error ??= error;
    if (!this.#opened) this.#abortHandshake(error ?? new AbortedError(new Error("terminated")));
    this.#socket?.destroy();
    if (this.#socket === undefined) this.#finish();
  }

  /** Stops reading (backpressure); the heartbeat pauses too, since pongs cannot be read either. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    // Not during the handshake: that would stall it. The open event applies a pending pause.
    if (this.#opened) this.#socket?.pause();
    this.#heartbeat.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#socket?.resume();
    this.#heartbeat.resume();
  }

  /** Fails the connection from this side: close frame with `code`, then wait for the server to close TCP. */
  #failWith(error: Error, code: number): void {
    this.#error ??= error;
    this.#initiatedByUser = true;
    this.#guard(() => this.#h.onError(error));
    this.#protocol.fail(code, error.message);
    this.#process();
  }

  #receive(chunk: Uint8Array): void {
    this.#heartbeat.onActivity();
    this.#protocol.receiveData(chunk);
    this.#process();
  }

  /**
   * Writes what the protocol queued (pongs, close echoes go out before any user code runs), then
   * dispatches the events. Listeners run after the protocol state changed, so one that throws or
   * re-enters cannot corrupt it.
   */
  #process(): void {
    const events = this.#protocol.eventsReceived();
    this.#flush();
    for (const event of events) this.#dispatch(event);
    // "the client SHOULD wait for the server to close the connection but MAY close the connection at
    // any time after sending and receiving a close message" (RFC 6455 section 7.1.1).
    if (this.#protocol.closeExpected() && this.#closeTimer === undefined && !this.#finished) {
      this.#heartbeat.stop(new ConnectionClosedError(this.#info(), { message: "Connection is closing" }));
      this.#closeTimer = this.#clock.setTimeout(() => this.#socket?.destroy(), this.#o.closeTimeout);
    }
  }

  #dispatch(event: WsEvent): void {
    switch (event.type) {
      case "open":
        this.#opened = true;
        this.#clearHandshakeTimer();
        if (this.#paused) {
          this.#socket?.pause();
          this.#heartbeat.pause();
        }
        this.#heartbeat.start();
        this.#settleHandshake?.resolve(event.response);
        this.#settleHandshake = undefined;
        this.#guard(() => this.#h.onOpen(event.response));
        return;
      case "text":
        this.#guard(() => this.#h.onMessage(event.data));
        return;
      case "binary":
        this.#guard(() => this.#h.onMessage(toBinary(event.data, this.#o.binaryType)));
        return;
      case "ping":
        this.#guard(() => this.#h.onPing(event.data));
        return;
      case "pong":
        this.#heartbeat.onPong(event.data);
        this.#guard(() => this.#h.onPong(event.data));
        return;
      case "close":
        return; // reported with the end of the transport, in onClose
      case "error":
        if (!this.#opened) {
          this.#abortHandshake(event.error);
        } else {
          this.#error ??= event.error;
          this.#guard(() => this.#h.onError(event.error));
        }
        return;
    }
  }

  /** Writes the protocol's output; the last chunk's write callback settles `pending`, if given. */
  #flush(pending?: PendingWrite): void {
    const socket = this.#socket;
    const output = this.#protocol.dataToSend();
    if (socket === undefined || socket.destroyed) {
      pending?.reject(new ConnectionClosedError(this.#info()));
      if (pending) this.#pending.delete(pending);
      return;
    }
    // Frames produced within one tick leave in one writev: cork now, uncork in a microtask, which
    // runs before any I/O, so a lone message is not delayed.
    if (!this.#corked && output.length > 0) {
      this.#corked = true;
      socket.cork();
      queueMicrotask(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    for (let i = 0; i < output.length; i++) {
      const item = output[i]!;
      if (item === END_OF_STREAM) {
        socket.end();
        continue;
      }
      const last = pending !== undefined && i === output.length - 1;
      // Node calls the callback of a write cancelled by destroy() with no error (stream_base_commons
      // onWriteComplete): a callback that finds the socket destroyed did not reach the OS.
      const done = (err?: Error | null) =>
        this.#settle(
          pending as PendingWrite,
          err ?? (socket.destroyed ? new Error("socket destroyed") : null),
        );
      socket.write(item as Uint8Array, last ? done : undefined);
    }
  }

  #settle(pending: PendingWrite, err: Error | null | undefined): void {
    if (!this.#pending.delete(pending)) return;
    if (err) pending.reject(new ConnectionClosedError(this.#info(), { cause: err }));
    else pending.resolve();
  }

  #abortHandshake(error: Error): void {
    if (this.#settleHandshake === undefined) return;
    this.#error ??= error;
    this.#settleHandshake.reject(error);
    this.#settleHandshake = undefined;
    this.#clearHandshakeTimer();
    this.#socket?.destroy();
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
    const closedError = new ConnectionClosedError(info, { cause: this.#error });
    this.#heartbeat.stop(closedError);
    this.#abortHandshake(
      this.#error ?? new ConnectError(`Connection to ${this.#o.url.host} closed during the handshake`),
    );
    for (const pending of this.#pending) pending.reject(closedError);
    this.#pending.clear();
    if (this.#opened) this.#guard(() => this.#h.onClose(info, this.#error));
    this.#resolveClosed(info);
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
