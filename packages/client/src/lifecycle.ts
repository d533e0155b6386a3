/**
 * The client's lifecycle: one state machine from the first `connect()` to the last close, with every
 * transition here (the table is in docs/client.md, "Lifecycle"). It opens one {@link ClientConnection} per
 * attempt, runs the attempts of an outage through p-retry, and sends every outage (a failed attempt, a
 * dropped connection, a heartbeat timeout, a server close) through the same verdict, backoff,
 * "reconnecting" event and sleep (`#retryOrFinish`, `#wait`). Timers go through the injected clock.
 */
import {
  type ClientProtocol,
  CloseCode,
  InvalidStateError,
  type ProtocolError,
  State,
  type UpgradeResponse,
} from "@tideway/core";
import pRetry from "p-retry";
import type { ClientConnection, ConnectionHandlers } from "./client-connection.js";
import { type Clock, createSystemClock } from "./clock.js";
import type { ConnectionInfo } from "./connection-info.js";
import {
  AbortedError,
  type CloseInfo,
  ConnectionClosedError,
  ProviderError,
  SendQueueFullError,
} from "./errors.js";
import type { EmittedEvents, Message, MessagePart, ReconnectingInfo } from "./events.js";
import * as observe from "./observe.js";
import { checkHeaders, normalizeProtocols, parseUrl, type ResolvedOptions } from "./options.js";
import { platform } from "./platform.js";
import { Backoff, DEFAULT_RECONNECT, isRetryable, serverRetryAfter } from "./reconnect.js";
import { followRedirects, type Hop } from "./redirect.js";

/**
 * - `idle`: never started. `connecting`: an attempt runs (transport, upgrade). `waiting`: a backoff
 *   wait between attempts. `opening`: the handshake is done and `onOpen` runs. `open`: the connection
 *   is the client's. `closing`: `close()` was called. `closed`: the run is over.
 */
export type Phase = "idle" | "connecting" | "waiting" | "opening" | "open" | "closing" | "closed";

/** What the lifecycle needs from the client around it. */
export interface LifecycleHost {
  /** The client the events are about, for the diagnostics channels' messages. */
  readonly client: object;
  /** Emits an event; a listener's exception never comes back here. */
  emit<K extends keyof EmittedEvents>(event: K, ...args: Parameters<EmittedEvents[K]>): void;
  /** A received message. */
  deliver(data: Message): void;
  /** With `receive: "stream"`: a part of a message being received. */
  deliverPart(part: MessagePart): void;
  /** A connection that had opened is gone (`error`: why), before the run goes on or ends. */
  connectionEnded(error: Error): void;
  /** The run is over: cleanly (`undefined`) or with the error the iterator throws. */
  ended(error: unknown): void;
  /** The consumer is behind: a new connection starts paused. */
  readonly readingPaused: boolean;
  /** A closed client starts again: its iterators get a fresh queue. */
  restarted(): void;
  /** Runs the `onOpen` option on this connection. */
  runOnOpen(conn: ClientConnection, response: UpgradeResponse): void | Promise<void>;
}

/** Where an attempt goes: a redirect {@link Hop} plus the subprotocols offered. */
type Target = { -readonly [K in keyof Hop]: Hop[K] } & { protocols: readonly string[] };

/** The lifecycle's rarely used state. */
interface Rare {
  /** The URL of the last attempt, when it is not the options' own (a function, a redirect). */
  url?: string | undefined;
  /** reconnect(delay) asked for a new connection after this delay. */
  forced?: number | undefined;
  /** Settled when the run ends, for a close() waiting for it. */
  runEnded?: ReturnType<typeof deferred<void>> | undefined;
  closing?: Promise<void> | undefined;
  /** Errors already emitted by onError, so onClose does not emit them twice. */
  errorReported?: WeakSet<Error>;
  /** How the last connection that had opened ended. */
  lastClose?: CloseInfo | undefined;
}

interface QueuedSend {
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  readonly compress: boolean;
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

/** The reason `reconnect()` aborts what is in flight with: start over after its delay. */
const FORCED = Symbol("forced reconnect");

/** Carries a rejection through p-retry untouched (p-retry turns non-Errors and TypeErrors into its own). */
class AttemptFailure extends Error {
  readonly reason: unknown;
  constructor(reason: unknown) {
    super("attempt failed");
    this.reason = reason;
  }
}

const noop = (): void => {};

/**
 * Waits keep the process alive: a client that is reconnecting does what the user asked, and a process
 * that exits silently mid-backoff (its `for await` never resumes) would be a worse surprise.
 */
const waitClock: Clock = createSystemClock({ unref: false });
const utf8 = new TextEncoder();

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop); // rejections are for whoever awaits; none is an unhandled one
  return { promise, resolve, reject };
}

