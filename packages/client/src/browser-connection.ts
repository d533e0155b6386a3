/**
 * One connection over the platform's own `WebSocket` (browsers, workers, edge runtimes): the browser
 * runs the handshake, framing, masking and compression, so no parser of the core comes along. What
 * it cannot do is listed in docs/runtimes.md; here the two stand-ins: the application-level
 * heartbeat (app-heartbeat.ts) and a bound on what a slow consumer holds (`maxBufferedBytes`).
 */
import { InvalidStateError, State, type UpgradeResponse } from "@tideway/core";
import type { ConnectionHeartbeat } from "./app-heartbeat.js";
import type { ClientConnection, ConnectionHandlers } from "./client-connection.js";
import { systemClock, type TimerHandle } from "./clock.js";
import { connectionInfo, nextAttempt } from "./connection-info.js";
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
import { type StreamGlobals, StreamSocket } from "./stream-socket.js";
import { TextBytes, utf8 } from "./text-bytes.js";

/**
 * What the connection uses of a socket: a WebSocket's, or a StreamSocket's (stream-socket.ts), whose
 * `send()` resolves when written and whose reads wait for the promise `onmessage` returns.
 */
interface Socket {
  binaryType: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  onopen: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer | Uint8Array }) => void | PromiseLike<void>) | null;
  onclose: ((event: SocketClose) => void) | null;
  send(data: string | Uint8Array): unknown;
  close(code?: number, reason?: string): void;
}

/** A socket's close event, as far as read here. */
interface SocketClose {
  code: number;
  reason: string;
  wasClean: boolean;
}

type SocketConstructor = new (url: string, protocols: string[]) => Socket;

/** `fatal`: text sent from bytes must be valid UTF-8, as the core requires of the Node build. */
const strictUtf8 = new TextDecoder(undefined, { fatal: true });

export class BrowserConnection implements ClientConnection {
  state: State = State.Connecting;
  opened = false;
  ended: CloseInfo | undefined;
  /** The error that ends the connection: set once, by the first failure. */
  error: Error | undefined;
  /** An id per attempt; a browser's WebSocket tells no socket address. */
  readonly info = connectionInfo(nextAttempt());
  readonly #o: ResolvedOptions;
  readonly #h: ConnectionHandlers;
  readonly #heartbeat: ConnectionHeartbeat | undefined;
  #ws: Socket | undefined;
  /** While paused: settles on resume, and holds a StreamSocket's next read until then. */
  #resumed: Promise<void> | undefined;
  #resume: (() => void) | undefined;
  /** Bytes received while paused: what the consumer holds beyond `highWaterMark`. */
  #behind = 0;
  #initiatedByUser = false;
  #sent: CloseInfo["sent"];
  /** The handshake timeout, then the close timeout. */
  #timer: TimerHandle | undefined;
  /** The attempt awaiting the handshake settles through these. */
  #opens: ((response: UpgradeResponse) => void) | undefined;
  #fails: ((error: Error) => void) | undefined;
  #resolveClosed!: (info: CloseInfo) => void;
  readonly closed = new Promise<CloseInfo>((resolve) => {
    this.#resolveClosed = resolve;
  });

