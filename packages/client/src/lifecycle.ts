/**
 * The client's lifecycle: one state machine from the first `connect()` to the last close, with every
 * transition here (the table is in docs/client.md, "Lifecycle"). It opens one {@link ClientConnection} per
 * attempt, runs the attempts of an outage through p-retry, and sends every outage (a failed attempt, a
 * dropped connection, a heartbeat timeout, a server close) through the same verdict (`#retry`), backoff,
 * "reconnecting" event and sleep (`#wait`).
 */
import { InvalidStateError, State, type UpgradeResponse } from "@tideway/core";
import pRetry from "p-retry";
import type { ClientConnection, ConnectionHandlers } from "./client-connection.js";
import { createSystemClock } from "./clock.js";
import {
  AbortedError,
  type CloseInfo,
  ConnectionClosedError,
  ProviderError,
  SendQueueFullError,
} from "./errors.js";
import type { EmittedEvents, Message, MessagePart, ReconnectingInfo } from "./events.js";
import * as observe from "./observe.js";
import type { Providers, ResolvedOptions } from "./options.js";
import { platform } from "./platform.js";
import { deferred, rejected } from "./promises.js";
import { Backoff, isRetryable, type ReconnectOptions, serverRetryAfter } from "./reconnect.js";
import { followRedirects } from "./redirect.js";
import { utf8 } from "./text-bytes.js";

/**
 * In order, so that ranges mean something: `Idle` never started; `Connecting` an attempt runs
 * (transport, upgrade); `Waiting` a backoff wait between attempts; `Opening` the handshake is done and
 * `onOpen` runs; `Open` the connection is the client's; `Closing` `close()` was called; `Closed` the
 * run is over.
 */
enum Phase {
  Idle,
  Connecting,
  Waiting,
  Opening,
  Open,
  Closing,
  Closed,
}

/** A send waiting for an open connection: `send` writes it there and settles its promise. */
interface QueuedSend {
  readonly size: number;
  send(conn: ClientConnection): void;
  reject(error: unknown): void;
}

/**
 * Waits keep the process alive: a client that is reconnecting does what the user asked, and a process
 * that exits silently mid-backoff (its `for await` never resumes) would be a worse surprise.
 */
const waitClock = createSystemClock({ unref: false });

/** An InvalidStateError: the client, being `state`, refuses `op`. */
export const stateError = (op: string, state: string) =>
  new InvalidStateError(`cannot ${op}: the client is ${state}`);

/** Waits `ms`, or until `signal` aborts: p-retry, which runs after every wait, then throws its reason. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      waitClock.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = waitClock.setTimeout(done, signal.aborted ? 0 : ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * The lifecycle of one client. The client's inbox (client.ts) extends it with what the user sees:
 * events, received messages, `onOpen` (the abstract members), so that no layer forwards between them.
 */
export abstract class Lifecycle<C extends object = object> implements ConnectionHandlers {
  #phase = Phase.Idle;
  readonly #o: ResolvedOptions;
  /** Made by the first failure: a client that never fails holds none. */
  #backoff: Backoff | undefined;
  /** The connection of the current attempt or the open one. */
  #conn: ClientConnection | undefined;
  /** The open connection whose end continues the run. */
  #adopted: ClientConnection | undefined;
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
  /** What close() returns until the run has ended. */
  #closing: ReturnType<typeof deferred<void>> | undefined;
  /** reconnect(delay) asked for a new connection after this delay. */
  #forced: number | undefined;
  /** The last error emitted, so that the same error is not emitted twice (onError, then onClose). */
  #reported: unknown;
  /** The URL of the last attempt, when it is not the options' own (a function, a redirect). */
  url: string | undefined;
  /** The last handshake's response. */
  response: UpgradeResponse | undefined;
  /** How the last connection that had opened ended. */
  lastClose: CloseInfo | undefined;

