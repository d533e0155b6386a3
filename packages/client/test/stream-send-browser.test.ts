import { describe, expect, it } from "vitest";
import { isSendSource, StreamedSends } from "../src/stream-send-browser.js";

describe("the browser build's streamed sends", () => {
  it("refuses a stream with a TypeError that says why, and is never busy", async () => {
    const sends = new StreamedSends();
    const source = (async function* () {
      yield "never pulled";
    })();
    expect(isSendSource(source)).toBe(true);
    await expect(sends.stream()).rejects.toThrow(
      new TypeError("send() from a stream is not available in a browser"),
    );
    // Whole messages never wait behind a stream: client.ts sends them straight to the lifecycle.
    expect(sends.busy).toBe(false);
    expect(sends.waitingBytes).toBe(0);
    expect(() => sends.interrupt()).not.toThrow();
  });
});
