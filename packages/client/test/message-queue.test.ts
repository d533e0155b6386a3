import { describe, expect, it, vi } from "vitest";
import { MessageQueue } from "../src/message-queue.js";

function queue<T = string>(high = 10, low = 4) {
  const flow = vi.fn<(paused: boolean) => void>();
  const q = new MessageQueue<T>({ highWaterMark: high, lowWaterMark: low }, flow);
  return { q, flow };
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
    // Not counted against the water marks: 10 more code units stay at the high-water mark.
    q.push("a".repeat(10));
    expect(q.paused).toBe(false);
  });

  it("pauses above the high-water mark and resumes at the low-water mark, once each", async () => {
    const { q, flow } = queue(10, 4);
    for (const s of ["aaaa", "bbbb"]) q.push(s); // 8 bytes: not above 10
    expect(flow).not.toHaveBeenCalled();
    q.push("ccc"); // 11 > 10
    expect(flow.mock.calls).toEqual([[true]]);
    q.push("dd"); // still paused: no second call
    expect(flow.mock.calls).toEqual([[true]]);
    expect(q.paused).toBe(true);
    await q.next(); // 9 left
    await q.next(); // 5 left: still above low
    expect(flow.mock.calls).toEqual([[true]]);
    await q.next(); // 2 left <= 4
    expect(flow.mock.calls).toEqual([[true], [false]]);
    expect(q.paused).toBe(false);
  });

  it("yields queued items before throwing the failure, and throws it on every later call", async () => {
    const { q } = queue();
    q.push("a");
    const boom = new Error("boom");
    q.end(boom);
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
    b.end(err);
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

  it("keeps the first end: a later end() or end(error) changes nothing", async () => {
    const { q } = queue();
    q.end();
    q.end(new Error("late"));
    expect(await q.next()).toEqual({ done: true, value: undefined });
  });

  it("weighs text in code units, bytes in bytes, and anything else (a marker) as 64", () => {
    const { q, flow } = queue<unknown>(100, 0);
    q.push(new Uint8Array(60));
    q.push("é".repeat(20)); // 20 code units: 80, not above 100
    expect(flow).not.toHaveBeenCalled();
    q.push(Symbol("marker")); // 144
    expect(flow.mock.calls).toEqual([[true]]);
  });
});
