/**
 * The public client: typed events, `await connect()`, `for await` over messages across reconnects,
 * `send()` with a bounded queue while disconnected, heartbeat and the reconnect loop. One
 * {@link Connection} per attempt; this module holds what outlives connections (the message queue,
 * the send queue, the policy).
 */
import { Buffer } from "node:buffer";
import { ClientProtocol, CloseCode, InvalidStateError, State, type UpgradeResponse } from "@tideway/core";
import { EventEmitter } from "eventemitter3";
import { Connection, type ConnectionHandlers, protocolOptions } from "./connection.js";
import { AbortedError, type CloseInfo, ConnectionClosedError, SendQueueFullError } from "./errors.js";
import type { ClientEvents, EmittedEvents, Message } from "./events.js";
import { MessageQueue } from "./message-queue.js";
import {
  type BinaryType,
  type ResolvedOptions,
  resolveOptions,
  type WebSocketClientOptions,
} from "./options.js";
import { computeDelay, isRetryable, type RetryInfo, runWithReconnect } from "./reconnect.js";
import { type Hop, nextHop, redirectInfo } from "./redirect.js";

/** `readyState` values, as the WHATWG WebSocket. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** What `send()` accepts: text, or bytes in any form (sent as binary unless `{ binary: false }`). */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/** The options of {@link WebSocketClient.send}. */
export interface SendOptions {
  /** Force the frame type: `true` sends a string as binary (UTF-8); `false` sends bytes as text (must be UTF-8). */
  binary?: boolean;
}

/**
 * A connection that stayed open this long resets the backoff: the next drop reconnects at once.
 * Shorter-lived connections (a server accepting then kicking the client) keep backing off, so a
 * flapping server is not hammered.
 */
export const STABLE_CONNECTION_MS = 5_000;

interface QueuedSend {
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  readonly size: number;
  resolve(): void;
  reject(error: unknown): void;
}

/** Close codes that end the iterator without an error. */
const NORMAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Normal,
  CloseCode.GoingAway,
  CloseCode.NoStatusReceived,
]);

type Status = "idle" | "connecting" | "open" | "closing" | "closed";

/**
 * What ties one connection to its client: its handlers, and the run state that must outlive the
 * attempt that opened it (there is no suspended loop holding it, see #outage).
 */
interface Link extends ConnectionHandlers {
  /** Set right after the connection is built; compared in onClose with the client's current one. */
  conn: Connection | undefined;
  /** onError ran: the attempt's failure was already emitted. */
  errorEmitted: boolean;
  /** The run (its number) that adopted the open connection (#adopt); until then -1. */
  run: number;
  /** Short-lived connections in a row before this one, for the backoff. */
  shortLived: number;
  openedAt: number;
  /** How the connection ended, once onClose ran. */
  ended: CloseInfo | undefined;
}

/** The connection handlers of a client, defined inside the class (static block) to reach its private state. */
let ClientHandlers: new (client: WebSocketClient<BinaryType>) => Link;

/** #running: no run, a run going on, or a run that died of an unexpected error (as a rejected loop did). */
const IDLE = 0;
const RUNNING = 1;
const BROKEN = 2;

/** Thrown inside the loop when `reconnect()` interrupts an outage: start over after its delay. */
const FORCED = Symbol("forced reconnect");

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections are for whoever awaits; none is an unhandled one
  return { promise, resolve, reject };
}

