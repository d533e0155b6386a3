import { describe, expect, it } from "vitest";
import { connect, WebSocketClient } from "../src/index.js";

describe("invalid URLs and options throw a TypeError at once", () => {
  const url = "ws://127.0.0.1:1/";
  it.each([
    ["an empty URL", "", {}],
    ["a relative URL", "/path", {}],
    ["a file: URL", "file:///tmp/x", {}],
    ["heartbeat.interval NaN", url, { heartbeat: { interval: Number.NaN } }],
    ["heartbeat.timeout negative", url, { heartbeat: { timeout: -1 } }],
    ["reconnect.retries negative", url, { reconnect: { retries: -1 } }],
    ["reconnect.factor < 1", url, { reconnect: { factor: 0.5 } }],
    ["maxTimeout < minTimeout", url, { reconnect: { minTimeout: 100, maxTimeout: 10 } }],
    ["maxQueuedBytes a string", url, { maxQueuedBytes: "1" }],
    ["maxPayload 0", url, { maxPayload: 0 }],
    ["closeTimeout Infinity", url, { closeTimeout: Number.POSITIVE_INFINITY }],
    ["signal not an AbortSignal", url, { signal: {} }],
    ["onOpen not a function", url, { onOpen: "x" }],
    ["shouldReconnect not a function", url, { shouldReconnect: 1 }],
    ["an invalid subprotocol token", url, { protocols: ["a b"] }],
    ["a duplicate subprotocol", url, { protocols: ["a", "a"] }],
    ["a header the handshake owns", url, { headers: { Upgrade: "h2c" } }],
    ["a header name with a space", url, { headers: { "X Bad": "1" } }],
    ["a header value with CRLF", url, { headers: { "X-Bad": "a\r\nInjected: 1" } }],
    ["a logger without an error method", url, { logger: { debug() {}, info() {}, warn() {} } }],
    ["a logger that is a function", url, { logger: () => {} }],
    ["options null", url, null],
  ])("%s", (_, input, options) => {
    expect(() => new WebSocketClient(input as string, options as never)).toThrow(TypeError);
  });

  it.each([
    ["does not parse", "/path", "/path"],
    ["has another scheme", "ftp://h/", "ftp://h/"],
    ["has a fragment", "ws://user:secret@h/#x", "ws://h/#x"],
  ])("a URL that %s: one message naming it (without credentials) and what is expected", (_, input, shown) => {
    expect(() => new WebSocketClient(input)).toThrow(
      new TypeError(`Invalid URL ${shown}: expected ws:, wss:, http: or https:, without #fragment`),
    );
  });

  it("accepts console as the logger, and no logger", () => {
    expect(() => new WebSocketClient(url, { logger: console })).not.toThrow();
    expect(() => new WebSocketClient(url, { logger: undefined })).not.toThrow();
  });

  it("connect() (the helper) throws the same TypeError before any I/O", async () => {
    await expect(connect("ws://127.0.0.1:1/", { binaryType: "blob" as never })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
