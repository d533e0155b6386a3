/**
 * Streamed receive (`receive: "stream"`): the parts of messages the core reports as they arrive
 * (message-start, message-chunk, message-end) become {@link MessageStream}s, handed out one at a time
 * by `client.streams()` and pulled chunk by chunk. All parts wait in ONE queue with water marks, so
 * a consumer that does not pull pauses the socket, as with whole messages; a stream that is dropped
 * (or left for the next one) has the rest of its parts discarded as they come. Compressed messages
 * are inflated here, as they arrive, through a StreamInflater: their text is validated and their
 * inflated size limited here too (the core only sees compressed bytes).
 */
import { ErrorCodes, ProtocolError } from "@tideway/core";
import { Utf8ChunkDecoder } from "@tideway/core/internals";
import type { ClientConnection, StreamingConnection } from "./client-connection.js";
import type { MessagePart } from "./events.js";
import { MessageQueue, type WaterMarks } from "./message-queue.js";
import { StreamInflater } from "./stream-inflate.js";

/** The kind of a streamed message. */
export type StreamKind = "text" | "binary";
/** The chunks of a message of kind `K`: strings for text, bytes for binary. */
export type StreamChunk<K extends StreamKind> = K extends "text" ? string : Uint8Array;
/** A message received as a stream: narrow it on `type` to type its chunks. */
export type ReceivedStream = MessageStream<"text"> | MessageStream<"binary">;

/** Queue items other than chunks: a message starts; the connection ended inside a message. */
class Start {
  constructor(readonly binary: boolean) {}
}
class Aborted {
  constructor(readonly error: Error) {}
}
const END = Symbol("end of message");
type Item = Start | string | Uint8Array | typeof END | Aborted;

/** Why reading is held: the queue is full, zlib's input is full, a compressed message is flushing. */
const HELD_BY_QUEUE = 1;
const HELD_BY_DRAIN = 2;
const HELD_BY_FLUSH = 4;

/** The client's options the receiver reads. */
export interface StreamOptions extends WaterMarks {
  readonly receive: "message" | "stream";
  /** Bound of what `text()` / `bytes()` collect. */
  readonly maxPayload: number;
  /** Bound of a message's inflated size. */
  readonly maxStreamedPayload: number;
}

/** What the receiver needs of the client's lifecycle: the current connection, to fail it. */
export interface StreamLifecycle {
  readonly connection: ClientConnection | undefined;
}

/** The client's inbox (client.ts) as the receiver plugs into it. */
export interface ReceivingInbox extends StreamLifecycle {
  readonly options: StreamOptions;
  /** Reading is held: a new connection starts paused. */
  readonly readingPaused: boolean;
  /** Stop or start reading again (the client's own pause() may still hold reading back). */
  flow(paused: boolean): void;
  deliverPart(part: MessagePart | Error): void;
  ended(error: unknown): void;
  restarted(): void;
  streams(): AsyncIterator<ReceivedStream, undefined> & AsyncIterable<ReceivedStream>;
  iterate(): AsyncIterator<unknown, undefined>;
}

/**
 * The client's inbox with streamed receive: with `receive: "stream"` a receiver takes the message
 * parts and serves `client.streams()`, and the client's own iterator is refused. A mixin, so that
 * the browser build (which refuses the option) holds none of it.
 */
