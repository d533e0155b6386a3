import { describe, expect, it, vi } from "vitest";
import { MessageQueue } from "../src/message-queue.js";

function queue(high = 10, low = 4) {
  const onPause = vi.fn();
  const onResume = vi.fn();
  const q = new MessageQueue<string>({
    highWaterMark: high,
    lowWaterMark: low,
    sizeOf: (s) => s.length,
    onPause,
    onResume,
  });
  return { q, onPause, onResume };
}

describe("MessageQueue", () => {
  it("yields pushed items in order, then ends cleanly", async () => {
    const { q } = queue();
    q.push("a");
    q.push("b");
    q.end();
    expect(await q.next()).toEqual({ done: false, value: "a" });
    expect(await q.next()).toEqual({ done: false, value: "b" });
    expect(await q.next()).toEqual({ done: true, value: undefined });
    expect(await q.next()).toEqual({ done: true, value: undefined });
  });

  it("hands an item straight to a waiting next()", async () => {
    const { q } = queue();
    const pending = q.next();
    q.push("x");
    expect(await pending).toEqual({ done: false, value: "x" });
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it("pauses above the high-water mark and resumes at the low-water mark, once each", async () => {
    const { q, onPause, onResume } = queue(10, 4);
    for (const s of ["aaaa", "bbbb"]) q.push(s); // 8 bytes: not above 10
    expect(onPause).not.toHaveBeenCalled();
    q.push("ccc"); // 11 > 10
    expect(onPause).toHaveBeenCalledTimes(1);
    q.push("dd"); // still paused: no second call
    expect(onPause).toHaveBeenCalledTimes(1);
    expect(q.paused).toBe(true);
    await q.next(); // 9 left
    await q.next(); // 5 left: still above low
    expect(onResume).not.toHaveBeenCalled();
    await q.next(); // 2 left <= 4
    expect(onResume).toHaveBeenCalledTimes(1);
    expect(q.paused).toBe(false);
  });

  it("yields queued items before throwing the failure, and throws it on every later call", async () => {
    const { q } = queue();
    q.push("a");
    const boom = new Error("boom");
    q.fail(boom);
    q.push("ignored after the end");
    expect(await q.next()).toEqual({ done: false, value: "a" });
    await expect(q.next()).rejects.toBe(boom);
    await expect(q.next()).rejects.toBe(boom);
  });

  it("settles waiters when it ends or fails", async () => {
    const a = queue().q;
    const pa = a.next();
    a.end();
    expect(await pa).toEqual({ done: true, value: undefined });
    const b = queue().q;
    const pb = b.next();
    const err = new Error("x");
    b.fail(err);
    await expect(pb).rejects.toBe(err);
  });

  it("keeps order through many pushes and pops (compaction)", async () => {
    const { q } = queue(1e9, 0);
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(String(i));
      if (i % 3 === 0) out.push(Number((await q.next()).value));
    }
    while (q.length > 0) out.push(Number((await q.next()).value));
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it("clear() drops items and resumes", () => {
    const { q, onResume } = queue(2, 0);
    q.push("abc");
    expect(q.paused).toBe(true);
    q.clear();
    expect(q.length).toBe(0);
    expect(onResume).toHaveBeenCalledTimes(1);
  });
});
