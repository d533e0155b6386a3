/**
 * The WHATWG `WebSocket` interface over a {@link WebSocketClient}, for libraries that take a WebSocket
 * implementation (graphql-ws `webSocketImpl`, y-websocket `WebSocketPolyfill`, Apollo...). Built on
 * the client's public API only: this module maps its events and promises to the browser's attributes
 * and events, and owns the rules the WHATWG standard adds (its exceptions, `binaryType`, `on*`).
 */
import { type ReadyState, WebSocketClient } from "./client.js";
import { type CloseInfo, SendQueueFullError } from "./errors.js";
import type { WebSocketClientOptions } from "./options.js";

/**
 * The options of {@link WebSocket}: those of {@link WebSocketClientOptions}, except what the WHATWG
 * interface sets itself (`protocols` is the constructor's second argument, `binaryType` an attribute).
 */
export interface WebSocketOptions
  extends Omit<WebSocketClientOptions, "protocols" | "binaryType" | "reconnect"> {
  /**
   * Default `false`: one connection per socket, as the WHATWG WebSocket, and libraries that reconnect
   * by creating a new socket expect. `true` (the client's defaults) or reconnect options: the socket
   * outlives its connections (docs/client.md, "WebSocket-compatible facade").
   */
  reconnect?: Exclude<WebSocketClientOptions["reconnect"], false | undefined> | boolean;
}

/** What a message event's `data` holds for binary messages (text is always a string). */
export type WebSocketBinaryType = "blob" | "arraybuffer";

/** The `close` event: the close code and reason received, and whether the closing handshake completed. */
interface CloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** The `error` event; `error` is the Tideway error behind it (a plain `Event` in browsers). */
interface ErrorEvent extends Event {
  readonly error: unknown;
  readonly message: string;
}

/** The events of {@link WebSocket}, for typed `addEventListener` and `on*` handlers. */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: ErrorEvent;
  close: CloseEvent;
}

type Handler<K extends keyof WebSocketEventMap> =
  | ((this: WebSocket, event: WebSocketEventMap[K]) => unknown)
  | null;

/** Node's types keep these DOM names module-private: taken from the global EventTarget and Event instead. */
type Listener = Parameters<EventTarget["addEventListener"]>[1];
type AddListenerOptions = Parameters<EventTarget["addEventListener"]>[2];
type RemoveListenerOptions = Parameters<EventTarget["removeEventListener"]>[2];
type EventInit = NonNullable<ConstructorParameters<typeof Event>[1]>;

interface CloseEventInit extends EventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/** Node 20 has no global CloseEvent (Node 23 does): a minimal one, as the WHATWG standard defines it. */
class FallbackCloseEvent extends Event implements CloseEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? "";
    this.wasClean = init.wasClean ?? false;
  }
}

/** The runtime's CloseEvent or our own, looked up when a facade closes, not at load (so bundles can drop it). */
function closeEvent(init: CloseEventInit): CloseEvent {
  const Native = (globalThis as { CloseEvent?: new (type: string, init: CloseEventInit) => CloseEvent })
    .CloseEvent;
  return Native !== undefined ? new Native("close", init) : new FallbackCloseEvent("close", init);
}

