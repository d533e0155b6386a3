import { describe, expect, it } from "vitest";
import { streamsOf, withStreamReceiver } from "../src/message-stream-browser.js";

describe("the browser build's streamed receive", () => {
  it("leaves the client's inbox as it is, and refuses client.streams() with a TypeError", () => {
    class Inbox {}
    expect(withStreamReceiver(Inbox)).toBe(Inbox);
    expect(() => streamsOf()).toThrow(new TypeError('receive: "stream" is not available in a browser'));
  });
});
