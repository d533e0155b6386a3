import type { Clock, TimerHandle } from "../../src/clock.js";

interface ManualTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to: heartbeat, backoff and lifecycle tests drive it and never sleep.
 *
 * `advance(ms)` runs every timer due within the next `ms` milliseconds in due order (timers due at the
 * same time in the order they were set), setting `now()` to each timer's due time before running it;
 * timers set by a running timer run too if they fall due within the window.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers: ManualTimer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    const delay = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
    this.#timers.push({ id, due: this.#now + delay, fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(h: TimerHandle): void {
    const id = h as unknown as number;
    this.#timers = this.#timers.filter((t) => t.id !== id);
  }

  /** How many timers are set and not yet run or cleared. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** The due time of the earliest pending timer, if any. */
  get nextDue(): number | undefined {
    return this.#earliest()?.due;
  }

  /** Moves time forward by `ms`, running the timers that fall due on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: expected ms >= 0, got ${ms}`);
    const target = this.#now + ms;
    for (let t = this.#earliest(); t !== undefined && t.due <= target; t = this.#earliest()) {
      this.#timers = this.#timers.filter((x) => x !== t);
      this.#now = t.due;
      t.fn();
    }
    this.#now = target;
  }

  #earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}