  /** `client`: the client the events are about, for the diagnostics channels' messages. */
  constructor(
    readonly client: C,
    o: ResolvedOptions,
  ) {
    this.#o = o;
  }

  // --- what the client around provides -------------------------------------------------------

  abstract emit<K extends keyof EmittedEvents>(event: K, ...args: Parameters<EmittedEvents[K]>): void;
  /** Also the Error that ended a connection that had opened, before the run goes on or ends. */
  abstract deliverPart(part: MessagePart | Error): void;
  abstract onMessage(data: Message): void;
  /** The run is over: cleanly (`undefined`) or with the error the iterator throws. */
  abstract ended(error: unknown): void;
  /** The consumer is behind: a new connection starts paused. */
  abstract readonly readingPaused: boolean;
  /** A closed client starts again: its iterators get a fresh queue. */
  abstract restarted(): void;
  /** Runs the `onOpen` option on this connection. */
  protected abstract runOnOpen(conn: ClientConnection, response: UpgradeResponse): void | Promise<void>;

  /** The options, for the client's getters. */
  get options(): ResolvedOptions {
    return this.#o;
  }
  /**
   * The client's `readyState`: CONNECTING (0) until open, OPEN (1) while the open connection is,
   * CLOSING (2) while it or the client closes, then CLOSED (3).
   */
  get readyState(): 0 | 1 | 2 | 3 {
    const phase = this.#phase;
    return phase < Phase.Open ? 0 : phase === Phase.Closed ? 3 : this.ready ? 1 : 2;
  }
  get latency(): number | undefined {
    return this.#conn?.latency ?? this.#latency;
  }
  /** The attempt under way or the open connection. */
  get connection(): ClientConnection | undefined {
    return this.#conn;
  }
  /** Bytes queued while disconnected plus bytes the socket has not handed to the OS yet. */
  get bufferedAmount(): number {
    return this.#queuedBytes + (this.#conn?.bufferedAmount ?? 0);
  }

  /** The open connection, if its protocol is still OPEN (not failing or closing): where sends go. */
  get ready(): ClientConnection | undefined {
    const conn = this.#conn;
    return this.#phase === Phase.Open && conn?.state === State.Open ? conn : undefined;
  }

  // --- commands ------------------------------------------------------------------------------

  /** idle/closed -> connecting; open -> resolves at once; closing -> rejects. */
  connect(): Promise<UpgradeResponse> {
    const phase = this.#phase;
    const signal = this.#o.signal;
    if (phase === Phase.Open) return Promise.resolve(this.response as UpgradeResponse);
    if (phase === Phase.Closing) return rejected(stateError("connect", "closing"));
    if (signal?.aborted) return rejected(new AbortedError(signal.reason));
    if (phase === Phase.Idle || phase === Phase.Closed) this.#start(0);
    return this.nextOpen();
  }