  constructor(o: ResolvedOptions, handlers: ConnectionHandlers) {
    this.#o = o;
    this.#h = handlers;
    this.#heartbeat = o.appHeartbeat?.(
      systemClock,
      (message) => this.#ws?.send(message),
      (error) => this.#failWith(error),
    );
  }

  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }
  get latency(): number | undefined {
    return this.#heartbeat?.latency;
  }

  /**
   * Opens the browser's WebSocket. Rejects with a ConnectError when it fails before opening (the
   * browser does not say why: refused, TLS, or an HTTP answer other than 101), a HandshakeTimeoutError
   * after `handshakeTimeout`, or an AbortedError.
   */
  open(signal?: AbortSignal): Promise<UpgradeResponse> {
    const o = this.#o;
    // A browser does not say why (refused, TLS, an answer other than 101): docs/runtimes.md.
    const failed = (detail = "", options?: { cause: unknown }) =>
      new ConnectError(`Connection to ${o.url.host} failed${detail}`, options);
    const onAbort = () => this.#finish(new AbortedError(signal?.reason));
    return new Promise<UpgradeResponse>((resolve, reject) => {
      this.#opens = resolve;
      this.#fails = reject;
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort);
      const timeout = o.handshakeTimeout;
      this.#timer = systemClock.setTimeout(() => this.#finish(new HandshakeTimeoutError(timeout)), timeout);
      try {
        // Over WebSocketStream where the runtime has it (Chromium): reads that stop, writes that are awaited.
        const WebSocket = ((globalThis as StreamGlobals).WebSocketStream
          ? StreamSocket
          : globalThis.WebSocket) as unknown as SocketConstructor;
        const ws = (this.#ws = new WebSocket(o.href, o.protocols as string[]));
        ws.binaryType = "arraybuffer";
        ws.onopen = () => this.#onOpen();
        // An error event says nothing the close event after it does not: before open, that the
        // attempt failed; after, the close code decides a reconnect. So none is listened to.
        ws.onmessage = (event) => this.#onMessage(event.data);
        ws.onclose = (event) => this.#finish(this.opened ? undefined : failed(), event);
      } catch (err) {
        this.#finish(failed(`: ${String(err)}`, { cause: err }));
      }
    }).finally(() => signal?.removeEventListener("abort", onAbort));
  }

  /**
   * Sends one message; resolves once the browser has it (a browser reports no write completion).
   * Rejects with InvalidStateError unless open, TypeError for text bytes that are not UTF-8.
   */
  async send(data: string | Uint8Array, binary: boolean): Promise<void> {
    if (this.state !== State.Open) throw new InvalidStateError("cannot send: the connection is not open");
    // A StreamSocket's send() resolves when written; a WebSocket's returns nothing.
    await (this.#ws as Socket).send(
      typeof data === "string"
        ? binary
          ? utf8.encode(data)
          : data
        : binary
          ? data
          : strictUtf8.decode(data),
    );
  }

  /** The application-level heartbeat's round trip (`appHeartbeat`); `data` cannot go in a browser's ping. */
  async ping(data?: Uint8Array): Promise<number> {
    if (data === undefined && this.#heartbeat) return this.#heartbeat.ping();
    throw new TypeError("ping() is not available in a browser without appHeartbeat, or with data");
  }

  /**
   * The closing handshake: the browser sends `code` if it may (1000, 3000-4999; other codes as
   * 1000), and the connection ends with the server's close, or after `closeTimeout`. Before open, as
   * terminate().
   */
  close(code = 1000, reason?: string): Promise<CloseInfo> {
    this.#initiatedByUser = true;
    if (!this.opened) this.terminate();
    else if (this.state === State.Open) {
      this.state = State.Closing;
      // The codes a browser's close() accepts (WHATWG WebSockets).
      const wire = code >= 3000 && code <= 4999 ? code : 1000;
      this.#sent = { code: wire, reason: reason ?? "" };
      this.#ws?.close(wire, reason);
      this.#timer = systemClock.setTimeout(() => this.#finish(), this.#o.closeTimeout);
    }
    return this.closed;
  }

  fail(error: Error, _reason?: string): void {
    if (this.state === State.Open) this.#failWith(error);
  }

  /** A browser cannot send pong frames. */
  pong(_data?: Uint8Array): void {
    throw new TypeError("pong() is not available in a browser");
  }

  terminate(error?: Error): void {
    this.#initiatedByUser = true;
    this.#finish(error ?? (this.opened ? undefined : new AbortedError(new Error("terminated"))));
  }

  /**
   * The consumer is past `highWaterMark`: over a WebSocketStream, stop reading; over a WebSocket
   * (which keeps reading), count what arrives until it resumes.
   */
  pause(): void {
    this.#resumed ??= new Promise((resolve) => {
      this.#resume = resolve;
    });
  }

  resume(): void {
    this.#resume?.();
    this.#resumed = undefined;
    this.#behind = 0;
  }

  #onOpen(): void {
    const ws = this.#ws as Socket;
    // A socket closed while connecting may still open: the connection ended, it stays so.
    if (this.ended) return;
    systemClock.clearTimeout(this.#timer);
    this.opened = true;
    this.state = State.Open;
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
    // Settled last, as the Node connection: the handlers saw the open before the awaiting attempt does.
    this.#opens?.(response);
  }

  /** Returns what holds a StreamSocket's next read: the promise of the resume, while paused. */
  #onMessage(data: string | ArrayBuffer | Uint8Array): Promise<void> | undefined {
    if (this.state !== State.Open) return; // failing or closing: what still arrives is dropped
    const o = this.#o;
    // A WebSocket gives an ArrayBuffer (viewed, not copied); a StreamSocket bytes, copied for an ArrayBuffer.
    let message: Message =
      typeof data === "string"
        ? data
        : o.binaryType === "arraybuffer"
          ? (new Uint8Array(data).buffer as ArrayBuffer)
          : new Uint8Array(data);
    if (this.#heartbeat?.received(message)) return;
    // textAs "bytes": the browser has decoded the text already; its bytes again, as on Node.
    if (typeof message === "string" && o.textAs === "bytes") {
      message = new TextBytes(utf8.encode(message).buffer as ArrayBuffer);
    }
    const limit = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    // While paused, what arrives is counted: text by its length, bytes by their byteLength (an
    // ArrayBuffer has no length); past the limit, the connection fails instead of holding more.
    if (
      this.#resumed &&
      (this.#behind += (message as Uint8Array).length ?? (message as ArrayBuffer).byteLength) > limit
    ) {
      this.#failWith(new ReceiveBufferFullError(this.#behind, limit));
    } else {
      this.#h.onMessage(message);
      return this.#resumed;
    }
  }

  /** Fails the open connection from this side: the browser closes, and the connection ends at once. */
  #failWith(error: Error): void {
    this.error ??= error;
    this.#h.onError(this, error);
    this.#sent = { code: 1000, reason: "" };
    this.#finish();
  }

  /**
   * Ends the connection now: `error`, if any, is why (the first one kept); before open, the attempt
   * fails. The socket closes with the code sent, if any, or stops connecting (a no-op once closed).
   */
  #finish(
    error?: Error,
    { code, reason, wasClean }: SocketClose = { code: 1006, reason: "", wasClean: false },
  ): void {
    const cause = (this.error ??= error);
    if (this.ended) return;
    this.#ws?.close(this.#sent?.code, this.#sent?.reason);
    systemClock.clearTimeout(this.#timer);
    this.state = State.Closed;
    const clean = wasClean && cause === undefined;
    const info: CloseInfo = (this.ended = {
      code,
      reason,
      wasClean: clean,
      initiatedByUser: this.#initiatedByUser,
      sent: this.#sent,
      received: clean ? { code, reason } : undefined,
    });
    this.#heartbeat?.stop(new ConnectionClosedError(info, { cause }));
    this.#resolveClosed(info);
    if (this.opened) this.#h.onClose(this, info, cause);
    else this.#fails?.(cause as Error);
  }
}
