/**
 * Time, injected. Heartbeat and reconnect read the time and set timers only through a {@link Clock},
 * so their tests drive a manual clock (test/helpers/manual-clock.ts) and never sleep.
 */

declare const timerBrand: unique symbol;

/** An opaque timer handle: only the clock that returned it can clear it. */
export type TimerHandle = { readonly [timerBrand]: true };

export interface Clock {
  /** Monotonic milliseconds (not wall-clock time: it never jumps when the system clock is set). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing a timer that already ran or was cleared, or `undefined`, does nothing. */
  clearTimeout(h: TimerHandle | undefined): void;
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
    // A method's name is no binding: setTimeout and clearTimeout in these bodies are the global ones.
    setTimeout(fn, ms) {
      // NaN (from the clamp) waits 0.
      const timer: unknown = setTimeout(fn, Math.min(Math.max(ms, 0), MAX_TIMER_DELAY) || 0);
      if (options.unref) (timer as { unref?: () => void }).unref?.();
      return timer as TimerHandle;
    },
    clearTimeout(h) {
      clearTimeout(h as unknown as Parameters<typeof clearTimeout>[0]);
    },
  };
}

/** The default clock: real time, timers unref'd so they never keep a process alive. */
export const systemClock: Clock = createSystemClock({ unref: true });
