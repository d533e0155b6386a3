/**
 * Time, injected. Heartbeat and reconnect read the time and set timers only through a {@link Clock},
 * so their tests drive a {@link ManualClock} and never sleep.
 */

declare const timerBrand: unique symbol;

/** An opaque timer handle: only the clock that returned it can clear it. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
  /** Monotonic milliseconds (not wall-clock time: it never jumps when the system clock is set). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing a timer that already ran or was cleared does nothing. */
  clearTimeout(h: TimerHandle): void;
}

/**
 * The longest delay Node's `setTimeout` honours: larger values (and `Infinity`) overflow a signed
 * 32-bit integer and fire after 1 ms instead, so the system clock clamps to it (about 24.8 days).
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A clock on `performance.now()` and the global timers.
 *
 * `unref`: when true, a pending timer does not keep the Node process alive (a no-op in runtimes
 * whose timers have no `unref()`). Heartbeat timers are unref'd: while the socket is open, the
 * socket itself keeps the process alive, and once it is gone a forgotten heartbeat must not.
 */
export function createSystemClock(options: { unref: boolean }): Clock {
  return {
    now: () => performance.now(),
    setTimeout(fn, ms) {
      const delay = Number.isNaN(ms) ? 0 : Math.min(Math.max(ms, 0), MAX_TIMER_DELAY);
      const timer: unknown = globalThis.setTimeout(fn, delay);
      if (options.unref) (timer as { unref?: () => void }).unref?.();
      return timer as TimerHandle;
    },
    clearTimeout(h) {
      globalThis.clearTimeout(h as unknown as Parameters<typeof globalThis.clearTimeout>[0]);
    },
  };
}

/** The default clock: real time, timers unref'd so they never keep a process alive. */
export const systemClock: Clock = createSystemClock({ unref: true });

interface ManualTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A clock that only moves when told to, for tests. Exported from the module (not only from the tests)
 * so the connection and client tests can drive the heartbeat with it too.
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
