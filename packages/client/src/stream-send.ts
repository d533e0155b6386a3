/**
 * Sending one message from a stream: each chunk of an async iterable, a WHATWG ReadableStream or a
 * Node Readable goes out as a fragment (first frame, continuations, then an empty FIN frame as
 * Python websockets does), the next chunk pulled only once the socket has room; and the order of the
 * client's sends around such a message: whole messages sent meanwhile wait until it has ended.
 */
import { InvalidStateError } from "@tideway/core";
import type { ClientConnection, StreamingConnection as Connection } from "./client-connection.js";
import {
  ConnectionClosedError,
  SendQueueFullError,
  StreamInterruptedError,
  StreamSourceError,
} from "./errors.js";
import type { SendSource } from "./send-source.js";
import { utf8 } from "./text-bytes.js";

export { isSendSource, type SendChunk, type SendSource } from "./send-source.js";

/**
 * Bytes the socket may hold, not yet handed to the OS, before a streamed send stops pulling its
 * source: enough to keep the kernel fed between two chunks, small against the message.
 */
export const STREAM_BUFFER_BYTES = 1024 * 1024;

/** The close reason of a connection failed by a source: no detail of the user's error on the wire. */
const SOURCE_FAILED_REASON = "streamed message failed";

const noop = (): void => {};

/**
 * The chunks of a source, pulled one at a time. A ReadableStream is read through its reader (older
 * browsers' streams are not async iterable); `return()` cancels it, as it destroys a Node Readable.
 */
function chunksOf(source: SendSource): AsyncIterator<unknown> {
  if (typeof (source as Partial<ReadableStream>).getReader !== "function") {
    return (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  }
  const reader = (source as ReadableStream<unknown>).getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    async return() {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

/** Ends an iterator early: a Node Readable is destroyed, a ReadableStream cancelled. What it throws is ignored. */
function releaseIterator(iterator: AsyncIterator<unknown>): void {
  Promise.resolve()
    .then(() => iterator.return?.())
    .catch(noop);
}

/** Releases a source that will not be read. */
function release(source: SendSource): void {
  try {
    releaseIterator(chunksOf(source));
  } catch {
    // A stream already locked by its owner: theirs to release.
  }
}

/** A chunk as bytes or text; anything else is the source's fault. */
function toChunk(value: unknown): Uint8Array | string {
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`a streamed message's chunks are strings or bytes, got ${typeof value}`);
}

/** A high surrogate that a following chunk's low surrogate may complete. */
function endsWithHighSurrogate(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}

/**
 * One pending wait at a time that an interruption (the connection's end, an abort) rejects. Not
 * Promise.race: each race would leave a reaction on the long-lived interruption promise.
 */
class Interruptible {
  #reject: ((reason: unknown) => void) | undefined;
  reason: unknown;
  /** The connection the message streams on, once it has one: its end interrupts the message. */
  conn: Connection | undefined;

  interrupt(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.#reject?.(reason);
  }

  wait<T>(promise: Promise<T>): Promise<T> {
    if (this.reason !== undefined) return Promise.reject(this.reason);
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      promise.then(resolve, reject);
    });
  }
}

/** A failure of the source, told apart from the connection's while streaming. */
class SourceFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * Streams one message on `conn`. `binary` undefined: the first chunk's type decides (a string is
 * text). Text is carried across chunks so that a surrogate pair split between two chunks stays one
 * code point; a lone surrogate becomes U+FFFD, as in a whole message.
 */
async function streamMessage(
  conn: Connection,
  source: SendSource,
  binaryOption: boolean | undefined,
  interruption: Interruptible,
): Promise<void> {
  let iterator: AsyncIterator<unknown> | undefined;
  let binary = binaryOption;
  let fragments = 0;
  let carry = "";
  try {
    try {
      iterator = chunksOf(source);
    } catch (err) {
      throw new SourceFailure(err); // a ReadableStream locked by another reader
    }
    const it = iterator;
    for (;;) {
      const next = await interruption.wait(
        Promise.resolve()
          .then(() => it.next())
          .catch((err: unknown) => Promise.reject(new SourceFailure(err))),
      );
      if (next.done === true) break;
      let chunk: Uint8Array | string;
      try {
        chunk = toChunk(next.value);
      } catch (err) {
        throw new SourceFailure(err);
      }
      binary ??= typeof chunk !== "string";
      if (typeof chunk === "string") {
        if (carry !== "") chunk = carry + chunk;
        carry = "";
        if (endsWithHighSurrogate(chunk)) {
          carry = chunk.slice(-1);
          chunk = chunk.slice(0, -1);
        }
      } else if (carry !== "") {
        // Bytes after a held half pair: it stays lone (U+FFFD), and goes first.
        conn.sendFragment(carry, binary, fragments === 0, false).catch(noop);
        fragments++;
        carry = "";
      }
      if (chunk.length === 0) continue;
      // A fragment nobody awaits: a failure also ends the connection, which the last one reports.
      conn.sendFragment(chunk, binary, fragments === 0, false).catch(noop);
      fragments++;
      await interruption.wait(conn.drained(STREAM_BUFFER_BYTES));
    }
    // The FIN frame carries what is left (a trailing lone surrogate, as U+FFFD), often nothing; a
    // source with no chunk at all makes one empty message.
    await interruption.wait(conn.sendFragment(carry, binary ?? true, fragments === 0, true));
  } catch (err) {
    if (err instanceof SourceFailure) {
      const error = new StreamSourceError(err.cause);
      // Half a message is on the wire and cannot be completed; with none sent, nothing needs failing.
      if (fragments > 0) conn.fail(error, SOURCE_FAILED_REASON);
      throw error;
    }
    if (iterator !== undefined) releaseIterator(iterator);
    throw new StreamInterruptedError(fragments, err);
  }
}

