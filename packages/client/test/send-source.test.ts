import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { isSendSource, toPayload } from "../src/send-source.js";

describe("isSendSource", () => {
  it("recognises async iterables, Node Readables and WHATWG ReadableStreams", () => {
    expect(isSendSource((async function* () {})())).toBe(true);
    expect(isSendSource(Readable.from(["a"]))).toBe(true);
    expect(isSendSource(new ReadableStream())).toBe(true);
  });

  it("leaves whole messages and other values to send() as they are", () => {
    for (const value of [
      "text",
      new Uint8Array(1),
      new ArrayBuffer(1),
      new DataView(new ArrayBuffer(1)),
      null,
      1,
      {},
    ]) {
      expect(isSendSource(value)).toBe(false);
    }
    // A sync iterable (an array of chunks) is not a stream: send() refuses it as it refuses any object.
    expect(isSendSource(["a", "b"])).toBe(false);
  });
});

describe("toPayload", () => {
  it("keeps text and Uint8Arrays as they are, and views other bytes without copying", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(toPayload("text")).toBe("text");
    expect(toPayload(bytes)).toBe(bytes);
    const buffer = new ArrayBuffer(4);
    const whole = toPayload(buffer) as Uint8Array;
    expect(whole.buffer).toBe(buffer);
    expect(whole.byteLength).toBe(4);
    const view = toPayload(new DataView(buffer, 1, 2)) as Uint8Array;
    expect([view.buffer, view.byteOffset, view.byteLength]).toEqual([buffer, 1, 2]);
  });

  it("refuses anything else with a TypeError", () => {
    for (const value of [1, null, {}, ["a"]]) {
      expect(() => toPayload(value as never)).toThrow(
        new TypeError("send() takes a string, bytes or a stream"),
      );
    }
  });
});
