import { describe, expect, it } from "vitest";
import { checkMessageIterator, receiveStreams, streamsOf } from "../src/message-stream-browser.js";

describe("the browser build's streamed receive", () => {
  it("makes no receiver, lets the client's own iterator be, and refuses client.streams() with a TypeError", () => {
    expect(receiveStreams()).toBeUndefined();
    expect(() => checkMessageIterator()).not.toThrow();
    expect(() => streamsOf()).toThrow(new TypeError('receive: "stream" is not available in a browser'));
  });
});