/** Node has no global ErrorEvent; undici's WebSocket dispatches one with the same two fields. */
class WebSocketErrorEvent extends Event implements ErrorEvent {
  readonly error: unknown;
  readonly message: string;
  constructor(error: unknown) {
    super("error");
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

// Literals typed as ReadyState's: a bundler keeps a read of ReadyState (it may run a getter) even unused.
const CONNECTING: typeof ReadyState.CONNECTING = 0;
const OPEN: typeof ReadyState.OPEN = 1;
const CLOSING: typeof ReadyState.CLOSING = 2;
const CLOSED: typeof ReadyState.CLOSED = 3;

/** RFC 6455 section 5.5: a close frame's body is at most 125 bytes, 2 of them the code. */
const MAX_REASON_BYTES = 123;

/** WebIDL `[Clamp] unsigned short`, the type of close()'s code. */
function clampUnsignedShort(value: number): number {
  const n = Number(value);
  if (Number.isNaN(n)) return 0;
  const clamped = Math.min(Math.max(n, 0), 0xffff);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  // Rounds half to even, as WebIDL does.
  return fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
}

type Sendable = string | ArrayBuffer | ArrayBufferView | Blob;

/**
 * UTF-8 length of a string without encoding it (no `Buffer`: this module runs in browsers too). A
 * lone surrogate counts 3 bytes, as U+FFFD, which is what gets sent.
 */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a surrogate pair: 2 code units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Byte length of what send() got; strings count in UTF-8, as the standard's bufferedAmount does. */
function byteLength(data: string | Uint8Array | Blob): number {
  if (typeof data === "string") return utf8Length(data);
  return data instanceof Blob ? data.size : data.byteLength;
}

/** send()'s argument as text, bytes or a Blob (read later); other values become strings, as WebIDL converts them. */
function toPayload(data: Sendable): string | Uint8Array | Blob {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Blob) return data;
  return String(data);
}

const noop = () => {};

/**
 * A WebSocket with the WHATWG interface (`addEventListener`, `onopen`/`onmessage`/`onerror`/`onclose`,
 * `readyState`, `bufferedAmount`, `binaryType`, `protocol`, `extensions`, `send`, `close`) running on a
 * {@link WebSocketClient}: proxies, TLS options, headers, heartbeat and permessage-deflate included.
 * Pass the class where a library takes a WebSocket implementation, or {@link webSocketClass} to give
 * it Tideway options.
 *
 * By default a socket is one connection, as in browsers: `close` is its last event. With the
 * `reconnect` option it outlives its connections: `close` reports each connection that ended, then
 * `readyState` goes back to CONNECTING and `open` fires again on each reconnect; sends made while
 * disconnected wait in the client's queue.
 */
export class WebSocket extends EventTarget {
  /** `readyState` before the handshake completes (0). Libraries read these on the class. */
  static readonly CONNECTING = CONNECTING;
  /** `readyState` once open (1). */
  static readonly OPEN = OPEN;
  /** `readyState` once close() was called (2). */
  static readonly CLOSING = CLOSING;
  /** `readyState` from the close event on (3). */
  static readonly CLOSED = CLOSED;

  readonly #client: WebSocketClient;
  readonly #reconnects: boolean;
  readonly #origin: string;
  #readyState: ReadyState = CONNECTING;
  #binaryType: WebSocketBinaryType = "blob";
  #protocol = "";
  #extensions = "";
  /** close() was called: the socket never opens or reconnects again. */
  #closeCalled = false;
  /** An `error` event was dispatched for the current attempt or connection. */
  #errorDispatched = false;
  /** A client.connect() promise is watched: its rejection means the client gave up. */
  #watching = false;
  /** Bytes passed to send() once closing or closed: the standard still counts them in bufferedAmount. */
  #discardedBytes = 0;
  /** Sends behind a Blob being read, in order, and their bytes. */
  #pending: (string | Uint8Array | Blob)[] | undefined;
  #pendingBytes = 0;
  readonly #handlers = new Map<
    string,
    { handler: (event: Event) => unknown; listener: (event: Event) => void }
  >();

