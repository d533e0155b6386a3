import { describe, expect, it } from "vitest";
import { platformRandomFill } from "../src/random.js";

describe("platformRandomFill", () => {
  it("fills the bytes of a view and nothing around it, and two fills differ", () => {
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    platformRandomFill(a);
    platformRandomFill(b);
    expect(a).not.toEqual(b);
    expect(a.some((byte) => byte !== 0)).toBe(true);
    const whole = new Uint8Array(256);
    platformRandomFill(whole.subarray(100, 200)); // a view at an offset: only its own bytes
    expect(whole.subarray(0, 100).every((byte) => byte === 0)).toBe(true);
    expect(whole.subarray(200).every((byte) => byte === 0)).toBe(true);
    expect(whole.subarray(100, 200).some((byte) => byte !== 0)).toBe(true);
  });
});
