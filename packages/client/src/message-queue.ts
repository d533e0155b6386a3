/**
 * Received messages waiting for an async iterator, with flow control: past `highWaterMark` bytes it
 * asks to pause reading, and at or under `lowWaterMark` it asks to resume (as websockets'
 * `asyncio/messages.py` `maybe_pause` / `maybe_resume`). It outlives connections: the client keeps
 * one queue across reconnects, so the iterator sees every message once, in order.
 */

export interface MessageQueueOptions<T> {
  highWaterMark: number;
  lowWaterMark: number;
  /** Size of an item for the water marks. */
  sizeOf: (item: T) => number;
  /** Called when the queued size rises above highWaterMark: stop reading. */
  onPause: () => void;
  /** Called when it falls back to lowWaterMark or under, after a pause: read again. */
  onResume: () => void;
}

type Waiter<T> = { resolve: (r: IteratorResult<T, undefined>) => void; reject: (e: unknown) => void };

export class MessageQueue<T> {
  readonly #o: MessageQueueOptions<T>;
  /** `sizeOf`, held directly: read twice per message, one property load fewer each time. */
  readonly #sizeOf: (item: T) => number;
  // A plain array with a head index: shift() is O(n) on large queues; compact when half is consumed.
  #items: T[] = [];
  #head = 0;
  #bytes = 0;
  #paused = false;
  #waiters: Waiter<T>[] = [];
  /** Set once the queue ends: `null` for a clean end, else the error to throw after the last item. */
  #end: { error: unknown } | null | undefined;

  constructor(o: MessageQueueOptions<T>) {
    this.#o = o;
    this.#sizeOf = o.sizeOf;
  }

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }
  /** Their size, in the unit of `sizeOf`. */
  get bytes(): number {
    return this.#bytes;
  }
  /** True while the queue asked to stop reading. */
  get paused(): boolean {
    return this.#paused;
  }
  /** True after end() or fail(). */
  get ended(): boolean {
    return this.#end !== undefined;
  }

  /** Adds a message; hands it straight to a waiting `next()` if there is one. Ignored after the end. */
  push(item: T): void {
    if (this.#end !== undefined) return;
    // Checked before shift(): most pushes find no waiter (the consumer is behind, reading the queue).
    if (this.#waiters.length > 0) {
      (this.#waiters.shift() as Waiter<T>).resolve({ done: false, value: item });
      return;
    }
    this.#items.push(item);
    this.#bytes += this.#sizeOf(item);
    if (!this.#paused && this.#bytes > this.#o.highWaterMark) {
      this.#paused = true;
      this.#o.onPause();
    }
  }

  /** Ends the queue cleanly: `next()` yields what is queued, then `done`. */
  end(): void {
    this.#finish(null);
  }

  /** Ends the queue with an error: `next()` yields what is queued, then rejects with `error`. */
  fail(error: unknown): void {
    this.#finish({ error });
  }

  /** Drops queued messages (used when the client is terminated). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#maybeResume();
  }

  /** The next message, waiting for one if needed. */
  next(): Promise<IteratorResult<T, undefined>> {
    const items = this.#items;
    const head = this.#head;
    if (head < items.length) {
      const item = items[head] as T;
      items[head] = undefined as T; // let it be collected
      if (head + 1 === items.length) {
        // Emptied: truncated in place, so a queue that fills and drains keeps its backing store.
        items.length = 0;
        this.#head = 0;
      } else if (head >= 1024 && (head + 1) * 2 > items.length) {
        this.#items = items.slice(head + 1);
        this.#head = 0;
      } else this.#head = head + 1;
      this.#bytes -= this.#sizeOf(item);
      if (this.#paused) this.#maybeResume();
      return Promise.resolve({ done: false, value: item });
    }
    if (this.#end === null) return Promise.resolve({ done: true, value: undefined });
    if (this.#end !== undefined) return Promise.reject(this.#end.error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #maybeResume(): void {
    if (this.#paused && this.#bytes <= this.#o.lowWaterMark) {
      this.#paused = false;
      this.#o.onResume();
    }
  }

  #finish(end: { error: unknown } | null): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    // Waiters exist only when the queue is empty: they get the end now.
    for (const w of this.#waiters.splice(0)) {
      if (end === null) w.resolve({ done: true, value: undefined });
      else w.reject(end.error);
    }
  }
}