  /**
   * Opens a connection to `url` (`ws:`, `wss:`, `http:` or `https:`) offering `protocols`. Throws a
   * `SyntaxError` DOMException for an invalid URL or subprotocol list, as browsers do; a TypeError for
   * invalid `options`.
   */
  constructor(url: string | URL, protocols?: string | readonly string[], options: WebSocketOptions = {}) {
    super();
    const offered =
      protocols === undefined ? [] : typeof protocols === "string" ? [protocols] : [...protocols];
    const reconnect = options.reconnect === true ? {} : (options.reconnect ?? false);
    try {
      this.#client = new WebSocketClient(url, { ...options, reconnect, protocols: offered });
    } catch (err) {
      throw whatwgConstructorError(err, url, offered);
    }
    this.#reconnects = reconnect !== false;
    this.#origin = new URL(this.#client.url).origin;
    const client = this.#client;
    client.on("open", (response) => this.#opened(response.protocol, response.extensions));
    client.on("message", (data) => this.#received(data));
    client.on("error", (error) => this.#failed(error));
    client.on("close", (info) => this.#closed(info));
    client.on("reconnecting", () => this.#reconnecting());
    this.#watch();
  }

  /** {@link WebSocket.CONNECTING}, on instances too, as the standard has it. */
  get CONNECTING(): typeof CONNECTING {
    return CONNECTING;
  }
  /** {@link WebSocket.OPEN}. */
  get OPEN(): typeof OPEN {
    return OPEN;
  }
  /** {@link WebSocket.CLOSING}. */
  get CLOSING(): typeof CLOSING {
    return CLOSING;
  }
  /** {@link WebSocket.CLOSED}. */
  get CLOSED(): typeof CLOSED {
    return CLOSED;
  }

  /** The URL, with http(s) mapped to ws(s). */
  get url(): string {
    return this.#client.url;
  }
  /** CONNECTING, OPEN, CLOSING or CLOSED: this socket's own state (see the class comment for reconnecting). */
  get readyState(): ReadyState {
    return this.#readyState;
  }
  /**
   * Bytes given to send() not yet handed to the OS: the client's queue and socket buffer, Blobs being
   * read, and (as the standard says) everything sent once the socket was closing or closed.
   */
  get bufferedAmount(): number {
    return this.#client.bufferedAmount + this.#pendingBytes + this.#discardedBytes;
  }
  /** The subprotocol the server selected, or "" (until open too). */
  get protocol(): string {
    return this.#protocol;
  }
  /** The extensions the server accepted (`permessage-deflate; ...`), or "". */
  get extensions(): string {
    return this.#extensions;
  }
  /** How binary messages arrive in `MessageEvent.data`: "blob" (the default) or "arraybuffer". Other values are ignored. */
  get binaryType(): WebSocketBinaryType {
    return this.#binaryType;
  }
  /** Sets how later binary messages are delivered: "blob" or "arraybuffer"; other values are ignored. */
  set binaryType(value: WebSocketBinaryType) {
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  /** The `open` event handler: one listener, kept in the place it was first set; null removes it. */
  get onopen(): Handler<"open"> {
    return this.#handler("open");
  }
  /** Replaces the `open` handler (`null` removes it); listeners added with addEventListener stay. */
  set onopen(handler: Handler<"open">) {
    this.#setHandler("open", handler);
  }
  /** The `message` event handler (see {@link WebSocket.onopen}). */
  get onmessage(): Handler<"message"> {
    return this.#handler("message");
  }
  /** Replaces the `message` handler (`null` removes it); listeners added with addEventListener stay. */
  set onmessage(handler: Handler<"message">) {
    this.#setHandler("message", handler);
  }
  /** The `error` event handler (see {@link WebSocket.onopen}). */
  get onerror(): Handler<"error"> {
    return this.#handler("error");
  }
  /** Replaces the `error` handler (`null` removes it); listeners added with addEventListener stay. */
  set onerror(handler: Handler<"error">) {
    this.#setHandler("error", handler);
  }
  /** The `close` event handler (see {@link WebSocket.onopen}). */
  get onclose(): Handler<"close"> {
    return this.#handler("close");
  }
  /** Replaces the `close` handler (`null` removes it); listeners added with addEventListener stay. */
  set onclose(handler: Handler<"close">) {
    this.#setHandler("close", handler);
  }

  /**
   * Sends text (a string) or binary (ArrayBuffer, a view, a Blob). Throws an `InvalidStateError`
   * DOMException while CONNECTING (unless reconnecting: then it queues). Once closing or closed the
   * data is dropped and counted in `bufferedAmount`, as the standard says. A failed send surfaces as
   * the connection's `close` event, as in browsers.
   */
  send(data: Sendable): void {
    const payload = toPayload(data);
    if (this.#readyState === CONNECTING && !this.#reconnects) {
      throw new DOMException(
        "send() before the connection is open (readyState CONNECTING)",
        "InvalidStateError",
      );
    }
    if (
      this.#closeCalled ||
      (this.#reconnects ? this.#client.readyState === CLOSED : this.#readyState !== OPEN)
    ) {
      this.#discardedBytes += byteLength(payload);
      return;
    }
    if (this.#pending !== undefined || payload instanceof Blob) this.#enqueue(payload);
    else this.#write(payload);
  }

  /**
   * Starts the closing handshake (or abandons connecting). `code` must be 1000 or 3000-4999
   * (`InvalidAccessError` otherwise), `reason` at most 123 bytes of UTF-8 (`SyntaxError`). Without a
   * code the client sends 1000.
   */
  close(code?: number, reason?: string): void {
    let closeCode: number | undefined;
    if (code !== undefined) {
      closeCode = clampUnsignedShort(code);
      if (closeCode !== 1000 && !(closeCode >= 3000 && closeCode <= 4999)) {
        throw new DOMException(
          `close code ${closeCode} is neither 1000 nor in 3000-4999`,
          "InvalidAccessError",
        );
      }
    }
    const closeReason = reason === undefined ? "" : String(reason);
    if (utf8Length(closeReason) > MAX_REASON_BYTES) {
      throw new DOMException(`close reason longer than ${MAX_REASON_BYTES} bytes of UTF-8`, "SyntaxError");
    }
    if (this.#closeCalled) return;
    this.#closeCalled = true;
    if (this.#readyState === CLOSED) {
      // A reconnecting socket between connections (its close event was dispatched): stop the client.
      if (this.#reconnects && this.#client.readyState !== CLOSED) this.#client.terminate();
      return;
    }
    const wasOpen = this.#readyState === OPEN;
    this.#readyState = CLOSING;
    // Connecting: the client aborts, connect() rejects and #gaveUp dispatches error and close.
    const closing = wasOpen ? this.#client.close(closeCode ?? 1000, closeReason) : this.#client.close();
    closing.catch(noop);
  }

  /** EventTarget's, typed by {@link WebSocketEventMap}; a null listener is ignored without Node's warning. */
  override addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: ((this: WebSocket, event: WebSocketEventMap[K]) => unknown) | null,
    options?: AddListenerOptions,
  ): void;
  override addEventListener(type: string, listener: Listener | null, options?: AddListenerOptions): void;
  override addEventListener(type: string, listener: Listener | null, options?: AddListenerOptions): void {
    if (listener !== null) super.addEventListener(type, listener, options);
  }

  /** EventTarget's, typed by {@link WebSocketEventMap}. */
  override removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: ((this: WebSocket, event: WebSocketEventMap[K]) => unknown) | null,
    options?: RemoveListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: RemoveListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | null,
    options?: RemoveListenerOptions,
  ): void {
    if (listener !== null) super.removeEventListener(type, listener, options);
  }

  // --- internals -----------------------------------------------------------------------------

  #handler<K extends keyof WebSocketEventMap>(type: K): Handler<K> {
    return (this.#handlers.get(type)?.handler as Handler<K> | undefined) ?? null;
  }

  /**
   * An `on*` handler is one listener, added where it was first set and kept there when replaced;
   * null (or anything but a function) removes it (HTML, "event handler attributes").
   */
  #setHandler<K extends keyof WebSocketEventMap>(type: K, handler: Handler<K>): void {
    const slot = this.#handlers.get(type);
    if (typeof handler !== "function") {
      if (slot !== undefined) {
        this.#handlers.delete(type);
        super.removeEventListener(type, slot.listener);
      }
      return;
    }
    const callable = handler as (event: Event) => unknown;
    if (slot !== undefined) {
      slot.handler = callable;
      return;
    }
    const created = {
      handler: callable,
      listener: (event: Event) => {
        created.handler.call(this, event);
      },
    };
    this.#handlers.set(type, created);
    super.addEventListener(type, created.listener);
  }

  /** Watches a connect(): it rejects when the client gives up (or close() aborts it) before opening. */
  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#client.connect().then(
      () => {
        this.#watching = false;
      },
      (error: unknown) => {
        this.#watching = false;
        this.#gaveUp(error);
      },
    );
  }

  #opened(protocol: string, extensions: string): void {
    if (this.#readyState !== CONNECTING) return;
    this.#protocol = protocol;
    this.#extensions = extensions;
    this.#readyState = OPEN;
    this.#errorDispatched = false;
    this.dispatchEvent(new Event("open"));
  }

  #received(data: string | ArrayBuffer | ArrayBufferView): void {
    // "If ready state is not OPEN (1), then return" (WHATWG WebSockets, "a WebSocket message has been received").
    if (this.#readyState !== OPEN) return;
    let value: string | ArrayBuffer | Blob;
    if (typeof data === "string") value = data;
    else {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      value =
        this.#binaryType === "blob" ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : exactArrayBuffer(bytes);
    }
    this.dispatchEvent(new MessageEvent("message", { data: value, origin: this.#origin }));
  }

  /**
   * The client reports a failure: a failed attempt, or a connection failing (heartbeat, protocol
   * error) before its close. Its report of an abnormal close comes after the close event: ignored,
   * as the standard fires `error` only when the connection was failed, not for a lost transport.
   */
  #failed(error: unknown): void {
    if (this.#readyState === CLOSED || this.#errorDispatched) return;
    this.#errorDispatched = true;
    this.dispatchEvent(new WebSocketErrorEvent(error));
  }

  #closed(info: CloseInfo): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.dispatchEvent(closeEvent({ code: info.code, reason: info.reason, wasClean: info.wasClean }));
  }

  /** The client will try again: a reconnecting socket is CONNECTING again, one error per attempt. */
  #reconnecting(): void {
    if (this.#closeCalled) return;
    this.#readyState = CONNECTING;
    this.#errorDispatched = false;
    this.#watch();
  }

  /** Connecting ended without a connection (the client gave up, or close() abandoned it). */
  #gaveUp(error: unknown): void {
    if (this.#readyState === CLOSED || this.#readyState === OPEN) return;
    // "Fail the WebSocket connection": error, then close with 1006.
    this.#failed(error);
    this.#closed({
      code: 1006,
      reason: "",
      wasClean: false,
      initiatedByUser: this.#closeCalled,
      sent: undefined,
      received: undefined,
    });
  }

  #write(payload: string | Uint8Array): void {
    // A failed send ends the connection, which the close event reports; a full queue (reconnecting,
    // while disconnected) drops the message, which only an error event can tell.
    this.#client.send(payload).catch((error: unknown) => {
      if (error instanceof SendQueueFullError) this.dispatchEvent(new WebSocketErrorEvent(error));
    });
  }

  /** A Blob is read asynchronously: it and every send after it wait their turn. */
  #enqueue(payload: string | Uint8Array | Blob): void {
    const size = byteLength(payload);
    this.#pendingBytes += size;
    if (this.#pending !== undefined) {
      this.#pending.push(payload);
      return;
    }
    this.#pending = [payload];
    void this.#drain();
  }

  async #drain(): Promise<void> {
    const pending = this.#pending as (string | Uint8Array | Blob)[];
    while (pending.length > 0) {
      const item = pending[0] as string | Uint8Array | Blob;
      let bytes: string | Uint8Array | undefined;
      try {
        bytes = item instanceof Blob ? new Uint8Array(await item.arrayBuffer()) : item;
      } catch {
        bytes = undefined; // an unreadable Blob: nothing to send; the rest keeps its order
      }
      pending.shift();
      this.#pendingBytes -= byteLength(item);
      if (bytes !== undefined) this.#write(bytes);
    }
    this.#pending = undefined;
  }
}

/** An ArrayBuffer holding exactly these bytes: the view's own buffer when it spans all of it. */
function exactArrayBuffer(bytes: ArrayBufferView): ArrayBuffer {
  const buffer = bytes.buffer;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) {
    return buffer;
  }
  return new Uint8Array(buffer, bytes.byteOffset, bytes.byteLength).slice().buffer;
}

