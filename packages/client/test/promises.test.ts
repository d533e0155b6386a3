import { describe, expect, it } from "vitest";
import { deferred, rejected } from "../src/promises.js";

// vitest fails a run on an unhandled rejection: each promise here is left unawaited on purpose.
describe("promises", () => {
  it("rejected() rejects with the error, and nobody need await it", async () => {
    const error = new Error("x");
    rejected(new Error("never awaited"));
    await expect(rejected(error)).rejects.toBe(error);
  });

  it("deferred() settles its promise through its functions, and a rejection nobody awaits is not unhandled", async () => {
    const d = deferred<number>();
    d.resolve(1);
    expect(await d.promise).toBe(1);
    deferred<void>().reject(new Error("never awaited"));
    const failed = deferred<void>();
    failed.reject("why");
    await expect(failed.promise).rejects.toBe("why");
  });
});