function rethrowAsync(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

/** Close codes an application may send: RFC 6455 7.4.1 codes allowed on the wire, and 3000-4999. */
function checkCloseArgs(code: number | undefined, reason: string | undefined): void {
  if (code !== undefined) {
    const wire = code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
    if (!Number.isInteger(code) || !(wire || (code >= 3000 && code <= 4999))) {
      throw new RangeError(`Invalid close code ${code}: use 1000, 1001-1014 (not 1004-1006) or 3000-4999`);
    }
  }
  if (reason !== undefined && Buffer.byteLength(reason, "utf8") > 123) {
    throw new RangeError("A close reason is at most 123 bytes of UTF-8 (RFC 6455 section 5.5)");
  }
}

function toPayload(data: SendData): Uint8Array | string {
  if (typeof data === "string") return data;
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("send() accepts a string, an ArrayBuffer or an ArrayBufferView");
}

/** Size of a received message for the water marks: bytes for binary, code units for text. */
function messageSize(m: Message): number {
  return typeof m === "string" ? m.length : m.byteLength;
}

/**
 * A WebSocket client over Node net/tls that reconnects, keeps the connection alive and buffers
 * sends while disconnected.
 *
 * Delivery rule: a message goes to the "message" listeners at once. It is ALSO queued for the async
 * iterator when no "message" listener is registered (so nothing is lost between `connect()`
 * resolving and a `for await` starting), or while an iterator is active (created and not yet
 * returned). So users who only listen to "message" never fill a queue, and a `for await` sees every
 * message once, in order, across reconnects. A queue over `highWaterMark` pauses reading.
 *
 * First connect: `connect()` follows the reconnect policy too. Failures `shouldReconnect` accepts
 * (refused, 5xx, timeouts) are retried with backoff ("reconnecting" events); `connect()` rejects with
 * the first refused failure (401, 404, TLS...), when `retries` are spent, on `close()` or on abort.
 * Pass `reconnect: false` (or `retries: 0`) to fail on the first error.
 */
export class WebSocketClient<B extends BinaryType = "uint8array">
  extends EventEmitter<ClientEvents<B>>
  implements AsyncIterable<Message<B>>
{
  readonly #o: ResolvedOptions;
  #status: Status = "idle";
  #conn: Connection | undefined;
  /** The current connection accepts sends directly (from its open until its end). */
  #writable = false;
  /** The current connection is open and its onOpen ran: connect() resolves at once. */
  #ready = false;
  #response: UpgradeResponse | undefined;
  #latency: number | undefined;
  /**
   * Made on first use (a message with no "message" listener, an iterator): a client driven by
   * listeners never has one, which with its callbacks was 0.35 KiB per idle connection (2000 idle clients).
   */
  #queue: MessageQueue<Message> | undefined;
  /** How the run ended while there was no queue: a queue made later starts ended that way. */
  #queueEnd: { error: unknown } | undefined;
  #iterators = 0;
  /** Sends waiting for a connection; made by the first one (an empty array is 32 B per idle connection). */
  #sendQueue: QueuedSend[] | undefined;
  #queuedBytes = 0;
  /**
   * The current run's number (a restart starts the next one) and its stop flag, which close() and
   * terminate() set: two fields rather than a flag object per run (32 B per idle connection).
   */
  #run = 0;
  #stopped = false;
  /**
   * Aborts what is in flight (a backoff wait, an attempt): close() and terminate() abort it for good,
   * reconnect() for this outage only. Made only while connecting and dropped once open, instead of two
   * AbortControllers and an AbortSignal.any per client (~1.2 KiB of each idle connection's heap,
   * bench idle-2000).
   */
  #inFlight: AbortController | undefined;
  #forcedDelay: number | undefined;
  #userClosed = false;
  /** What connect() returns while connecting; made only when someone calls connect(). */
  #nextOpen: ReturnType<typeof deferred<UpgradeResponse>> | undefined;
  /** IDLE, RUNNING or BROKEN: a run is the connect / wait / reconnect cycle from #start to #finish. */
  #running: number = IDLE;
  /** Settled by #finish for a close() waiting for the run to end; made only then. */
  #runEnded: ReturnType<typeof deferred<void>> | undefined;
  #closing: Promise<void> | undefined;
  /**
   * The ClientProtocol the constructor built to validate the options, kept for the first connection:
   * building a second one was 2% of a connect + close cycle (bench `handshakes`).
   */
  #spare: ClientProtocol | undefined;

  constructor(url: string | URL, options: WebSocketClientOptions<B> = {}) {
    super();
    this.#o = resolveOptions(url, options);
    try {
      // Validates what the core owns (headers it forbids, subprotocol tokens, limits) now, not at connect.
      this.#spare = new ClientProtocol(protocolOptions(this.#o));
    } catch (err) {
      if (err instanceof TypeError) throw err;
      throw new TypeError(err instanceof Error ? err.message : String(err), { cause: err });
    }
    const signal = this.#o.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#abort(signal.reason);
      else signal.addEventListener("abort", () => this.#abort(signal.reason), { once: true });
    }
  }

  /** The URL, with http(s) mapped to ws(s). */
  get url(): string {
    return this.#o.href;
  }
  /** The WHATWG `readyState` of the current connection ({@link ReadyState}). */
  get readyState(): ReadyState {
    switch (this.#status) {
      case "open":
        return this.#conn?.state === State.Open ? ReadyState.OPEN : ReadyState.CONNECTING;
      case "closing":
        return ReadyState.CLOSING;
      case "closed":
        return ReadyState.CLOSED;
      default:
        return ReadyState.CONNECTING;
    }
  }
  /** Bytes queued while disconnected plus bytes the socket has not handed to the OS yet. */
  get bufferedAmount(): number {
    return this.#queuedBytes + (this.#conn?.bufferedAmount ?? 0);
  }
  /** Last measured ping round trip, in ms. */
  get latency(): number | undefined {
    return this.#conn?.latency ?? this.#latency;
  }
  /** The subprotocol the server selected on the last handshake, or "". */
  get protocol(): string {
    return this.#response?.protocol ?? "";
  }
  /** The last handshake's response. */
  get response(): UpgradeResponse | undefined {
    return this.#response;
  }

  /**
   * Connects (if not already) and resolves with the handshake response once the connection is open
   * and `onOpen` has run. On a closed client, starts it again.
   */
  connect(): Promise<UpgradeResponse> {
    if (this.#status === "open" && this.#response !== undefined && this.#ready) {
      return Promise.resolve(this.#response);
    }
    if (this.#status === "closing") return Promise.reject(new InvalidStateError("the client is closing"));
    if (this.#o.signal?.aborted) return Promise.reject(new AbortedError(this.#o.signal.reason));
    this.#start(0);
    this.#nextOpen ??= deferred();
    return this.#nextOpen.promise;
  }

  /**
   * Sends a message: strings as text, bytes as binary (see {@link SendOptions}). Resolves when the
   * frame is handed to the OS; rejects if the connection dies first. While disconnected, the message
   * waits in a queue bounded by `maxQueuedBytes` (beyond it: SendQueueFullError) and goes out after
   * the next handshake, after what `onOpen` sent. Throws TypeError for other data types. The
   * promise may be ignored: a failed send is never an unhandled rejection (the close event reports
   * the failure); sends of one tick share one promise.
   */
  send(data: SendData, options: SendOptions = {}): Promise<void> {
    const payload = toPayload(data);
    const binary = options.binary ?? typeof payload !== "string";
    if (this.#userClosed || this.#status === "closed" || this.#status === "closing") {
      return Promise.reject(new InvalidStateError("cannot send: the client is closed"));
    }
    const conn = this.#conn;
    // The send queue is only non-empty between a handshake and the end of onOpen: what onOpen (or
    // anyone meanwhile) sends goes first, by design.
    if (conn !== undefined && this.#writable && conn.state === State.Open) {
      return conn.send(payload, binary);
    }
    const size = typeof payload === "string" ? Buffer.byteLength(payload, "utf8") : payload.byteLength;
    if (this.#queuedBytes + size > this.#o.maxQueuedBytes) {
      return Promise.reject(new SendQueueFullError(this.#queuedBytes, size, this.#o.maxQueuedBytes));
    }
    // The core copies (masks) the payload only when the frame is built: keep our own copy of bytes
    // the caller may reuse meanwhile.
    const copy = typeof payload === "string" ? payload : payload.slice();
    const queued = new Promise<void>((resolve, reject) => {
      (this.#sendQueue ??= []).push({ data: copy, binary, size, resolve, reject });
      this.#queuedBytes += size;
    });
    queued.catch(() => {}); // as for sends written at once: ignoring the promise is safe
    return queued;
  }

  /** Sends a ping and resolves with the round trip in ms. Rejects unless open. */
  ping(): Promise<number> {
    const conn = this.#conn;
    if (conn === undefined || !this.#writable || conn.state !== State.Open) {
      return Promise.reject(new InvalidStateError("cannot ping: the client is not open"));
    }
    return conn.ping();
  }

  /**
   * Closes the connection (closing handshake, then at most `closeTimeout` for the server to close
   * TCP) and stops reconnecting. Throws RangeError at once for a code not allowed or a reason over
   * 123 bytes. Resolves at once on a closed client. Sends still queued are rejected; the iterator
   * ends after the messages already queued.
   */
  close(code: number = CloseCode.Normal, reason = ""): Promise<void> {
    checkCloseArgs(code, reason);
    if (this.#closing !== undefined) return this.#closing;
    if (this.#status === "closed" || this.#status === "idle") {
      this.#status = "closed";
      this.#userClosed = true;
      this.#finish(undefined);
      return Promise.resolve();
    }
    this.#userClosed = true;
    this.#status = "closing";
    const conn = this.#conn;
    this.#stopRun("client closed");
    const closed = conn?.opened ? conn.close(code, reason) : Promise.resolve();
    this.#closing = closed
      .then(() => (this.#running === RUNNING ? (this.#runEnded ??= deferred()).promise : undefined))
      .then(() => {
        this.#closing = undefined;
      });
    return this.#closing;
  }

  /** Destroys the connection at once, without a close handshake, and stops reconnecting. */
  terminate(): void {
    if (this.#status === "closed" && this.#conn === undefined) return;
    this.#userClosed = true;
    this.#stopRun("client terminated");
    this.#conn?.terminate();
    this.#status = "closed";
    this.#finish(undefined);
  }

  /**
   * Closes the current connection and connects again after `delayMs` (Workerman `reConnect`), even
   * with `reconnect: false`. On a closed client, starts it again after the delay.
   */
  reconnect(delayMs = 0): void {
    if (!(delayMs >= 0)) throw new RangeError(`reconnect delay must be >= 0, got ${delayMs}`);
    if (this.#status === "closing") throw new InvalidStateError("the client is closing");
    if (this.#o.signal?.aborted) throw new InvalidStateError("the client's signal was aborted");
    if (this.#running === IDLE) {
      this.#start(delayMs);
      return;
    }
    this.#forcedDelay = delayMs;
    this.#inFlight?.abort(FORCED);
    const conn = this.#conn;
    if (conn?.opened && conn.state === State.Open) void conn.close(CloseCode.Normal, "reconnecting");
  }

  /** Async iteration over received messages; `break` does not close the client. */
  [Symbol.asyncIterator](): AsyncIterator<Message<B>, undefined> {
    this.#iterators++;
    let active = true;
    const stop = () => {
      if (active) {
        active = false;
        this.#iterators--;
      }
    };
    const iterator: AsyncIterator<Message, undefined> & AsyncIterable<Message> = {
      next: async () => {
        if (!active) return { done: true, value: undefined };
        try {
          const result = await this.#messages().next();
          if (result.done) stop();
          return result;
        } catch (err) {
          stop();
          throw err;
        }
      },
      return: async () => {
        stop();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    // The queue holds what this client's binaryType produces.
    return iterator as AsyncIterator<Message<B>, undefined>;
  }

  /** `await using client = await connect(url)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- internals -----------------------------------------------------------------------------

  /** The message queue, made now if needed. */
  #messages(): MessageQueue<Message> {
    let queue = this.#queue;
    if (queue === undefined) {
      queue = this.#newQueue();
      this.#queue = queue;
      const end = this.#queueEnd;
      if (end !== undefined) {
        if (end.error === undefined) queue.end();
        else queue.fail(end.error);
      }
    }
    return queue;
  }

  #newQueue(): MessageQueue<Message> {
    const client = this;
    // Methods rather than arrows, as in #handlers: one queue per client.
    return new MessageQueue<Message>({
      highWaterMark: this.#o.highWaterMark,
      lowWaterMark: this.#o.lowWaterMark,
      sizeOf: messageSize,
      onPause() {
        client.#conn?.pause();
      },
      onResume() {
        client.#conn?.resume();
      },
    });
  }

  #start(delayMs: number): void {
    if (this.#running !== IDLE) return;
    if (this.#status === "closed") {
      // A restart: fresh controllers and queue; the old iterators have ended.
      this.#run++;
      this.#stopped = false;
      this.#inFlight = undefined;
      this.#userClosed = false;
      if (this.#queue?.ended) this.#queue = undefined;
      this.#queueEnd = undefined;
    }
    this.#status = "connecting";
    this.#running = RUNNING;
    this.#outage(this.#run, delayMs, 0);
  }

  /** Emits without letting a listener's exception into the protocol path. */
  #emit<K extends keyof EmittedEvents>(event: K, ...args: Parameters<EmittedEvents[K]>): void {
    try {
      (this.emit as (e: K, ...a: Parameters<EmittedEvents[K]>) => boolean)(event, ...args);
    } catch (err) {
      // A listener threw: report it as an "error" if someone listens, else surface it as Node would
      // for a throwing listener (an uncaught exception), but after our state is consistent.
      if (event !== "error" && this.listenerCount("error") > 0) this.#emit("error", err as Error);
      else rethrowAsync(err);
    }
  }

  /**
   * #emit for "message", the one event emitted per message: a fixed argument list instead of #emit's
   * rest parameter and spread call: #emit itself was 0.8-2.6% of receiving 16 B messages (bench
   * recv-binary-16, node --cpu-prof); eventemitter3 then calls the listeners without `apply`.
   */
  #emitMessage(data: Message): void {
    try {
      this.emit("message", data as Message<B>);
    } catch (err) {
      if (this.listenerCount("error") > 0) this.#emit("error", err as Error);
      else rethrowAsync(err);
    }
  }

  /**
   * One outage of a run: waits `delay`, then connects per the policy. The open connection's end
   * continues the run (onClose, then #afterConnection) instead of an async loop awaiting it: that
   * suspended function (its generator, registers, promises and reactions) was ~0.6 KiB of each idle
   * connection (bench idle-2000). A run that finds another one started after it (terminate() then
   * connect() at once) leaves quietly: the client is no longer its.
   */
  #outage(run: number, delay: number, shortLived: number): void {
    this.#connectAfter(run, delay).then(
      (link) => {
        if (link !== undefined) this.#adopt(link, run, shortLived);
      },
      (err: unknown) => this.#broken(err),
    );
  }

  /** Waits, connects; resolves with the open connection's link, or undefined when the run is over. */
  async #connectAfter(run: number, delay: number): Promise<Link | undefined> {
    let pendingDelay = delay;
    for (;;) {
      try {
        if (pendingDelay > 0) await this.#sleep(pendingDelay);
        pendingDelay = 0;
        this.#status = "connecting";
        return await this.#connectOutage();
      } catch (err) {
        if (this.#run !== run) return undefined; // superseded
        if (this.#forcedDelay !== undefined && !this.#stopped) {
          pendingDelay = this.#takeForced();
          continue;
        }
        this.#finish(this.#stopped ? undefined : err);
        return undefined;
      }
    }
  }

  /** The run takes an open connection: its end continues the run, one turn after onClose. */
  #adopt(link: Link, run: number, shortLived: number): void {
    link.run = run;
    link.shortLived = shortLived;
    link.openedAt = Date.now();
    // Closed already (right after the handshake): continue now.
    if (link.ended !== undefined) queueMicrotask(() => this.#afterConnection(link));
  }

  /** An adopted connection ended: apply the policy (finish, or the next outage). */
  #afterConnection(link: Link): void {
    const run = link.run;
    const conn = link.conn as Connection;
    if (this.#run !== run) return; // superseded
    this.#latency = conn.latency;
    if (this.#stopped) {
      this.#finish(undefined);
      return;
    }
    if (this.#forcedDelay !== undefined) {
      this.#outage(run, this.#takeForced(), 0);
      return;
    }
    const o = this.#o;
    const info = link.ended as CloseInfo;
    const error = conn.error;
    let shortLived: number;
    let pendingDelay: number;
    try {
      const reason = error ?? new ConnectionClosedError(info);
      if (o.reconnect === false || !(o.shouldReconnect ?? isRetryable)(reason)) {
        // A clean close with a "normal" code (1000, 1001, or none) ends the iterator cleanly; any
        // other end throws from it (as websockets' ConnectionClosedOK / ConnectionClosedError).
        const normal = error === undefined && info.wasClean && NORMAL_CLOSE_CODES.has(info.code);
        this.#finish(normal ? undefined : reason);
        return;
      }
      shortLived = Date.now() - link.openedAt >= STABLE_CONNECTION_MS ? 0 : link.shortLived + 1;
      pendingDelay = shortLived === 0 ? 0 : computeDelay(shortLived, o.reconnect);
      this.#status = "connecting";
      this.#emit("reconnecting", { attempt: 1, delay: pendingDelay, error: reason });
    } catch (err) {
      this.#broken(err); // shouldReconnect threw
      return;
    }
    this.#outage(run, pendingDelay, shortLived);
  }

  /**
   * The run died of an unexpected error (a throwing shouldReconnect): surface it as an uncaught
   * exception; the client stays as it was, close() does not wait for the run.
   */
  #broken(err: unknown): void {
    this.#running = BROKEN;
    this.#runEnded?.resolve();
    this.#runEnded = undefined;
    rethrowAsync(err);
  }

  #takeForced(): number {
    const delay = this.#forcedDelay ?? 0;
    this.#forcedDelay = undefined;
    this.#inFlight = undefined; // aborted by reconnect(): the next wait or attempt gets a fresh one
    return delay;
  }

  /** The signal of what is in flight now; already aborted when this run was stopped. */
  #signal(): AbortSignal {
    if (this.#inFlight === undefined) {
      this.#inFlight = new AbortController();
      if (this.#stopped) this.#inFlight.abort(new AbortedError(new Error("client closed")));
    }
    return this.#inFlight.signal;
  }

  /** close() and terminate(): stop this run, and abort its wait or attempt if one is in flight. */
  #stopRun(why: string): void {
    this.#stopped = true;
    this.#inFlight?.abort(new AbortedError(new Error(why)));
  }

  /** Sleeps, abortably by close() and reconnect(). */
  #sleep(ms: number): Promise<void> {
    const signal = this.#signal();
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Connects with retries per the policy; resolves with the link of an open connection whose onOpen ran. */
  #connectOutage(): Promise<Link> {
    const o = this.#o;
    const signal = this.#signal();
    const attempt = () => this.#attempt(signal);
    if (o.reconnect === false) return attempt();
    return runWithReconnect(attempt, {
      ...o.reconnect,
      signal,
      shouldReconnect: o.shouldReconnect ?? isRetryable,
      onRetry: (info: RetryInfo) =>
        this.#emit("reconnecting", { attempt: info.attempt + 1, delay: info.delay, error: info.error }),
    });
  }

  /** One attempt: connect, handshake, onOpen, flush the send queue. Errors are emitted and thrown. */
  async #attempt(
    signal: AbortSignal,
    hop: Hop = { url: this.#o.url, headers: this.#o.headers, socketPath: this.#o.socketPath },
    redirects = 0,
  ): Promise<Link> {
    signal.throwIfAborted();
    // The first attempt takes the protocol the constructor built (same options, unused key).
    const spare = redirects === 0 ? this.#spare : undefined;
    this.#spare = undefined;
    const handlers = new ClientHandlers(this);
    const conn = new Connection(
      // No copy of the options per connection; a hop inherits the client's (defaults are inherited too).
      redirects === 0
        ? this.#o
        : ({
            __proto__: this.#o,
            url: hop.url,
            headers: hop.headers,
            socketPath: hop.socketPath,
          } as unknown as ResolvedOptions),
      handlers,
      spare,
    );
    handlers.conn = conn;
    this.#conn = conn;
    // The message queue outlives connections: a new one starts paused if the consumer is still behind.
    if (this.#queue?.paused) conn.pause();
    try {
      const response = await conn.open(signal);
      this.#response = response;
      // If the server closes right after the handshake, the connection still counts as opened: the
      // messages it sent are delivered and the loop applies the policy to how it ended.
      await this.#o.onOpen?.(this, response);
    } catch (err) {
      if (conn.state === State.Open) {
        // onOpen threw: fail this connection (1011) and let the policy decide on the error.
        void conn.close(CloseCode.InternalError, "");
      }
      await conn.closed;
      if (this.#conn === conn) {
        this.#conn = undefined;
        this.#writable = false;
      }
      // followRedirects: a 3xx opens the next hop as part of this same attempt.
      let failure = err;
      let next: Hop | undefined;
      if (this.#o.followRedirects && !signal.aborted) {
        try {
          next = nextHop(hop, err, redirects, this.#o.maxRedirects, this.#o.forwardHeaders);
        } catch (redirectError) {
          failure = redirectError;
        }
      }
      if (next !== undefined) {
        const status = (err as { status: number }).status;
        this.#emit("redirect", redirectInfo(hop.url, next.url, status));
        return this.#attempt(signal, next, redirects + 1);
      }
      if (!signal.aborted && !handlers.errorEmitted) this.#emit("error", failure as Error);
      throw failure;
    }
    this.#ready = true;
    // Open: nothing in flight to abort any more. Dropped here, before connect() resolves, so that a
    // close() right after it aborts no signal (and builds no error for one).
    this.#inFlight = undefined;
    this.#flushSendQueue(conn);
    this.#nextOpen?.resolve(this.#response as UpgradeResponse);
    this.#nextOpen = undefined;
    return handlers;
  }

  /**
   * What a connection tells its client: one object per connection with its methods on a shared
   * prototype, where a handlers object of 7 closures held ~0.9 KiB per idle connection (closures and
   * their contexts, heap snapshot of 500 idle clients). Nested here to reach the client's private state.
   */
  static {
    ClientHandlers = class implements Link {
      conn: Connection | undefined;
      errorEmitted = false;
      run = -1;
      shortLived = 0;
      openedAt = 0;
      ended: CloseInfo | undefined;
      readonly #client: WebSocketClient<BinaryType>;

      constructor(client: WebSocketClient<BinaryType>) {
        this.#client = client;
      }

      onConnect(): void {
        this.#client.#emit("connect");
      }

      onOpen(response: UpgradeResponse): void {
        const client = this.#client;
        client.#writable = true;
        client.#status = "open";
        client.#emit("open", response);
      }

      onMessage(data: Message): void {
        const client = this.#client;
        const hasListeners = client.listenerCount("message") > 0;
        if (!hasListeners || client.#iterators > 0) client.#messages().push(data);
        if (hasListeners) client.#emitMessage(data);
      }

      onPing(data: Uint8Array): void {
        this.#client.#emit("ping", data);
      }

      onPong(data: Uint8Array): void {
        this.#client.#emit("pong", data);
      }

      onError(error: Error): void {
        const client = this.#client;
        this.errorEmitted = true;
        (client.#errorReported ??= new WeakSet()).add(error);
        client.#emit("error", error);
      }

      onClose(info: CloseInfo, error: Error | undefined): void {
        const client = this.#client;
        if (client.#conn === this.conn) {
          client.#writable = false;
          client.#ready = false;
        }
        const abnormal = !info.wasClean && !info.initiatedByUser;
        client.#emit("close", info);
        if (abnormal && error === undefined) client.#emit("error", new ConnectionClosedError(info));
        else if (abnormal && error !== undefined && !client.#errorReported?.has(error)) {
          client.#emit("error", error);
        }
        // The run goes on one turn later, after the listeners' own microtasks (as an await did).
        this.ended = info;
        if (this.run >= 0) queueMicrotask(() => client.#afterConnection(this));
      }
    };
  }

  /** Errors already emitted by onError, so onClose does not emit them twice. */
  #errorReported: WeakSet<Error> | undefined;

  /** Writes the queued sends, in order, on a connection whose onOpen already ran. */
  #flushSendQueue(conn: Connection): void {
    const queue = this.#sendQueue;
    while (queue !== undefined && queue.length > 0 && conn.state === State.Open) {
      const item = queue.shift() as QueuedSend;
      this.#queuedBytes -= item.size;
      conn.send(item.data, item.binary).then(item.resolve, item.reject);
    }
  }

  /** The client is done (closed by the user, or gave up): settle everything that waits. */
  #finish(error: unknown): void {
    this.#status = "closed";
    this.#writable = false;
    this.#ready = false;
    this.#running = IDLE;
    this.#runEnded?.resolve();
    this.#runEnded = undefined;
    if (this.#sendQueue !== undefined && this.#sendQueue.length > 0) {
      const reason = error ?? new InvalidStateError("the client was closed before the message was sent");
      for (const item of this.#sendQueue.splice(0)) item.reject(reason);
    }
    this.#queuedBytes = 0;
    const queue = this.#queue;
    if (queue === undefined) this.#queueEnd ??= { error };
    else if (error === undefined) queue.end();
    else queue.fail(error);
    // Errors are built only for someone waiting: ~4 per close were 3% of a handshake cycle.
    this.#nextOpen?.reject(error ?? new AbortedError(new Error("client closed")));
    this.#nextOpen = undefined;
  }

  /** The options' signal fired: stop connecting and close. */
  #abort(reason: unknown): void {
    const error = new AbortedError(reason);
    this.#nextOpen?.reject(error);
    this.#nextOpen = undefined;
    if (this.#status === "idle" || this.#status === "closed") {
      this.#userClosed = true;
      this.#status = "closed";
      this.#finish(undefined);
      return;
    }
    void this.close().catch(() => {});
  }
}

/** Creates a client and connects it: `await using ws = await connect(url)`. Rejects (and cleans up) if connecting fails. */
export async function connect<B extends BinaryType = "uint8array">(
  url: string | URL,
  options?: WebSocketClientOptions<B>,
): Promise<WebSocketClient<B>> {
  const client = new WebSocketClient(url, options);
  try {
    await client.connect();
  } catch (err) {
    client.terminate();
    throw err;
  }
  return client;
}
