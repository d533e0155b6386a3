/**
 * One connection over the platform's own `WebSocket` (browsers, workers, edge runtimes): the browser
 * runs the handshake, framing, masking and compression, so no parser of the core comes along. What
 * it cannot do is listed in docs/runtimes.md; here the two stand-ins: the application-level
 * heartbeat (app-heartbeat.ts) and a bound on what a slow consumer holds (`maxBufferedBytes`).
 */
import { InvalidStateError, State, type UpgradeResponse } from "@tideway/core";
import { AppHeartbeat } from "./app-heartbeat.js";
import type { ClientConnection, ConnectionHandlers } from "./client-connection.js";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";
import { type ConnectionInfo, connectionInfo, nextAttempt } from "./connection-info.js";
import {
  AbortedError,
  type CloseInfo,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  ReceiveBufferFullError,
} from "./errors.js";
import type { Message } from "./events.js";
import { DEFAULT_MAX_BUFFERED_BYTES, type ResolvedOptions } from "./options.js";
import { StreamSocket, webSocketStream } from "./stream-socket.js";
import { textBytes } from "./text-bytes.js";

/** The WHATWG `WebSocket` constructor (the global one, or a stand-in in tests). */
export type WebSocketConstructor = new (url: string, protocols?: string[]) => WebSocket;

/** A WebSocket, or a StreamSocket (stream-socket.ts), whose `send()` resolves when written. */
type Socket = WebSocket | StreamSocket;

/** What a browser connection may be given besides the options: for tests. */
export interface BrowserConnectionDeps {
  readonly WebSocket?: WebSocketConstructor;
  readonly clock?: Clock;
}

const utf8 = new TextEncoder();
/** `fatal`: text sent from bytes must be valid UTF-8, as the core requires of the Node build. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Close codes a browser's `close()` accepts (WHATWG WebSockets): 1000 and 3000-4999. */
function browserCloseCode(code: number | undefined): number {
  return code !== undefined && (code === 1000 || (code >= 3000 && code <= 4999)) ? code : 1000;
}

const ignore = (): void => {};

/** Size of a message for `maxBufferedBytes`: bytes for binary, code units for text (as the water marks). */
function sizeOf(m: Message): number {
  return typeof m === "string" ? m.length : m.byteLength;
}

export class BrowserConnection implements ClientConnection {
  readonly #o: ResolvedOptions;
  readonly #h: ConnectionHandlers;
  readonly #clock: Clock;
  readonly #WebSocket: WebSocketConstructor;
  readonly #heartbeat: AppHeartbeat | undefined;
  #ws: Socket | undefined;
  #state: State = State.Connecting;
  #opened = false;
  #paused = false;
  /** Bytes received while paused: what the consumer holds beyond `highWaterMark`. */
  #behind = 0;
  #initiatedByUser = false;
  #sent: CloseInfo["sent"];
  #error: Error | undefined;
  #timer: TimerHandle | undefined;
  /** The attempt awaiting the handshake, until it opens or fails. */
  #handshake: { resolve(r: UpgradeResponse): void; reject(e: Error): void } | undefined;
  #closed: Promise<CloseInfo> | undefined;
  #resolveClosed: ((info: CloseInfo) => void) | undefined;
  #endInfo: CloseInfo | undefined;

  readonly #attempt = nextAttempt();

