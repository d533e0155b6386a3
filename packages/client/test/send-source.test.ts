import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { isSendSource } from "../src/send-source.js";

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
