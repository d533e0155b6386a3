/**
 * Received messages waiting for an async iterator, with flow control: past `highWaterMark` it asks to
 * pause reading, and at or under `lowWaterMark` it asks to resume (as websockets'
 * `asyncio/messages.py` `maybe_pause` / `maybe_resume`). It outlives connections: the client keeps
 * one queue across reconnects, so the iterator sees every message once, in order.
 */

import { rejected } from "./promises.js";

/** The water marks, in the unit of {@link sizeOf} (the client's resolved options carry them). */
export interface WaterMarks {
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
}

/** What an item that is neither text nor bytes (a streamed message's start or end) weighs. */
const MARKER_SIZE = 64;

/**
 * What an item weighs against the water marks: code units for text, bytes for binary, and
 * MARKER_SIZE for anything else, so that a flood of empty streamed messages still reaches the mark.
 */
function sizeOf(item: unknown): number {
  return typeof item === "string"
    ? item.length
    : ((item as { byteLength?: number }).byteLength ?? MARKER_SIZE);
}

/** An iterator's end, as `next()` resolves with it. */
export const done = () => Promise.resolve({ done: true, value: undefined } as const);

/** A pending `next()`, settled with an item or with the queue's end. */
type Waiter<T> = (result: IteratorResult<T, undefined> | Promise<IteratorResult<T, undefined>>) => void;

export class MessageQueue<T> {
  readonly #marks: WaterMarks;
  /**
   * Called with true when the queued size rises above highWaterMark (stop reading), with false when
   * it falls back to lowWaterMark or under.
   */
  readonly #flow: (paused: boolean) => void;
  // A plain array with a head index: shift() is O(n) on large queues; compact when half is consumed.
  #items: T[] = [];
  #head = 0;
  #bytes = 0;
  #paused = false;
  /** The pending `next()` calls, only while the queue is empty. */
  #waiters: Waiter<T>[] = [];
  /** Set by end(): what `next()` returns once the items are taken. */
  #end: Promise<IteratorResult<T, undefined>> | undefined;

  constructor(marks: WaterMarks, flow: (paused: boolean) => void) {
    this.#marks = marks;
    this.#flow = flow;
  }

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }
  /** True while the queue asked to stop reading. */
  get paused(): boolean {
    return this.#paused;
  }
  /** True after end(). */
  get ended(): boolean {
    return this.#end !== undefined;
  }

  /** Adds a message; hands it straight to a waiting `next()` if there is one. Ignored after the end. */
  push(item: T): void {
    if (this.#end) return;
    // Checked before shift(): most pushes find no waiter (the consumer is behind, reading the queue).
    if (this.#waiters.length > 0) {
      this.#waiters.shift()!({ done: false, value: item });
      return;
    }
    this.#items.push(item);
    this.#bytes += sizeOf(item);
    if (!this.#paused && this.#bytes > this.#marks.highWaterMark) {
      this.#paused = true;
      this.#flow(true);
    }
  }

  /**
   * Ends the queue (the first call counts): `next()` yields what is queued, then `done`, or rejects
   * with `error` when one is given.
   */
  end(error?: unknown): void {
    if (this.#end) return;
    // A failure nobody reads is not an unhandled rejection.
    const end = (this.#end = error === undefined ? done() : rejected(error));
    // Waiters exist only when the queue is empty: they get the end now.
    for (const waiter of this.#waiters.splice(0)) waiter(end);
  }

  /** The next message, waiting for one if needed. */
  next(): Promise<IteratorResult<T, undefined>> {
    const items = this.#items;
    const head = this.#head;
    if (head < items.length) {
      const item = items[head] as T;
      items[head] = undefined as T; // let it be collected
      let next = head + 1;
      if (next === items.length) {
        // Emptied: truncated in place, so a queue that fills and drains keeps its backing store.
        items.length = 0;
        next = 0;
      } else if (head >= 1024 && next * 2 > items.length) {
        this.#items = items.slice(next);
        next = 0;
      }
      this.#head = next;
      this.#bytes -= sizeOf(item);
      if (this.#paused && this.#bytes <= this.#marks.lowWaterMark) {
        this.#paused = false;
        this.#flow(false);
      }
      return Promise.resolve({ done: false, value: item });
    }
    return this.#end ?? new Promise((resolve) => this.#waiters.push(resolve));
  }
}