  constructor(o: ResolvedOptions, handlers: ConnectionHandlers, deps: BrowserConnectionDeps = {}) {
    this.#o = o;
    this.#h = handlers;
    this.#clock = deps.clock ?? systemClock;
    // Over WebSocketStream where the runtime has it (Chromium): reads that stop, writes that are awaited.
    this.#WebSocket =
      deps.WebSocket ??
      (webSocketStream() !== undefined
        ? (StreamSocket as unknown as WebSocketConstructor)
        : globalThis.WebSocket);
    const hb = o.appHeartbeat;
    if (hb !== undefined) {
      const conn = this;
      this.#heartbeat = new AppHeartbeat(hb, this.#clock, {
        send(message) {
          conn.#ws?.send(message);
        },
        onDead(error) {
          conn.#failWith(error);
        },
      });
    }
  }

  get state(): State {
    return this.#state;
  }
  get opened(): boolean {
    return this.#opened;
  }
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }
  get latency(): number | undefined {
    return this.#heartbeat?.latency;
  }
  /** An id per attempt; a browser's WebSocket tells no socket address. */
  get info(): ConnectionInfo {
    return connectionInfo(this.#attempt, undefined);
  }
  get ended(): CloseInfo | undefined {
    return this.#endInfo;
  }
  get error(): Error | undefined {
    return this.#error;
  }
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

  /**
   * Opens the browser's WebSocket. Rejects with a ConnectError when it fails before opening (the
   * browser does not say why: refused, TLS, or an HTTP answer other than 101), a HandshakeTimeoutError
   * after `handshakeTimeout`, or an AbortedError.
   */
  open(signal?: AbortSignal): Promise<UpgradeResponse> {
    const handshake = new Promise<UpgradeResponse>((resolve, reject) => {
      this.#handshake = { resolve, reject };
    });
    if (signal?.aborted) {
      this.#failHandshake(new AbortedError(signal.reason));
      return handshake;
    }
    const onAbort = () => this.#failHandshake(new AbortedError(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timeout = this.#o.handshakeTimeout;
    this.#timer = this.#clock.setTimeout(
      () => this.#failHandshake(new HandshakeTimeoutError(timeout)),
      timeout,
    );
    let ws: Socket;
    try {
      ws = new this.#WebSocket(this.#o.href, [...this.#o.protocols]);
    } catch (err) {
      this.#failHandshake(
        new ConnectError(`Cannot open ${this.#o.url.host}: ${String(err)}`, { cause: err }),
      );
      return handshake;
    }
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.#onOpen(ws);
    ws.onmessage = (event) => this.#onMessage(event.data);
    ws.onclose = (event) => this.#onClose(event.code, event.reason, event.wasClean);
    // After open, the close event that follows says how it ended (its code decides a reconnect); an
    // error of our own there would be a plain Error, which the verdict never retries.
    ws.onerror = () => {
      if (!this.#opened)
        this.#error ??= new ConnectError(
          `Connection to ${this.#o.url.host} failed (refused, TLS, or an answer other than 101: a browser does not tell which)`,
        );
    };
    return handshake.finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /**
   * Sends one message; resolves once the browser has it (a browser reports no write completion).
   * Rejects with InvalidStateError unless open, TypeError for text bytes that are not UTF-8.
   */
  send(data: string | Uint8Array, binary: boolean): Promise<void> {
    const ws = this.#ws;
    if (ws === undefined || this.#state !== State.Open) {
      return Promise.reject(new InvalidStateError("cannot send: the connection is not open"));
    }
    try {
      // A StreamSocket's send() resolves when written; a WebSocket's returns nothing.
      return Promise.resolve(
        typeof data === "string"
          ? ws.send(binary ? utf8.encode(data) : data)
          : ws.send(binary ? data : strictUtf8.decode(data)),
      ).then(ignore);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The application-level heartbeat's round trip (`appHeartbeat`); `data` cannot go in a browser's ping. */
  ping(data?: Uint8Array): Promise<number> {
    if (data !== undefined) {
      return Promise.reject(new TypeError("ping(data): a browser cannot send ping frames"));
    }
    if (this.#heartbeat !== undefined) return this.#heartbeat.ping();
    return Promise.reject(
      new TypeError(
        "ping(): a browser cannot send ping frames; set the appHeartbeat option to measure a round trip",
      ),
    );
  }

  /**
   * The closing handshake: the browser sends `code` if it may (1000, 3000-4999; other codes as
   * 1000), and the connection ends with the server's close, or after `closeTimeout`.
   */
  close(code?: number, reason?: string): Promise<CloseInfo> {
    this.#initiatedByUser = true;
    if (!this.#opened)
      this.#failHandshake(new AbortedError(new Error("closed before the handshake completed")));
    else if (this.#state === State.Open) {
      this.#state = State.Closing;
      const wire = browserCloseCode(code);
      this.#sent = { code: wire, reason: reason ?? "" };
      this.#ws?.close(wire, reason);
      this.#timer = this.#clock.setTimeout(() => this.#finish(1006, "", false), this.#o.closeTimeout);
    }
    return this.closed;
  }

  fail(error: Error, _reason?: string): void {
    if (this.#state === State.Open) this.#failWith(error);
  }

  /** A browser cannot send pong frames. */
  pong(_data?: Uint8Array): void {
    throw new TypeError("pong(): a browser cannot send pong frames");
  }

  terminate(error?: Error): void {
    this.#initiatedByUser = true;
    if (error !== undefined) this.#error ??= error;
    if (!this.#opened) this.#failHandshake(error ?? new AbortedError(new Error("terminated")));
    else {
      this.#ws?.close();
      this.#finish(1006, "", false);
    }
  }

  /**
   * The consumer is past `highWaterMark`: over a WebSocketStream, stop reading; over a WebSocket
   * (which keeps reading), count what arrives until it resumes.
   */
  pause(): void {
    this.#paused = true;
    // Only a StreamSocket: some stand-ins for WebSocket (`ws`) have a pause() of another meaning.
    if (this.#ws instanceof StreamSocket) this.#ws.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#behind = 0;
    if (this.#ws instanceof StreamSocket) this.#ws.resume();
  }

  #onOpen(ws: WebSocket): void {
    this.#clearTimer();
    this.#opened = true;
    this.#state = State.Open;
    // A browser exposes no status line or header of the 101: only the agreed subprotocol and extensions.
    const response: UpgradeResponse = {
      status: 101,
      statusText: "Switching Protocols",
      headers: {},
      rawHeaders: [],
      protocol: ws.protocol,
      extensions: ws.extensions,
    };
    this.#h.onConnect(this);
    this.#h.onOpen(this, response);
    this.#heartbeat?.start();
    this.#settleOpen(response);
  }

  /** Settled last, as the Node connection: the handlers saw the open before the awaiting attempt does. */
  #settleOpen(response: UpgradeResponse): void {
    const settle = this.#handshake;
    this.#handshake = undefined;
    settle?.resolve(response);
  }

  #onMessage(data: unknown): void {
    if (this.#state !== State.Open) return; // failing or closing: what still arrives is dropped
    const message: Message =
      typeof data === "string"
        ? data
        : this.#o.binaryType === "arraybuffer"
          ? (data as ArrayBuffer)
          : new Uint8Array(data as ArrayBuffer);
    if (this.#heartbeat?.received(message)) return;
    // textAs "bytes": the browser has decoded the text already; its bytes again, as on Node.
    if (typeof message === "string" && this.#o.textAs === "bytes") {
      this.#deliver(textBytes(utf8.encode(message)));
      return;
    }
    this.#deliver(message);
  }

  #deliver(message: Message): void {
    if (this.#paused) {
      this.#behind += sizeOf(message);
      const limit = this.#o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
      if (this.#behind > limit) {
        this.#failWith(new ReceiveBufferFullError(this.#behind, limit));
        return;
      }
    }
    this.#h.onMessage(message);
  }

  #onClose(code: number, reason: string, wasClean: boolean): void {
    if (!this.#opened) {
      this.#failHandshake(this.#error ?? new ConnectError(`Connection to ${this.#o.url.host} failed`));
      return;
    }
    this.#finish(code, reason, wasClean);
  }

  /** Fails the open connection from this side: the browser closes, and the connection ends at once. */
  #failWith(error: Error): void {
    this.#error ??= error;
    this.#h.onError(this, error);
    this.#sent = { code: 1000, reason: "" };
    this.#ws?.close(1000);
    this.#finish(1006, "", false);
  }

  /** The handshake failed: reject the attempt and end the connection. */
  #failHandshake(error: Error): void {
    if (this.#opened || this.#endInfo !== undefined) return;
    const settle = this.#handshake;
    this.#handshake = undefined;
    this.#error ??= error;
    this.#ws?.close();
    this.#finish(1006, "", false);
    settle?.reject(this.#error);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#endInfo !== undefined) return;
    this.#clearTimer();
    this.#state = State.Closed;
    const ws = this.#ws;
    if (ws !== undefined) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      // An error still to come (a close() while connecting) must find a listener: some WebSocket
      // implementations (`ws`) throw an error event nobody listens to.
      ws.onerror = ignore;
    }
    const clean = wasClean && this.#error === undefined;
    const info: CloseInfo = {
      code,
      reason,
      wasClean: clean,
      initiatedByUser: this.#initiatedByUser,
      sent: this.#sent,
      received: clean ? { code, reason } : undefined,
    };
    this.#endInfo = info;
    this.#heartbeat?.stop(new ConnectionClosedError(info, { cause: this.#error }));
    this.#resolveClosed?.(info);
    if (this.#opened) this.#h.onClose(this, info, this.#error);
  }
}
