// The clocks (clock.ts): the system clock and its clamp, and the tests' ManualClock.
import { describe, expect, it } from "vitest";
import { createSystemClock, systemClock, type TimerHandle } from "../src/clock.js";
import { Heartbeat } from "../src/heartbeat.js";
import { ManualClock } from "./helpers/manual-clock.js";

describe("clocks", () => {
  it("ManualClock runs due timers in order, including timers set by timers, and honours clearTimeout", () => {
    const clock = new ManualClock(10);
    const log: string[] = [];
    clock.setTimeout(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      log.push(`a@${clock.now()}`);
      clock.setTimeout(() => log.push(`c@${clock.now()}`), 5);
    }, 10);
    const cleared = clock.setTimeout(() => log.push("never"), 15);
    clock.setTimeout(() => log.push(`d@${clock.now()}`), 20);
    clock.clearTimeout(cleared);
    expect(clock.nextDue).toBe(20);
    clock.advance(19);
    expect(log).toEqual(["a@20", "c@25"]);
    expect(clock.now()).toBe(29);
    clock.advance(1);
    expect(log).toEqual(["a@20", "c@25", "b@30", "d@30"]);
    expect(clock.pendingTimers).toBe(0);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it("systemClock unrefs its timers and clamps huge delays", () => {
    const h = systemClock.setTimeout(() => {}, Number.POSITIVE_INFINITY) as unknown as NodeJS.Timeout;
    try {
      expect(h.hasRef()).toBe(false);
    } finally {
      systemClock.clearTimeout(h as unknown as TimerHandle);
    }
    const ref = createSystemClock({ unref: false });
    const r = ref.setTimeout(() => {}, 1000) as unknown as NodeJS.Timeout;
    expect(r.hasRef()).toBe(true);
    ref.clearTimeout(r as unknown as TimerHandle);
    expect(systemClock.now()).toBeGreaterThan(0);
  });

  it("systemClock runs a NaN or negative delay at once, and clearing undefined does nothing", async () => {
    const order: string[] = [];
    systemClock.setTimeout(() => order.push("NaN"), Number.NaN);
    systemClock.setTimeout(() => order.push("negative"), -5);
    systemClock.clearTimeout(undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(["NaN", "negative"]);
  });

  it("a heartbeat on the system clock fires on real time", async () => {
    const deaths: number[] = [];
    const hb = new Heartbeat({
      interval: 1,
      timeout: 20,
      sendPing: () => {},
      onDead: (ms) => deaths.push(ms),
    });
    hb.start();
    // Bounded poll: a loaded machine may run the timers late, never more than 2 s late here.
    for (let waited = 0; deaths.length === 0 && waited < 2000; waited += 5) {
      await new Promise((r) => setTimeout(r, 5));
    }
    hb.stop();
    expect(deaths).toHaveLength(1);
    // Node may fire a timer up to ~1 ms early by performance.now(): allow for it.
    expect(deaths[0]).toBeGreaterThanOrEqual(18);
  });
});