/** A rejected promise that is never an unhandled rejection: a send nobody awaits must not crash. */
function rejected(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

/** Waits `ms` on `clock`; rejects with `signal.reason` as soon as it aborts, clearing the timer. */
function sleep(ms: number, clock: Clock, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export class Lifecycle implements ConnectionHandlers {
  #phase: Phase = "idle";
  readonly #o: ResolvedOptions;
  readonly #host: LifecycleHost;
  readonly #clock: Clock;
  /** Made by the first failure: a client that never fails holds none. */
  #backoff: Backoff | undefined;
  /** The connection of the current attempt or the open one. */
  #conn: ClientConnection | undefined;
  /** The open connection whose end continues the run. */
  #adopted: ClientConnection | undefined;
  #response: UpgradeResponse | undefined;
  #latency: number | undefined;
  #everOpened = false;
  #openedAt = 0;
  /** The run's number: callbacks of an earlier run (before a restart) find it changed and stop. */
  #run = 0;
  /** close(), terminate() or the signal stopped this run. */
  #stopped = false;
  /** Aborts the outage in flight (its wait or attempt); made per outage, dropped once open. */
  #abort: AbortController | undefined;
  /** Sends waiting for an open connection; made by the first one. */
  #sendQueue: QueuedSend[] | undefined;
  #queuedBytes = 0;
  /** What connect() returns while connecting; made only when someone calls connect(). */
  #opening: ReturnType<typeof deferred<UpgradeResponse>> | undefined;
  /** State most clients never need, made on first use (an idle connection holds one field for it). */
  #rare: Rare | undefined;
  /** The protocol the client built to validate its options, kept for the first attempt. */
  #spare: ClientProtocol | undefined;

  constructor(o: ResolvedOptions, host: LifecycleHost, spare?: ClientProtocol, clock: Clock = waitClock) {
    this.#o = o;
    this.#host = host;
    this.#spare = spare;
    this.#clock = clock;
  }

  /** The options, for the client's getters. */
  get options(): ResolvedOptions {
    return this.#o;
  }

  /** ConnectionHandlers: the client, for the connection's diagnostics messages. */
  get client(): object {
    return this.#host.client;
  }

  get phase(): Phase {
    return this.#phase;
  }
  /** The URL of the last attempt, if one was made. */
  get url(): string | undefined {
    return this.#rare?.url;
  }
  /** The open connection's protocol is still OPEN (not failing or closing). */
  get connectionOpen(): boolean {
    return this.#adopted?.state === State.Open;
  }
  get response(): UpgradeResponse | undefined {
    return this.#response;
  }
  get latency(): number | undefined {
    return this.#conn?.latency ?? this.#latency;
  }
  /** The attempt under way or the open connection: its id and addresses. */
  get connectionInfo(): ConnectionInfo | undefined {
    return this.#conn?.info;
  }
  get lastClose(): CloseInfo | undefined {
    return this.#rare?.lastClose;
  }
  /** Bytes queued while disconnected plus bytes the socket has not handed to the OS yet. */
  get bufferedAmount(): number {
    return this.#queuedBytes + (this.#conn?.bufferedAmount ?? 0);
  }

  // --- commands ------------------------------------------------------------------------------

  /** idle/closed -> connecting; open -> resolves at once; closing -> rejects. */
  connect(): Promise<UpgradeResponse> {
    const phase = this.#phase;
    if (phase === "open" && this.#response !== undefined) return Promise.resolve(this.#response);
    if (phase === "closing") return rejected(new InvalidStateError("the client is closing"));
    if (this.#o.signal?.aborted) return rejected(new AbortedError(this.#o.signal.reason));
    if (phase === "idle" || phase === "closed") this.#start(0);
    this.#opening ??= deferred();
    return this.#opening.promise;
  }

  /** Writes on the open connection, or queues until the next one has run `onOpen`. */
  send(data: string | Uint8Array, binary: boolean, compress = true): Promise<void> {
    const phase = this.#phase;
    if (phase === "closing" || phase === "closed") {
      return rejected(new InvalidStateError("cannot send: the client is closed"));
    }
    const conn = this.#conn;
    if (phase === "open" && conn !== undefined && conn.state === State.Open)
      return conn.send(data, binary, compress);
    const size = typeof data === "string" ? utf8.encode(data).length : data.byteLength;
    if (this.#queuedBytes + size > this.#o.maxQueuedBytes) {
      return rejected(new SendQueueFullError(this.#queuedBytes, size, this.#o.maxQueuedBytes));
    }
    // The core copies (masks) a payload only when the frame is built: keep our own copy of bytes the
    // caller may reuse meanwhile.
    const copy = typeof data === "string" ? data : data.slice();
    const queued = new Promise<void>((resolve, reject) => {
      (this.#sendQueue ??= []).push({ data: copy, binary, compress, size, resolve, reject });
      this.#queuedBytes += size;
    });
    queued.catch(noop);
    return queued;
  }

  /**
   * The open connection, now or once the next one has run `onOpen` (after the queued sends): where a
   * streamed send goes. Rejects once the client is closing or closed.
   */
  whenOpen(): Promise<ClientConnection> {
    const phase = this.#phase;
    if (phase === "closing" || phase === "closed") {
      return rejected(new InvalidStateError("cannot send: the client is closed"));
    }
    const conn = this.#conn;
    if (phase === "open" && conn !== undefined && conn.state === State.Open) return Promise.resolve(conn);
    this.#opening ??= deferred();
    return this.#opening.promise.then(() => this.whenOpen());
  }

  ping(data?: Uint8Array): Promise<number> {
    const conn = this.#conn;
    if (this.#phase !== "open" || conn === undefined || conn.state !== State.Open) {
      return rejected(new InvalidStateError("cannot ping: the client is not open"));
    }
    return conn.ping(data);
  }

  pong(data?: Uint8Array): void {
    const conn = this.#conn;
    if (this.#phase !== "open" || conn === undefined || conn.state !== State.Open) {
      throw new InvalidStateError("cannot pong: the client is not open");
    }
    conn.pong(data);
  }

  /** any -> closing -> closed: the closing handshake, then the end of the run. */
  close(code: number, reason: string): Promise<void> {
    const rare = this.#rareState();
    if (rare.closing !== undefined) return rare.closing;
    const phase = this.#phase;
    if (phase === "idle" || phase === "closed") {
      this.#phase = "closed";
      this.#stopped = true;
      this.#finish(undefined);
      return Promise.resolve();
    }
    this.#stop("client closed");
    this.#phase = "closing";
    observe.closing(this.#o.logger, code, reason);
    const conn = this.#conn;
    const closed = conn?.opened ? conn.close(code, reason) : Promise.resolve();
    rare.closing = closed
      .then(() => (this.#phase === "closed" ? undefined : (rare.runEnded ??= deferred()).promise))
      .then(() => {
        rare.closing = undefined;
      });
    return rare.closing;
  }

  /** any -> closed at once, without a closing handshake. */
  terminate(): void {
    if (this.#phase === "closed" && this.#conn === undefined) return;
    this.#stop("client terminated");
    const conn = this.#conn;
    this.#conn = undefined;
    this.#adopted = undefined;
    conn?.terminate();
    this.#finish(undefined);
  }

  /** A new connection after `delay` ms: ends the current one, or interrupts a wait or an attempt. */
  reconnect(delay: number): void {
    if (this.#phase === "closing") throw new InvalidStateError("the client is closing");
    if (this.#o.signal?.aborted) throw new InvalidStateError("the client's signal was aborted");
    if (this.#phase === "idle" || this.#phase === "closed") {
      this.#start(delay);
      return;
    }
    this.#rareState().forced = delay;
    this.#abort?.abort(FORCED);
    const conn = this.#conn;
    if (conn?.opened && conn.state === State.Open) void conn.close(CloseCode.Normal, "reconnecting");
  }

  /** The options' signal fired: stop connecting and close. */
  abort(reason: unknown): void {
    this.#opening?.reject(new AbortedError(reason));
    this.#opening = undefined;
    void this.close(CloseCode.Normal, "").catch(noop);
  }

  pause(): void {
    this.#conn?.pause();
  }

  resume(): void {
    this.#conn?.resume();
  }

  // --- transitions ---------------------------------------------------------------------------

  /** idle/closed -> connecting (or waiting `delay` first): a new run. */
  #start(delay: number): void {
    if (this.#phase === "closed") {
      this.#run++;
      this.#host.restarted();
    }
    this.#stopped = false;
    this.#backoff?.reset();
    this.#outage(this.#run, { delay });
  }

  /**
   * One outage: a wait (the backoff for `after.reason`, or a forced delay), then attempts through
   * p-retry until a connection opens, which the run adopts. p-retry counts the attempts, holds the
   * retry budget and the abort signal; the hook decides, waits and reports (`#wait`).
   */
  async #outage(run: number, after: { reason: unknown } | { delay: number }): Promise<void> {
    const controller = new AbortController();
    this.#abort = controller;
    const signal = controller.signal;
    try {
      if ("reason" in after) await this.#wait(after.reason, signal);
      else if (after.delay > 0) {
        this.#phase = "waiting";
        await sleep(after.delay, this.#clock, signal);
      }
      this.#phase = "connecting";
      const limit = this.#retryLimit();
      const conn = await pRetry(() => this.#attempt(signal), {
        retries: Math.max(0, limit - (this.#backoff?.failures ?? 0)),
        minTimeout: 0,
        maxTimeout: 0,
        factor: 1,
        randomize: false,
        signal,
        onFailedAttempt: async ({ error, retriesLeft }) => {
          const reason = error instanceof AttemptFailure ? error.reason : error;
          if (signal.aborted || retriesLeft <= 0 || !this.#shouldRetry(reason)) throw reason;
          await this.#wait(reason, signal);
          this.#phase = "connecting";
        },
      });
      if (this.#run === run) this.#adopt(conn);
    } catch (err) {
      if (this.#run !== run || this.#phase === "closed") return; // superseded, or terminated
      const conn = this.#conn;
      if (conn?.opened && conn.ended === undefined) {
        // Stopped or interrupted while its onOpen ran: the open connection's end continues the run.
        this.#adopted = conn;
        return;
      }
      if (this.#rare?.forced !== undefined && !this.#stopped) {
        this.#outage(run, { delay: this.#takeForced() });
        return;
      }
      this.#finish(this.#stopped ? undefined : err instanceof AttemptFailure ? err.reason : err);
    }
  }

  /** connecting/waiting -> waiting: the backoff for `reason`, reported, then slept on the clock. */
  async #wait(reason: unknown, signal: AbortSignal): Promise<void> {
    const backoff = (this.#backoff ??= new Backoff(this.#o.reconnect || DEFAULT_RECONNECT));
    const delay = backoff.next(serverRetryAfter(reason));
    this.#phase = "waiting";
    const info: ReconnectingInfo = { attempt: backoff.failures, delay, error: reason };
    this.#host.emit("reconnecting", info);
    observe.reconnecting(this.#host, this.#o.logger, info);
    await sleep(delay, this.#clock, signal);
  }

  /** connecting -> opening -> (attempt returns): connect, handshake, `onOpen`; redirects inside. */
  async #attempt(signal: AbortSignal): Promise<ClientConnection> {
    try {
      signal.throwIfAborted();
      const hop = this.#o.providers === undefined ? this.#fixedTarget() : await this.#target();
      return await followRedirects(
        hop,
        this.#o,
        signal,
        (target, redirects) => {
          let conn: ClientConnection;
          try {
            conn = this.#newConnection(target, redirects);
          } catch (err) {
            // What the core refuses in a provided value (a forbidden header, a bad subprotocol token).
            const o = this.#o.providers;
            if (o === undefined) throw err;
            throw new ProviderError(o.protocols !== undefined ? "protocols" : "headers", err);
          }
          return this.#open(conn, signal);
        },
        (info) => this.#host.emit("redirect", info),
      );
    } catch (err) {
      if (!signal.aborted && !(err instanceof Error && this.#rare?.errorReported?.has(err))) {
        this.#emitError(err as Error);
      }
      throw new AttemptFailure(err);
    }
  }

  #fixedTarget(): Target {
    const o = this.#o;
    return { url: o.url, headers: o.headers, socketPath: o.socketPath, protocols: o.protocols };
  }

  /** The URL, headers and protocols of this attempt: what the option functions return. */
  async #target(): Promise<Target> {
    const p = this.#o.providers as NonNullable<ResolvedOptions["providers"]>;
    const hop = this.#fixedTarget();
    const provide = async <T>(option: "url" | "headers" | "protocols", fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn();
      } catch (err) {
        throw new ProviderError(option, err);
      }
    };
    if (p.url !== undefined) {
      const url = p.url;
      hop.url = await provide("url", async () => parseUrl(await url()));
    }
    if (p.headers !== undefined) {
      const headers = p.headers;
      hop.headers = await provide("headers", async () => checkHeaders(await headers()));
    }
    if (p.protocols !== undefined) {
      const protocols = p.protocols;
      hop.protocols = await provide("protocols", async () => normalizeProtocols(await protocols()));
    }
    return hop;
  }

  #newConnection(hop: Hop & { protocols?: readonly string[] }, redirects: number): ClientConnection {
    const o = this.#o;
    const same = redirects === 0 && o.providers === undefined;
    // The first attempt takes the protocol the constructor built (same options, unused key).
    const spare = same ? this.#spare : undefined;
    this.#spare = undefined;
    // No copy of the options per connection: an attempt with other targets inherits the client's.
    const options = same
      ? o
      : ({
          __proto__: o,
          url: hop.url,
          headers: hop.headers,
          socketPath: hop.socketPath,
          protocols: hop.protocols ?? o.protocols,
        } as unknown as ResolvedOptions);
    const conn = platform.newConnection(options, this, spare);
    this.#conn = conn;
    // The client's own URL needs no copy; a provided or redirected one is remembered.
    if (!same) this.#rareState().url = hop.url.href;
    else if (this.#rare !== undefined) this.#rare.url = undefined;
    observe.connecting(o.logger, same ? o.href : hop.url.href);
    return conn;
  }

  /** Opens `conn`, runs `onOpen`; on failure fails the connection (1011 if open) and waits for its end. */
  async #open(conn: ClientConnection, signal: AbortSignal): Promise<ClientConnection> {
    // The message queue outlives connections: a new one starts paused if the consumer is still behind.
    if (this.#host.readingPaused) conn.pause();
    try {
      const response = await conn.open(signal);
      await this.#host.runOnOpen(conn, response);
    } catch (err) {
      if (conn.state === State.Open) conn.fail(err instanceof Error ? err : new Error(String(err)));
      await conn.closed;
      if (this.#conn === conn) this.#conn = undefined;
      throw err;
    }
    return conn;
  }

  /** opening -> open: the queued sends go out after `onOpen`'s, and connect() resolves. */
  #adopt(conn: ClientConnection): void {
    this.#abort = undefined; // open: nothing in flight to abort any more
    this.#adopted = conn;
    this.#everOpened = true;
    this.#openedAt = Math.floor(this.#clock.now()); // a small integer: no heap number per connection
    if (conn.ended !== undefined || this.#stopped) {
      if (conn.ended !== undefined) queueMicrotask(() => this.#connectionEnded(conn));
      return;
    }
    this.#phase = "open";
    this.#flushSendQueue(conn);
    this.#opening?.resolve(this.#response as UpgradeResponse);
    this.#opening = undefined;
  }

  /** open -> waiting/closed: the adopted connection ended; the verdict decides. */
  #connectionEnded(conn: ClientConnection): void {
    if (this.#adopted !== conn) return; // terminated, or superseded by a restart
    this.#adopted = undefined;
    if (this.#conn === conn) this.#conn = undefined;
    this.#latency = conn.latency;
    if (this.#stopped) {
      this.#finish(undefined);
      return;
    }
    if (this.#rare?.forced !== undefined) {
      this.#outage(this.#run, { delay: this.#takeForced() });
      return;
    }
    const info = conn.ended as CloseInfo;
    const error = conn.error;
    const reason = error ?? new ConnectionClosedError(info);
    if (this.#clock.now() - this.#openedAt >= this.#stableAfter()) this.#backoff?.reset();
    this.#retryOrFinish(reason, error === undefined && info.wasClean && NORMAL_CLOSE_CODES.has(info.code));
  }

  /** After a drop: waiting (the next outage), or closed when the verdict or the budget says so. */
  #retryOrFinish(reason: unknown, normal: boolean): void {
    let retry: boolean;
    try {
      retry = (this.#backoff?.failures ?? 0) < this.#retryLimit() && this.#shouldRetry(reason);
    } catch (err) {
      this.#finish(err); // shouldReconnect threw: the run ends with what it threw
      return;
    }
    // A clean close with a "normal" code (1000, 1001, or none) ends the iterator cleanly; any other
    // end throws from it (as websockets' ConnectionClosedOK / ConnectionClosedError).
    if (!retry) this.#finish(normal ? undefined : reason);
    else this.#outage(this.#run, { reason });
  }

  /** closed: settle everything that waits. Idempotent. */
  #finish(error: unknown): void {
    this.#phase = "closed";
    this.#abort = undefined;
    const rare = this.#rare;
    if (rare !== undefined) {
      rare.runEnded?.resolve();
      rare.runEnded = undefined;
    }
    const queue = this.#sendQueue;
    if (queue !== undefined && queue.length > 0) {
      const reason = error ?? new InvalidStateError("the client was closed before the message was sent");
      for (const item of queue.splice(0)) item.reject(reason);
    }
    this.#queuedBytes = 0;
    observe.closed(this.#o.logger, error);
    this.#host.ended(error);
    this.#opening?.reject(error ?? new AbortedError(new Error("client closed")));
    this.#opening = undefined;
  }

  /** The "error" event, and its report to the diagnostics channel and the logger. */
  #emitError(error: Error): void {
    this.#host.emit("error", error);
    observe.error(this.#host, this.#o.logger, error);
  }

  #rareState(): Rare {
    this.#rare ??= {};
    return this.#rare;
  }

  #stop(why: string): void {
    this.#stopped = true;
    if (this.#rare !== undefined) this.#rare.forced = undefined;
    this.#abort?.abort(new AbortedError(new Error(why)));
  }

  #takeForced(): number {
    const rare = this.#rareState();
    const delay = rare.forced ?? 0;
    rare.forced = undefined;
    this.#backoff?.reset();
    return delay;
  }

  #retryLimit(): number {
    const r = this.#o.reconnect;
    if (r === false) return 0;
    return this.#everOpened ? r.retries : Math.min(r.retries, r.initialRetries);
  }

  #stableAfter(): number {
    const r = this.#o.reconnect;
    return r === false ? Number.POSITIVE_INFINITY : r.stableAfter;
  }

  #shouldRetry(reason: unknown): boolean {
    if (this.#o.reconnect === false || this.#stopped) return false;
    const verdict = this.#o.shouldReconnect ?? isRetryable;
    return verdict(reason, { everOpened: this.#everOpened });
  }

  /** Writes the queued sends, in order, on a connection whose onOpen already ran. */
  #flushSendQueue(conn: ClientConnection): void {
    const queue = this.#sendQueue;
    while (queue !== undefined && queue.length > 0 && conn.state === State.Open) {
      const item = queue.shift() as QueuedSend;
      this.#queuedBytes -= item.size;
      conn.send(item.data, item.binary, item.compress).then(item.resolve, item.reject);
    }
  }

  // --- what a connection reports (ConnectionHandlers) ---------------------------------------

  onConnect(): void {
    this.#host.emit("connect");
  }

  /** connecting -> opening. */
  onOpen(conn: ClientConnection, response: UpgradeResponse): void {
    if (this.#conn !== conn) return;
    this.#response = response;
    this.#phase = "opening";
    this.#host.emit("open", response);
    observe.open(this.#host, this.#o.logger, this.#rare?.url ?? this.#o.href, response);
  }

  onMessage(data: Message): void {
    this.#host.deliver(data);
  }

  onMessagePart(part: MessagePart): void {
    this.#host.deliverPart(part);
  }

  /** Fails the current connection with the error's close code (see Connection.failReceive). */
  failReceive(error: ProtocolError): void {
    this.#conn?.failReceive(error);
  }

  onPing(data: Uint8Array): void {
    this.#host.emit("ping", data);
    observe.ping(this.#host, this.#o.logger, data);
  }

  onPong(data: Uint8Array): void {
    this.#host.emit("pong", data);
    observe.pong(this.#host, this.#o.logger, data);
  }

  onError(_conn: ClientConnection, error: Error): void {
    (this.#rareState().errorReported ??= new WeakSet()).add(error);
    this.#host.connectionEnded(error);
    this.#emitError(error);
  }

  onClose(conn: ClientConnection, info: CloseInfo, error: Error | undefined): void {
    this.#rareState().lastClose = info;
    const abnormal = !info.wasClean && !info.initiatedByUser;
    this.#host.connectionEnded(error ?? new ConnectionClosedError(info));
    this.#host.emit("close", info);
    observe.close(this.#host, this.#o.logger, info);
    if (abnormal && error === undefined) this.#emitError(new ConnectionClosedError(info));
    else if (abnormal && error !== undefined && !this.#rare?.errorReported?.has(error)) {
      (this.#rareState().errorReported ??= new WeakSet()).add(error);
      this.#emitError(error);
    }
    // The run goes on one turn later, after the listeners' own microtasks.
    if (this.#adopted === conn) queueMicrotask(() => this.#connectionEnded(conn));
  }
}
