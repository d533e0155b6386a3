import { describe, expect, it } from "vitest";
import { controlPayload } from "../src/control-payload.js";

describe("controlPayload", () => {
  it("takes text as UTF-8 and bytes as a copy of their own, and no data as none", () => {
    expect(controlPayload(undefined)).toBeUndefined();
    expect(controlPayload("é")).toEqual(new Uint8Array([0xc3, 0xa9]));
    const bytes = new Uint8Array([1, 2, 3]);
    const payload = controlPayload(new DataView(bytes.buffer, 1, 2)) as Uint8Array;
    expect(payload).toEqual(new Uint8Array([2, 3]));
    bytes[1] = 9; // the caller reuses its bytes: the payload kept to match the pong stays as sent
    expect(payload).toEqual(new Uint8Array([2, 3]));
  });

  it("takes 125 bytes and refuses more with a RangeError, as text too", () => {
    expect(controlPayload(new Uint8Array(125))?.byteLength).toBe(125);
    expect(() => controlPayload(new ArrayBuffer(126))).toThrow(
      new RangeError("a ping/pong payload is at most 125 bytes, got 126"),
    );
    expect(() => controlPayload("é".repeat(63))).toThrow(/at most 125 bytes, got 126/);
  });

  it("refuses what is neither text nor bytes with a TypeError", () => {
    expect(() => controlPayload(1 as never)).toThrow(TypeError);
  });
});