  /** Writes on the open connection, or queues until the next one has run `onOpen`. */
  send(data: string | Uint8Array, binary: boolean, compress: boolean): Promise<void> {
    const conn = this.ready;
    if (conn !== undefined) return conn.send(data, binary, compress);
    if (this.#phase >= Phase.Closing) return rejected(stateError("send", "closed"));
    const text = typeof data === "string";
    const size = text ? utf8.encode(data).length : data.byteLength;
    if (this.#queuedBytes + size > this.#o.maxQueuedBytes) {
      return rejected(new SendQueueFullError(this.#queuedBytes, size, this.#o.maxQueuedBytes));
    }
    // The core copies (masks) a payload only when the frame is built: keep our own copy of bytes the
    // caller may reuse meanwhile.
    const copy = text ? data : data.slice();
    const { promise, resolve, reject } = deferred<void>();
    (this.#sendQueue ??= []).push({
      size,
      reject,
      send: (conn) => conn.send(copy, binary, compress).then(resolve, reject),
    });
    this.#queuedBytes += size;
    return promise;
  }

  /**
   * Resolves once a connection is open and has run `onOpen` (after the queued sends); rejects if the
   * run ends first, or at once when the client is closing or closed.
   */
  nextOpen(): Promise<UpgradeResponse> {
    return this.#phase >= Phase.Closing
      ? rejected(stateError("send", "closed"))
      : (this.#opening ??= deferred()).promise;
  }

  /** any -> closing -> closed: the closing handshake, then the end of the run. */
  close(code: number, reason: string): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.promise;
    const phase = this.#phase;
    if (phase === Phase.Idle || phase === Phase.Closed) {
      this.#stopped = true;
      this.#finish(undefined);
      return Promise.resolve();
    }
    const closing = (this.#closing = deferred());
    this.#stop();
    this.#phase = Phase.Closing;
    observe.closing(this.#o.logger, code, reason);
    const conn = this.#conn;
    if (conn?.opened) void conn.close(code, reason);
    return closing.promise;
  }

  /** any -> closed at once, without a closing handshake. */
  terminate(): void {
    const conn = this.#conn;
    if (this.#phase === Phase.Closed && conn === undefined) return;
    this.#stop();
    this.#conn = this.#adopted = undefined;
    conn?.terminate();
    this.#finish(undefined);
  }

  /** A new connection after `delay` ms: ends the current one, or interrupts a wait or an attempt. */
  reconnect(delay: number): void {
    const phase = this.#phase;
    if (phase === Phase.Closing) throw stateError("reconnect", "closing");
    if (this.#o.signal?.aborted) throw stateError("reconnect", "closed by its signal");
    if (phase === Phase.Idle || phase === Phase.Closed) {
      this.#start(delay);
      return;
    }
    this.#forced = delay;
    this.#abort?.abort();
    const conn = this.#conn;
    if (conn?.opened && conn.state === State.Open) void conn.close(1000, "reconnecting");
  }

  /** The options' signal fired: stop connecting and close. */
  abort(reason: unknown): void {
    this.#opening?.reject(new AbortedError(reason));
    this.#opening = undefined;
    void this.close(1000, "");
  }

  // --- transitions ---------------------------------------------------------------------------

  /** idle/closed -> connecting (or waiting `delay` first): a new run; else starts the outage over. */
  #start(delay: number): void {
    if (this.#phase === Phase.Closed) {
      this.#run++;
      this.restarted();
    }
    this.#stopped = false;
    this.#forced = undefined;
    this.#backoff?.reset();
    this.#outage(delay);
  }

  /**
   * One outage: a wait (`after`: a forced delay in ms, or the error to back off from), then attempts
   * through p-retry until a connection opens, which the run adopts. p-retry runs the attempts and holds
   * the abort signal; its hook decides (`#retry`), waits and reports (`#wait`).
   */
  async #outage(after: number | Error): Promise<void> {
    const run = this.#run;
    const controller = new AbortController();
    this.#abort = controller;
    const signal = controller.signal;
    try {
      if (typeof after !== "number") await this.#wait(after, signal);
      else if (after > 0) {
        this.#phase = Phase.Waiting;
        await sleep(after, signal);
      }
      const conn = await pRetry(() => this.#attempt(signal), {
        retries: Infinity, // the budget is #retry's
        minTimeout: 0, // the waits are #wait's
        signal,
        onFailedAttempt: async ({ error }) => {
          const reason = error.cause; // see #attempt
          if (signal.aborted || !this.#retry(reason)) throw reason;
          await this.#wait(reason, signal);
        },
      });
      if (this.#run === run) this.#adopt(conn);
    } catch (err) {
      if (this.#run !== run || this.#phase === Phase.Closed) return; // superseded, or terminated
      const conn = this.#conn;
      if (conn?.opened && conn.ended === undefined) {
        // Stopped or interrupted while its onOpen ran: the open connection's end continues the run.
        this.#adopted = conn;
        return;
      }
      this.#end(err);
    }
  }

  /** After an outage or a connection: a stopped run ends cleanly, reconnect() starts over, else the run ends with `error`. */
  #end(error: unknown): void {
    if (this.#stopped) this.#finish(undefined);
    else if (this.#forced !== undefined) this.#start(this.#forced);
    else this.#finish(error);
  }

  /** connecting/waiting -> waiting: the backoff for `reason`, reported, then slept. */
  async #wait(reason: unknown, signal: AbortSignal): Promise<void> {
    // Only a retry waits, and reconnect: false never retries.
    const backoff = (this.#backoff ??= new Backoff(this.#o.reconnect as ReconnectOptions));
    const delay = backoff.next(serverRetryAfter(reason));
    this.#phase = Phase.Waiting;
    const info: ReconnectingInfo = { attempt: backoff.failures, delay, error: reason };
    this.emit("reconnecting", info);
    observe.reconnecting(this, this.#o.logger, info);
    await sleep(delay, signal);
  }

  /** The verdict on `reason` within the retry budget; a `shouldReconnect` that throws ends the run. */
  #retry(reason: unknown): boolean {
    const r = this.#o.reconnect;
    const everOpened = this.#everOpened;
    if (
      r === false ||
      this.#stopped ||
      (this.#backoff?.failures ?? 0) >= (everOpened ? r.retries : Math.min(r.retries, r.initialRetries))
    )
      return false;
    try {
      return (this.#o.shouldReconnect ?? isRetryable)(reason, { everOpened });
    } catch (err) {
      this.#finish(err); // the run ends with what it threw
      return false;
    }
  }

  /**
   * connecting -> opening -> (attempt returns): connect, handshake, `onOpen`; redirects inside. What
   * fails goes to p-retry as the `cause` of an Error (p-retry turns non-Errors and TypeErrors into its own).
   */
  async #attempt(signal: AbortSignal): Promise<ClientConnection> {
    // p-retry checks the signal before each attempt.
    try {
      this.#phase = Phase.Connecting;
      const o = this.#o;
      return await followRedirects(
        o.providers === undefined ? o : await this.#provide(),
        o,
        signal,
        (options) => this.#open(this.#newConnection(options), signal),
        this,
      );
    } catch (err) {
      if (!signal.aborted && err !== this.#reported) this.#emitError(err as Error);
      throw new Error(undefined, { cause: err });
    }
  }

  /**
   * The options of this attempt: the client's, under what the option functions return (each checked
   * as the option). No copy of the options per attempt: they inherit the client's.
   */
  async #provide(): Promise<ResolvedOptions> {
    const o = this.#o;
    const providers = o.providers as Providers;
    const checks = platform.provided;
    const provided: Record<string, unknown> = {};
    for (const name in checks) {
      const option = name as keyof Providers;
      const provide = providers[option];
      if (provide === undefined) continue;
      try {
        provided[option] = checks[option]!((await provide()) as never);
      } catch (err) {
        throw new ProviderError(option, err);
      }
    }
    // The browser connects to `href`, which `url` is read from.
    const url = provided.url as URL | undefined;
    if (url) provided.href = url.href;
    // A literal defines them: the client's options may have only getters for them.
    return { __proto__: o, ...provided } as unknown as ResolvedOptions;
  }

  /** A connection on `options`: the attempt's, or a redirect's hop over them. */
  #newConnection(options: ResolvedOptions): ClientConnection {
    const o = this.#o;
    const conn = platform.newConnection(options, this);
    this.#conn = conn;
    // The client's own URL needs no copy; a provided or redirected one is remembered.
    this.url = options === o ? undefined : options.url.href;
    observe.connecting(o.logger, this.url ?? o.href);
    return conn;
  }

  /** Opens `conn`, runs `onOpen`; on failure fails the connection (1011 if open) and waits for its end. */
  async #open(conn: ClientConnection, signal: AbortSignal): Promise<ClientConnection> {
    // The message queue outlives connections: a new one starts paused if the consumer is still behind.
    if (this.readingPaused) conn.pause();
    try {
      await this.runOnOpen(conn, await conn.open(signal));
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
    this.#openedAt = Math.floor(waitClock.now()); // a small integer: no heap number per connection
    if (conn.ended !== undefined) queueMicrotask(() => this.#connectionEnded(conn));
    else if (!this.#stopped) {
      this.#phase = Phase.Open;
      // The queued sends, in order, while the connection stays open.
      const queue = this.#sendQueue;
      while (queue?.length && conn.state === State.Open) {
        const item = queue.shift() as QueuedSend;
        this.#queuedBytes -= item.size;
        item.send(conn);
      }
      this.#opening?.resolve(this.response as UpgradeResponse);
      this.#opening = undefined;
    }
  }

  /** open -> waiting/closed: the adopted connection ended; the verdict decides. */
  #connectionEnded(conn: ClientConnection): void {
    if (this.#adopted !== conn) return; // terminated, or superseded by a restart
    this.#adopted = undefined;
    if (this.#conn === conn) this.#conn = undefined;
    this.#latency = conn.latency;
    const info = conn.ended as CloseInfo;
    const error = conn.error;
    const reason = error ?? new ConnectionClosedError(info);
    const r = this.#o.reconnect;
    if (r && waitClock.now() - this.#openedAt >= r.stableAfter) this.#backoff?.reset();
    // (A stopped run never retries.)
    if (this.#forced === undefined && this.#retry(reason)) this.#outage(reason);
    // A clean close with a "normal" code (1000 Normal, 1001 GoingAway, 1005 none) ends the iterator
    // cleanly; any other end throws from it (as websockets' ConnectionClosedOK / ConnectionClosedError).
    else if (this.#phase !== Phase.Closed)
      this.#end(
        error === undefined && info.wasClean && [1000, 1001, 1005].includes(info.code) ? undefined : reason,
      );
  }

  /** closed: settle everything that waits. Idempotent. */
  #finish(error: unknown): void {
    this.#phase = Phase.Closed;
    this.#abort = undefined;
    this.#closing?.resolve();
    this.#closing = undefined;
    for (const item of this.#sendQueue?.splice(0) ?? []) item.reject(error ?? stateError("send", "closed"));
    this.#queuedBytes = 0;
    observe.closed(this.#o.logger, error);
    this.ended(error);
    this.#opening?.reject(error ?? new AbortedError(stateError("connect", "closed")));
    this.#opening = undefined;
  }

  /** The "error" event, and its report to the diagnostics channel and the logger. */
  #emitError(error: Error): void {
    this.#reported = error;
    this.emit("error", error);
    observe.error(this, this.#o.logger, error);
  }

  #stop(): void {
    this.#stopped = true;
    this.#forced = undefined;
    this.#abort?.abort();
  }

  // --- what a connection reports (ConnectionHandlers) ---------------------------------------

  onConnect(): void {
    this.emit("connect");
  }

  /** connecting -> opening. */
  onOpen(conn: ClientConnection, response: UpgradeResponse): void {
    if (this.#conn !== conn) return;
    this.response = response;
    this.#phase = Phase.Opening;
    this.emit("open", response);
    observe.open(this, this.#o.logger, this.url ?? this.#o.href, response);
  }

  onError(_conn: ClientConnection, error: Error): void {
    this.deliverPart(error);
    this.#emitError(error);
  }

  onClose(conn: ClientConnection, info: CloseInfo, error: Error | undefined): void {
    this.lastClose = info;
    const reason = error ?? new ConnectionClosedError(info);
    this.deliverPart(reason);
    this.emit("close", info);
    observe.close(this, this.#o.logger, info);
    if (!info.wasClean && !info.initiatedByUser && reason !== this.#reported) this.#emitError(reason);
    // The run goes on one turn later, after the listeners' own microtasks.
    if (this.#adopted === conn) queueMicrotask(() => this.#connectionEnded(conn));
  }
}
