/**
 * The public client: typed events, `await connect()`, `for await` over messages across reconnects,
 * `send()` with a bounded queue while disconnected. The lifecycle (connect, wait, reconnect, close) is
 * lifecycle.ts's; this module holds what the user sees of it: events, the message queue, the iterator.
 */
import { MAX_CLOSE_REASON_BYTES, type UpgradeResponse } from "@tideway/core";
import { isValidWireCloseCode } from "@tideway/core/internals";
import { EventEmitter } from "eventemitter3";
import type { ClientConnection } from "./client-connection.js";
import type { ConnectionInfo } from "./connection-info.js";
import { controlPayload } from "./control-payload.js";
import type { CloseInfo } from "./errors.js";
import type {
  ClientEvents,
  ControlData,
  EmittedEvents,
  Message,
  MessagePart,
  SendData,
  SendOptions,
  TextAs,
} from "./events.js";
import { Lifecycle, stateError } from "./lifecycle.js";
import { done, MessageQueue } from "./message-queue.js";
import { type ReceivedStream, streamsOf, withStreamReceiver } from "./message-stream.js";
import { type BinaryType, resolveOptions, type UrlInput, type WebSocketClientOptions } from "./options.js";
import { platform } from "./platform.js";
import { rejected } from "./promises.js";
import { isSendSource, type SendSource, toPayload } from "./send-source.js";
import { StreamedSends } from "./stream-send.js";
import { utf8 } from "./text-bytes.js";

/** `readyState` values, as the WHATWG WebSocket. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
/** One of the {@link ReadyState} values. */
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** Where a whole message goes: the lifecycle, an `onOpen` session's connection, or behind a streamed send. */
interface WholeSends {
  send(data: string | Uint8Array, binary: boolean, compress: boolean): Promise<void>;
}

/** Sends a whole message as {@link SendOptions} say: strings as text, bytes as binary. */
function sendWhole(to: WholeSends, data: SendData, options?: SendOptions): Promise<void> {
  const payload = toPayload(data);
  return to.send(payload, options?.binary ?? typeof payload !== "string", options?.compress !== false);
}

/**
 * The lifecycle with what the user sees of it: events (a listener's exception never reaches the
 * lifecycle), and received messages, to the "message" listeners and to the iterators' queue.
 */
class Inbox extends Lifecycle<EventEmitter<EmittedEvents>> {
  /** Iterators created and not yet returned. */
  #iterators = 0;
  /** Made on first use (a message with no "message" listener, an iterator, the run's end): listeners need none. */
  #queue: MessageQueue<Message> | undefined;
  /** `client.pause()` was called and `resume()` not yet: nothing is delivered, nothing read. */
  #userPaused = false;
  /**
   * Messages parsed after `pause()` (the rest of the read in progress), delivered in order on
   * `resume()`; made on first use. The run's end waits behind them (`#heldEnd`).
   */
  #held: Message[] | undefined;
  #heldEnd: [error: unknown] | undefined;