// biome-ignore lint/suspicious/noExplicitAny: a mixin's constructor takes any arguments (TS2545)
export function withStreamReceiver<C extends new (...args: any[]) => ReceivingInbox>(Inbox: C): C {
  return class extends Inbox {
    #receiver: StreamReceiver | undefined;

    // biome-ignore lint/suspicious/noExplicitAny: as above
    constructor(...args: any[]) {
      super(...args);
      const o = this.options;
      if (o.receive === "stream") this.#receiver = new StreamReceiver(o, this, (paused) => this.flow(paused));
    }

    override get readingPaused(): boolean {
      return super.readingPaused || !!this.#receiver?.paused;
    }

    override deliverPart(part: MessagePart | Error): void {
      this.#receiver?.accept(part);
    }

    override ended(error: unknown): void {
      this.#receiver?.ended(error);
      super.ended(error);
    }

    override restarted(): void {
      this.#receiver?.restarted();
      super.restarted();
    }

    override streams(): AsyncIterator<ReceivedStream, undefined> & AsyncIterable<ReceivedStream> {
      return streamsOf(this.#receiver);
    }

    override iterate(): AsyncIterator<unknown, undefined> {
      // Its messages come as streams.
      if (this.#receiver !== undefined) throw new TypeError('receive: "stream": iterate client.streams()');
      return super.iterate();
    }
  };
}

/**
 * `client.streams()`: the received messages as streams, in order, across reconnects; a TypeError
 * without `receive: "stream"` (no receiver).
 */
export function streamsOf(
  receiver: StreamReceiver | undefined,
): AsyncIterator<ReceivedStream, undefined> & AsyncIterable<ReceivedStream> {
  if (receiver === undefined) throw new TypeError('client.streams() needs the option receive: "stream"');
  let active = true;
  const iterator: AsyncIterator<ReceivedStream, undefined> & AsyncIterable<ReceivedStream> = {
    next: () => (active ? receiver.nextStream() : Promise.resolve({ done: true, value: undefined })),
    return: () => {
      active = false;
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/**
 * One message received as a stream: an async iterable of its chunks as they arrive (strings that
 * never split a code point for text, `Uint8Array` for binary). Pulling drives backpressure: while
 * no one pulls, reading pauses once `highWaterMark` bytes wait. Read it once; `drop()` (or a
 * `break` out of `for await`, or taking the next stream) discards the rest as it arrives.
 */
export class MessageStream<K extends StreamKind = StreamKind> implements AsyncIterable<StreamChunk<K>> {
  /** "text" or "binary". */
  readonly type: K;
  readonly #receiver: StreamReceiver;
  /** "open" while chunks may come; "done" after the end (or an error); "dropped" once dropped. */
  #state: "open" | "done" | "dropped" = "open";
  #skipping: Promise<void> | undefined;

  /** @internal Made by the client for each message. */
  constructor(type: K, receiver: StreamReceiver) {
    this.type = type;
    this.#receiver = receiver;
  }

  /**
   * The next chunk. Rejects with the connection's error when it ends before the message does
   * (a ProtocolError with close code 1007 for invalid UTF-8, 1009 for a message too big).
   */
  async #next(): Promise<IteratorResult<StreamChunk<K>, undefined>> {
    if (this.#state !== "open") return { done: true, value: undefined };
    let item: Item;
    try {
      item = await this.#receiver.pull();
    } catch (error) {
      this.#state = "done";
      throw error;
    }
    if (typeof item === "string" || item instanceof Uint8Array) {
      return { done: false, value: item as StreamChunk<K> };
    }
    this.#state = "done";
    if (item === END) return { done: true, value: undefined };
    throw item instanceof Aborted ? item.error : new Error("message stream out of order");
  }

  /** The chunks as they arrive; leaving the loop early (`break`) drops the rest of the message. */
  [Symbol.asyncIterator](): AsyncIterator<StreamChunk<K>, undefined> {
    return {
      next: () => this.#next(),
      // `break` out of `for await`: the rest is discarded as it arrives.
      return: () => {
        this.drop();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /**
   * Collects the message as a string (binary is decoded as UTF-8). Rejects with a RangeError once
   * it passes `maxPayload` bytes (the rest is dropped), or with the connection's error.
   */
  async text(): Promise<string> {
    const chunks = await this.#collect();
    if (this.type === "text") return (chunks as string[]).join("");
    return new TextDecoder().decode(concat(chunks as Uint8Array[]));
  }

  /** Collects the message as bytes (text as UTF-8); rejects as {@link MessageStream.text}. */
  async bytes(): Promise<Uint8Array> {
    const chunks = await this.#collect();
    if (this.type === "text") return new TextEncoder().encode((chunks as string[]).join(""));
    return concat(chunks as Uint8Array[]);
  }

  /** Discards the rest of the message as it arrives, without buffering it. Idempotent. */
  drop(): void {
    void this.skip();
  }

  /** @internal Drops the message; resolves once its end (or the connection's) was taken from the queue. */
  skip(): Promise<void> {
    if (this.#skipping !== undefined) return this.#skipping;
    const wasOpen = this.#state === "open";
    this.#state = "dropped";
    this.#skipping = wasOpen ? this.#receiver.discardMessage() : Promise.resolve();
    return this.#skipping;
  }

  async #collect(): Promise<Array<string | Uint8Array>> {
    const limit = this.#receiver.maxPayload;
    const chunks: Array<string | Uint8Array> = [];
    let size = 0;
    for (;;) {
      const r = await this.#next();
      if (r.done) return chunks;
      // Text counts code units: a string never has more of them than its UTF-8 bytes.
      size += typeof r.value === "string" ? r.value.length : r.value.byteLength;
      if (size > limit) {
        this.drop();
        throw new RangeError(`Message too big to collect: over maxPayload (${limit} bytes)`);
      }
      chunks.push(r.value);
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * The client's side of streamed receive: takes the parts from the connections (`accept`), inflates
 * compressed messages, queues everything in order, and serves `client.streams()` (`nextStream`).
 */
export class StreamReceiver {
  readonly #o: StreamOptions;
  readonly #lifecycle: StreamLifecycle;
  readonly #flow: (paused: boolean) => void;
  #queue: MessageQueue<Item>;
  #held = 0;
  /** A start is queued without its end yet. */
  #inMessage = false;
  /** The message being received is compressed (it goes through #inflater) and text. */
  #compressed = false;
  #text = false;
  #inflater: StreamInflater | undefined;
  #decoder: Utf8ChunkDecoder | undefined;
  #inflated = 0;
  /**
   * Parts that arrived while a compressed message's last output is still coming: taken in order
   * once it has. An Error part: the connection ended.
   */
  #backlog: Array<MessagePart | Error> | undefined;
  /** This connection was failed over inflated output: its parts are ignored until it ends. */
  #failed = false;
  /** Why the last connection ended: thrown by a stream whose message the run's end cut. */
  #lastEnd: Error | undefined;
  /** The stream handed out last, dropped when the next one is taken. */
  #current: MessageStream | undefined;

  constructor(o: StreamOptions, lifecycle: StreamLifecycle, flow: (paused: boolean) => void) {
    this.#o = o;
    this.#lifecycle = lifecycle;
    this.#flow = flow;
    this.#queue = this.#newQueue();
  }

  get maxPayload(): number {
    return this.#o.maxPayload;
  }

  /** Reading is held: a new connection starts paused. */
  get paused(): boolean {
    return this.#held !== 0;
  }

  #newQueue(): MessageQueue<Item> {
    return new MessageQueue<Item>(this.#o, (paused) => {
      if (paused) {
        this.#inflater?.pause();
        this.#hold(HELD_BY_QUEUE);
      } else {
        this.#inflater?.resume();
        this.#release(HELD_BY_QUEUE);
      }
    });
  }

  /** A part from the connection, or the Error the connection ended with. */
  accept(part: MessagePart | Error): void {
    if (this.#backlog !== undefined) this.#backlog.push(part);
    else this.#process(part);
  }

  /** The run is over: streams end after what is queued (or throw `error`). */
  ended(error: unknown): void {
    this.#queue.end(error);
  }

  /** A closed client starts again: a fresh queue. */
  restarted(): void {
    if (this.#queue.ended) this.#queue = this.#newQueue();
  }

  /** The next message's stream; the one handed out before is dropped first. */
  async nextStream(): Promise<IteratorResult<ReceivedStream, undefined>> {
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await current.skip();
    for (;;) {
      const r = await this.#queue.next();
      if (r.done) return r;
      if (r.value instanceof Start) {
        const stream = new MessageStream(r.value.binary ? "binary" : "text", this) as ReceivedStream;
        this.#current = stream;
        return { done: false, value: stream };
      }
      // Anything else is the rest of a message nobody took: skipped.
    }
  }

  /** @internal The next item of the current message; the end of the run inside it is an error. */
  async pull(): Promise<Item> {
    const r = await this.#queue.next();
    if (!r.done) return r.value;
    return new Aborted(this.#lastEnd ?? new Error("The connection closed before the message ended"));
  }

  /** @internal Takes the current message's items up to its end, discarding them as they arrive. */
  async discardMessage(): Promise<void> {
    for (;;) {
      let item: Item;
      try {
        item = await this.pull();
      } catch {
        return;
      }
      if (item === END || item instanceof Aborted || item instanceof Start) return;
    }
  }

  #process(part: MessagePart | Error): void {
    if (part instanceof Error) {
      this.#connectionEnded(part);
      return;
    }
    if (this.#failed) return;
    switch (part.type) {
      case "message-start":
        this.#inMessage = true;
        this.#compressed = part.compressed;
        this.#text = !part.binary;
        this.#inflated = 0;
        this.#decoder?.reset();
        this.#queue.push(new Start(part.binary));
        return;
      case "message-chunk": {
        if (!this.#compressed) {
          this.#queue.push(part.data);
          return;
        }
        const inflater = this.#inflaterNow();
        if (!inflater.write(part.data as Uint8Array) && !(this.#held & HELD_BY_DRAIN)) {
          this.#hold(HELD_BY_DRAIN);
          inflater.onDrain(() => this.#release(HELD_BY_DRAIN));
        }
        return;
      }
      case "message-end":
        if (!this.#compressed) {
          this.#endMessage();
          return;
        }
        // What follows waits for the message's last output, in order.
        this.#backlog = [];
        this.#hold(HELD_BY_FLUSH);
        this.#inflaterNow().endMessage(() => this.#inflatedMessage());
        return;
    }
  }

  #inflaterNow(): StreamInflater {
    if (this.#inflater === undefined) {
      this.#inflater = new StreamInflater(
        (bytes) => this.#inflatedChunk(bytes),
        (error) =>
          this.#fail(
            new ProtocolError(ErrorCodes.DecompressionFailed, `Invalid compressed data: ${error.message}`, {
              cause: error,
            }),
          ),
      );
      if (this.#queue.paused) this.#inflater.pause();
    }
    return this.#inflater;
  }

  #inflatedChunk(bytes: Uint8Array): void {
    if (this.#failed) return;
    this.#inflated += bytes.byteLength;
    const limit = this.#o.maxStreamedPayload;
    if (this.#inflated > limit) {
      this.#fail(
        new ProtocolError(
          ErrorCodes.PayloadTooBig,
          `Message too big: over ${limit} bytes once inflated (the limit of streamed messages is ${limit})`,
        ),
      );
      return;
    }
    if (!this.#text) {
      this.#queue.push(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return;
    }
    const text = (this.#decoder ??= new Utf8ChunkDecoder()).push(bytes, false);
    if (text === undefined)
      this.#fail(new ProtocolError(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message"));
    else if (text.length > 0) this.#queue.push(text);
  }

  /** A compressed message's last output came: end it, then take the parts that waited. */
  #inflatedMessage(): void {
    if (this.#failed) return;
    if (this.#text && (this.#decoder ??= new Utf8ChunkDecoder()).push(EMPTY, true) === undefined) {
      this.#fail(new ProtocolError(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in a text message"));
      return;
    }
    this.#endMessage();
    this.#takeBacklog();
  }

  #takeBacklog(): void {
    const backlog = this.#backlog ?? [];
    this.#backlog = undefined;
    for (let i = 0; i < backlog.length; i++) {
      this.#process(backlog[i]!);
      if (this.#backlog !== undefined) {
        // Another compressed message ended: the rest waits for it.
        (this.#backlog as Array<MessagePart | Error>).push(...backlog.slice(i + 1));
        return;
      }
    }
    this.#release(HELD_BY_FLUSH);
  }

  #endMessage(): void {
    this.#inMessage = false;
    this.#compressed = false;
    this.#queue.push(END);
  }

  /** Inflated output broke a rule: fail the connection; its remaining parts are ignored. */
  #fail(error: ProtocolError): void {
    this.#failed = true;
    this.#inflater?.destroy();
    this.#inflater = undefined;
    this.#release(HELD_BY_DRAIN);
    if (this.#backlog !== undefined) this.#takeBacklog();
    // The connection reports the error back (accept), which aborts the message now.
    // receive: "stream" is Node-only (node-options-browser.ts), where connections stream.
    (this.#lifecycle.connection as StreamingConnection | undefined)?.failReceive(error);
  }

  #connectionEnded(error: Error): void {
    this.#lastEnd = error;
    this.#inflater?.destroy();
    this.#inflater = undefined;
    this.#failed = false;
    this.#compressed = false;
    this.#release(HELD_BY_DRAIN);
    if (this.#inMessage) {
      this.#inMessage = false;
      this.#queue.push(new Aborted(error));
    }
  }

  #hold(reason: number): void {
    const before = this.#held;
    this.#held |= reason;
    if (before === 0) this.#flow(true);
  }

  #release(reason: number): void {
    if ((this.#held & reason) === 0) return;
    this.#held &= ~reason;
    if (this.#held === 0) this.#flow(false);
  }
}

const EMPTY = /* @__PURE__ */ new Uint8Array(0);