/** What the streamed sends need from the client's lifecycle. */
export interface StreamHost {
  /** Sends a whole message (the client's usual path); `compress` false: never compressed. */
  send(data: string | Uint8Array, binary: boolean, compress: boolean): Promise<void>;
  /** The open connection, if its protocol is still OPEN. */
  readonly ready: ClientConnection | undefined;
  /** Resolves once the next connection is open; rejects if the run ends first, or once the client is closing. */
  nextOpen(): Promise<unknown>;
  /** `maxQueuedBytes`: bytes that whole messages may hold while they wait. */
  readonly options: { readonly maxQueuedBytes: number };
}

/**
 * The order of the client's sends while a message streams: the streamed messages one after the
 * other, and whole messages sent meanwhile after the streamed ones before them, in call order.
 * Made on the first streamed send; idle (no tail) the client sends as if it did not exist.
 */
export class StreamedSends {
  readonly #host: StreamHost;
  /** Settles when the last streamed message queued has ended (sent or failed). */
  #tail: Promise<void> | undefined;
  /** Bytes of whole messages waiting behind a streamed one. */
  #waitingBytes = 0;
  /** The streamed messages under way or waiting: close() interrupts them all. */
  readonly #active = new Set<Interruptible>();
  /** Connections whose end is watched: one reaction per connection, not one per message. */
  readonly #watched = new WeakSet<Connection>();

  constructor(host: StreamHost) {
    this.#host = host;
  }

  /** True while a streamed message is under way or waiting: whole messages must go through {@link send}. */
  get busy(): boolean {
    return this.#tail !== undefined;
  }

  /** Bytes of whole messages waiting behind a streamed message. */
  get waitingBytes(): number {
    return this.#waitingBytes;
  }

  /** Streams one message after those before it; resolves when its last fragment is written. */
  stream(source: SendSource, binary: boolean | undefined): Promise<void> {
    const interruption = new Interruptible();
    this.#active.add(interruption);
    const run = (this.#tail ?? Promise.resolve())
      .then(async () => {
        let conn: Connection;
        try {
          conn = await interruption.wait(this.#whenOpen());
        } catch (err) {
          release(source);
          throw new StreamInterruptedError(0, err);
        }
        interruption.conn = conn;
        this.#watch(conn);
        return streamMessage(conn, source, binary, interruption);
      })
      .finally(() => this.#active.delete(interruption));
    run.catch(noop); // a send nobody awaits must not be an unhandled rejection
    const tail = run.then(noop, noop);
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return run;
  }

  /** The open connection, now or once the next one has run `onOpen` (after the queued sends). */
  async #whenOpen(): Promise<Connection> {
    const host = this.#host;
    // Only the Node build streams sends (stream-send-browser.ts refuses them), and its connections stream.
    while (host.ready === undefined) await host.nextOpen();
    return host.ready as Connection;
  }

  #watch(conn: Connection): void {
    if (this.#watched.has(conn)) return;
    this.#watched.add(conn);
    void conn.closed.then((info) => {
      const reason = new ConnectionClosedError(info, { cause: conn.error });
      for (const interruption of this.#active) if (interruption.conn === conn) interruption.interrupt(reason);
    });
  }

  /** A whole message sent while a streamed one is under way: it goes out once that one has ended. */
  send(data: string | Uint8Array, binary: boolean, compress: boolean): Promise<void> {
    const size = typeof data === "string" ? utf8.encode(data).length : data.byteLength;
    const limit = this.#host.options.maxQueuedBytes;
    if (this.#waitingBytes + size > limit) {
      const full = Promise.reject(new SendQueueFullError(this.#waitingBytes, size, limit));
      full.catch(noop);
      return full;
    }
    // The caller may reuse its bytes once send() returned.
    const copy = typeof data === "string" ? data : data.slice();
    this.#waitingBytes += size;
    const sent = (this.#tail as Promise<void>).then(() => {
      this.#waitingBytes -= size;
      return this.#host.send(copy, binary, compress);
    });
    sent.catch(noop);
    return sent;
  }

  /** close() or terminate(): the streamed messages under way or waiting stop. */
  interrupt(client: "closing" | "terminated"): void {
    for (const interruption of this.#active) {
      interruption.interrupt(new InvalidStateError(`the client is ${client}`));
    }
  }
}
