import { describe, expect, it } from "vitest";
import { pairedRatios, quantile, rotation, summarize } from "../src/stats.js";

describe("quantile", () => {
  it("interpolates between neighbours", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30], 0.5)).toBe(20);
    expect(quantile([0, 100], 0.99)).toBeCloseTo(99);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("summarize", () => {
  it("gives the median, min and max of unsorted values", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(summarize([])).toBeUndefined();
  });
});

describe("pairedRatios", () => {
  it("divides by the baseline of the same repetition only", () => {
    const values = new Map([
      [0, 10],
      [1, 30],
      [2, 50],
    ]);
    const baseline = new Map([
      [0, 5],
      [2, 100],
    ]);
    expect(pairedRatios(values, baseline)).toEqual([2, 0.5]);
  });
});

describe("rotation", () => {
  it("rotates by one place per repetition", () => {
    expect(rotation(["a", "b", "c", "d"], 0)).toEqual(["a", "b", "c", "d"]);
    expect(rotation(["a", "b", "c", "d"], 1)).toEqual(["b", "c", "d", "a"]);
    expect(rotation(["a", "b", "c", "d"], 5)).toEqual(["b", "c", "d", "a"]);
  });
});