  get readingPaused(): boolean {
    return !!(this.#userPaused || this.#queue?.paused);
  }

  get userPaused(): boolean {
    return this.#userPaused;
  }

  /** The queue or the stream receiver asks to stop or to start reading again. */
  flow(paused: boolean): void {
    const conn = this.connection;
    if (paused) conn?.pause();
    // A user's pause() holds reading back on its own: only its resume() lifts it.
    else if (!this.#userPaused) conn?.resume();
  }

  /** `client.pause()`: stop reading and delivering until `resume()`. */
  pause(): void {
    if (this.#userPaused) return;
    this.#userPaused = true;
    this.flow(true);
  }

  /**
   * `client.resume()`: the held messages first, in a microtask (never from inside the caller), then
   * reading again, unless the iterator's queue still holds reading back.
   */
  resume(): void {
    if (!this.#userPaused) return;
    this.#userPaused = false;
    if (this.#held) queueMicrotask(() => this.#deliverHeld());
    if (!this.readingPaused) this.flow(false);
  }

  #deliverHeld(): void {
    // A listener that pauses again makes onMessage hold the rest anew, in order.
    for (const message of this.#held!.splice(0)) this.onMessage(message);
    const end = this.#heldEnd;
    // Not paused again: all the held messages went out.
    if (end !== undefined && !this.#userPaused) this.ended(end[0]);
  }

  /** The message queue, made now if needed. */
  messages(): MessageQueue<Message> {
    return (this.#queue ??= new MessageQueue<Message>(this.options, (paused) => this.flow(paused)));
  }

  /**
   * A listener of `event` threw: reported as an "error" if someone listens, else thrown as Node would
   * for a throwing listener (an uncaught exception), but after our state is consistent.
   */
  #listenerThrew(event: keyof EmittedEvents, err: unknown): void {
    if (event !== "error" && this.client.listenerCount("error") > 0) {
      this.emit("error", err as Error);
    } else {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  emit<K extends keyof EmittedEvents>(event: K, ...args: Parameters<EmittedEvents[K]>): void {
    try {
      (this.client.emit as (e: K, ...a: Parameters<EmittedEvents[K]>) => boolean)(event, ...args);
    } catch (err) {
      this.#listenerThrew(event, err);
    }
  }

  /** A message: to the listeners, and to the queue when there are none or an iterator is active. */
  onMessage(data: Message): void {
    if (this.#userPaused) {
      (this.#held ??= []).push(data);
      return;
    }
    const client = this.client;
    const hasListeners = client.listenerCount("message") > 0;
    if (!hasListeners || this.#iterators > 0) this.messages().push(data);
    if (!hasListeners) return;
    // The one event emitted per message: a fixed argument list, not emit()'s rest and spread.
    try {
      client.emit("message", data);
    } catch (err) {
      this.#listenerThrew("message", err);
    }
  }

  /** Message parts go to a stream receiver (withStreamReceiver). */
  deliverPart(_part: MessagePart | Error): void {}

  /** The run is over: the iterator ends after the queued messages (or throws `error`). */
  ended(error: unknown): void {
    if (this.#held?.length) {
      this.#heldEnd ??= [error]; // after the held messages, on resume()
      return;
    }
    this.#heldEnd = undefined;
    this.messages().end(error);
  }

  /** A new run starts (a closed client connects again): its iterators get a fresh queue. */
  restarted(): void {
    if (this.#queue?.ended) this.#queue = undefined;
    this.#heldEnd = undefined; // the held messages of the last run go on to the new run's queue
  }

  /** Runs the `onOpen` option with a session whose sends go straight to this connection. */
  protected runOnOpen(conn: ClientConnection, response: UpgradeResponse): void | Promise<void> {
    return this.options.onOpen?.(
      {
        response,
        send: (data, options) => sendWhole(conn, data, options),
        ping: (data) => conn.ping(controlPayload(data)),
      },
      response,
    );
  }

  /** `client.streams()`. */
  streams(): AsyncIterator<ReceivedStream, undefined> & AsyncIterable<ReceivedStream> {
    return streamsOf(undefined);
  }

  /** The client's iterator: see WebSocketClient[Symbol.asyncIterator]. */
  iterate(): AsyncIterator<Message, undefined> {
    this.#iterators++;
    let active = true;
    const stop = () => {
      if (active) {
        active = false;
        this.#iterators--;
      }
    };
    // Made once per iterator, not per message: the wait path's continuations.
    const settled = (result: IteratorResult<Message, undefined>) => {
      if (result.done) stop();
      return result;
    };
    const failed = (err: unknown): never => {
      stop();
      throw err;
    };
    const iterator: AsyncIterator<Message, undefined> & AsyncIterable<Message> = {
      next: () => {
        if (!active) return done();
        const queue = this.messages();
        // A queued message cannot end the iteration: its resolved promise is returned as it is,
        // one promise per message instead of an async wrapper's three (for await, node --cpu-prof).
        if (queue.length > 0) return queue.next();
        return queue.next().then(settled, failed);
      },
      return: () => {
        stop();
        return done();
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/** The inbox the client uses: with streamed receive on Node (message-stream.ts). */
const ReceivingInbox = withStreamReceiver(Inbox);

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
 * First connect: `connect()` retries transient failures (refused, 5xx, timeouts) `initialRetries`
 * times (default 2, a few seconds) with a "reconnecting" event before each wait, then rejects with the
 * last error; it rejects at once for what retrying cannot fix (401, 404, an unknown host, TLS
 * verification, a server that does not speak WebSocket). Once a connection has opened, drops are
 * retried per `reconnect.retries` (default: for ever). Pass `reconnect: false` to never retry.
 */
export class WebSocketClient<B extends BinaryType = "uint8array", T extends TextAs = "string">
  extends EventEmitter<ClientEvents<B, T>>
  implements AsyncIterable<Message<B, T>>
{
  /** The lifecycle, and the events and messages it delivers. */
  readonly #inbox: Inbox;
  /** Made by the first streamed send: orders whole messages behind streamed ones. */
  #streamed: StreamedSends | undefined;

  /**
   * `url`: `ws:`, `wss:` (`http:`/`https:` are mapped to them), `ws+unix:`, or a function (sync or
   * async) called before every attempt. Throws TypeError for an invalid URL or option, naming it.
   */
  constructor(url: UrlInput, options?: WebSocketClientOptions<B, T>) {
    super();
    const o = resolveOptions(url, options);
    // What the platform cannot do with these options throws here, not at connect.
    platform.prepare(o);
    // The events as emitted: "error" may also carry what a user's listener threw.
    const inbox = (this.#inbox = new ReceivingInbox(this as unknown as EventEmitter<EmittedEvents>, o));
    const signal = o.signal;
    const abort = () => inbox.abort(signal!.reason);
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  }

  /** The URL of the last attempt (the constructor's, with http(s) mapped to ws(s)). */
  get url(): string {
    const inbox = this.#inbox;
    const o = inbox.options;
    return inbox.url ?? (o.providers?.url ? "" : o.href);
  }
  /** Derived from the lifecycle: CONNECTING until open (and while `onOpen` runs), CLOSING while a close is under way. */
  get readyState(): ReadyState {
    return this.#inbox.readyState;
  }
  /** Bytes queued while disconnected or behind a streamed message, plus bytes the socket has not handed to the OS yet. */
  get bufferedAmount(): number {
    return this.#inbox.bufferedAmount + (this.#streamed?.waitingBytes ?? 0);
  }
  /** Last measured ping round trip, in ms. */
  get latency(): number | undefined {
    return this.#inbox.latency;
  }
  /** The subprotocol the server selected on the last handshake, or "". */
  get protocol(): string {
    return this.#inbox.response?.protocol ?? "";
  }
  /** The last handshake's response. */
  get response(): UpgradeResponse | undefined {
    return this.#inbox.response;
  }
  /**
   * The current connection attempt or open connection: its `id` (new on every attempt) and, once
   * TCP/TLS is up (from the "connect" event), the socket's addresses. Still defined in the "close"
   * listeners of that connection; undefined before the first attempt, while waiting to reconnect and
   * once closed.
   */
  get connectionInfo(): ConnectionInfo | undefined {
    return this.#inbox.connection?.info;
  }
  /**
   * How the last connection that had opened ended (`code`, `reason`, `wasClean`...), as the "close"
   * event reported it: set from that event on, kept while waiting to reconnect, after `close()` and
   * through the next connection; undefined until a connection has closed.
   */
  get lastClose(): CloseInfo | undefined {
    return this.#inbox.lastClose;
  }

  /**
   * Connects (if not already) and resolves with the handshake response once the connection is open
   * and `onOpen` has run. On a closed client, starts it again. Rejects with the attempt's error when
   * the policy gives up (see the class documentation), or with an AbortedError on `close()`.
   */
  connect(): Promise<UpgradeResponse> {
    return this.#inbox.connect();
  }

  /**
   * Sends a message: strings as text, bytes as binary (see {@link SendOptions}). Resolves when the
   * frame is handed to the OS; rejects if the connection dies first. Until a connection is open and
   * its `onOpen` has run, the message waits in a queue bounded by `maxQueuedBytes` (beyond it:
   * SendQueueFullError) and goes out after what `onOpen` sent. Rejects with InvalidStateError once the
   * client is closing or closed. Throws TypeError for other data types. The promise may be ignored: a
   * failed send is never an unhandled rejection; sends of one tick share one promise.
   *
   * `data` may also be a {@link SendSource} (an async iterable, a Node `Readable`, a WHATWG
   * `ReadableStream`): one message sent chunk by chunk as fragments, pulled as the socket drains, and
   * resolved when its last fragment is written (docs/client.md, "Streaming"). Whole messages sent
   * meanwhile wait until it has ended. Rejects with StreamSourceError (the source threw: the
   * connection is failed with 1011) or StreamInterruptedError (the connection ended or the client
   * closed first: nothing is resent).
   */
  send(data: SendData | SendSource, options?: SendOptions): Promise<void> {
    if (typeof data !== "string" && isSendSource(data)) {
      return (this.#streamed ??= new StreamedSends(this.#inbox)).stream(data, options?.binary);
    }
    const streamed = this.#streamed;
    return sendWhole(streamed?.busy ? streamed : this.#inbox, data, options);
  }

  /**
   * Sends a ping and resolves with the round trip in ms once its pong arrives (the "pong" event
   * reports it too). `data` (text as UTF-8, or bytes; at most 125 bytes) is the payload; without it
   * the client uses one of its own. Rejects unless open. Throws RangeError at once over 125 bytes.
   */
  ping(data?: ControlData): Promise<number> {
    const payload = controlPayload(data);
    const conn = this.#inbox.ready;
    return conn ? conn.ping(payload) : rejected(stateError("ping", "not open"));
  }

  /**
   * Sends an unsolicited pong (RFC 6455 section 5.5.3: a unidirectional heartbeat; no answer is
   * expected) with `data` as its payload. Throws InvalidStateError unless open, RangeError over 125 bytes.
   */
  pong(data?: ControlData): void {
    const payload = controlPayload(data);
    const conn = this.#inbox.ready;
    if (!conn) throw stateError("pong", "not open");
    conn.pong(payload);
  }

  /**
   * Closes the connection (closing handshake, then at most `closeTimeout` for the server to close
   * TCP) and stops reconnecting. Throws RangeError at once for a code not allowed or a reason over
   * 123 bytes. Resolves at once on a closed client. Sends still queued are rejected; the iterator
   * ends after the messages already queued.
   */
  close(code = 1000, reason = ""): Promise<void> {
    // The default is 1000 (Normal) as a literal: CloseCode would bring the core's whole table into the browser bundle.
    if (!isValidWireCloseCode(code)) {
      throw new RangeError(`close code ${code}: use 1000-1003, 1007-1014 or 3000-4999`);
    }
    if (utf8.encode(reason).length > MAX_CLOSE_REASON_BYTES) {
      throw new RangeError(`close reason over ${MAX_CLOSE_REASON_BYTES} bytes`);
    }
    this.#streamed?.interrupt("closing");
    return this.#inbox.close(code, reason);
  }

  /** Destroys the connection at once, without a close handshake, and stops reconnecting. */
  terminate(): void {
    this.#streamed?.interrupt("terminated");
    this.#inbox.terminate();
  }

  /**
   * Closes the current connection and connects again after `delayMs` (Workerman `reConnect`), even
   * with `reconnect: false`. On a closed client, starts it again after the delay.
   */
  reconnect(delayMs = 0): void {
    if (!(delayMs >= 0)) throw new RangeError(`reconnect delay must be >= 0, got ${delayMs}`);
    this.#inbox.reconnect(delayMs);
  }

  /**
   * With `receive: "stream"`: the received messages, each as a {@link MessageStream} to pull its
   * chunks from, in order, across reconnects (like the client's own iterator). Taking the next one
   * drops the rest of the previous one; a message cut by the end of its connection rejects the
   * pulls of its stream with that connection's error. Throws a TypeError without `receive: "stream"`.
   */
  streams(): AsyncIterator<ReceivedStream, undefined> & AsyncIterable<ReceivedStream> {
    return this.#inbox.streams();
  }

  /**
   * Stops reading from the socket (TCP pushes back on the server) and delivering messages: no
   * "message" event and nothing new for the iterator until {@link resume}. The messages of the read
   * in progress are held, in order. Holds across reconnects (a new connection starts paused) and
   * after `close()`. Pings from the server are not answered meanwhile (they are not read), and the
   * heartbeat is suspended, so a paused connection is never declared dead.
   */
  pause(): void {
    this.#inbox.pause();
  }

  /**
   * Delivers the held messages in order (in a microtask, not from inside this call), then reads
   * again, unless the iterator's own backpressure (`highWaterMark`) still holds reading back.
   */
  resume(): void {
    this.#inbox.resume();
  }

  /** True between {@link pause} and {@link resume}. */
  get isPaused(): boolean {
    return this.#inbox.userPaused;
  }

  /**
   * Async iteration over received messages; `break` does not close the client. Throws a TypeError
   * with `receive: "stream"`: use {@link WebSocketClient.streams} then.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message<B, T>, undefined> {
    // The queue holds what this client's binaryType produces.
    return this.#inbox.iterate() as AsyncIterator<Message<B, T>, undefined>;
  }

  /** `await using client = await connect(url)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Creates a client and connects it: `await using ws = await connect(url)`. Rejects (and cleans up) if connecting fails. */
export async function connect<B extends BinaryType = "uint8array", T extends TextAs = "string">(
  url: UrlInput,
  options?: WebSocketClientOptions<B, T>,
): Promise<WebSocketClient<B, T>> {
  const client = new WebSocketClient(url, options);
  try {
    await client.connect();
  } catch (err) {
    client.terminate();
    throw err;
  }
  return client;
}