/**
 * The constructor's failures, as browsers report them: a URL or subprotocol list the client refuses is
 * a SyntaxError DOMException. Which argument was at fault is found by trying them alone (a client
 * builds nothing until connect()), so the rules stay the client's.
 */
function whatwgConstructorError(err: unknown, url: string | URL, protocols: string[]): unknown {
  if (!(err instanceof TypeError)) return err;
  try {
    new WebSocketClient(url, { protocols, proxy: false });
  } catch (own) {
    const message = own instanceof Error ? own.message : String(own);
    return Object.assign(new DOMException(message, "SyntaxError"), { cause: own });
  }
  return err;
}

/**
 * A {@link WebSocket} class whose sockets use these Tideway options, for libraries that construct
 * sockets themselves: `createClient({ webSocketImpl: webSocketClass({ headers }) })` (graphql-ws),
 * `new WebsocketProvider(url, room, doc, { WebSocketPolyfill: webSocketClass(options) })` (y-websocket).
 * A third constructor argument still adds to (and overrides) them.
 */
export function webSocketClass(options: WebSocketOptions): typeof WebSocket {
  return class ConfiguredWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | readonly string[], more?: WebSocketOptions) {
      super(url, protocols, more === undefined ? options : { ...options, ...more });
    }
  };
}
