import { HandshakeError, ProtocolError, UnexpectedResponseError } from "@tideway/core";
import { describe, expect, it, vi } from "vitest";
import {
  AbortedError,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  ProviderError,
  ReceiveBufferFullError,
} from "../src/errors.js";
import { isRetryable, serverRetryAfter } from "../src/reconnect.js";

// reconnect.ts as the browser build has it: node-verdict-browser.ts in place of node-verdict.ts.
vi.mock("../src/node-verdict.js", () => import("../src/node-verdict-browser.js"));

const closeInfo = (code: number, wasClean = true, initiatedByUser = false) => ({
  code,
  reason: "",
  wasClean,
  initiatedByUser,
  sent: undefined,
  received: undefined,
});

describe("the browser build's reconnect verdict", () => {
  // What browser-connection.ts and stream-socket.ts produce.
  const table: [string, unknown, boolean][] = [
    ["error event before open: a ConnectError without cause", new ConnectError("failed"), true],
    [
      "the WebSocket constructor threw (a SyntaxError DOMException)",
      new ConnectError("Cannot open", { cause: new DOMException("bad URL", "SyntaxError") }),
      false,
    ],
    ["HandshakeTimeoutError", new HandshakeTimeoutError(10), true],
    ["AbortedError", new AbortedError(undefined), false],
    ["HeartbeatTimeoutError (appHeartbeat)", new HeartbeatTimeoutError(10), true],
    ["ConnectionClosedError 1006", new ConnectionClosedError(closeInfo(1006, false)), true],
    ["ConnectionClosedError 1012", new ConnectionClosedError(closeInfo(1012)), true],
    ["ConnectionClosedError 1008", new ConnectionClosedError(closeInfo(1008)), false],
    ["close 1001", closeInfo(1001), true],
    ["close 1000", closeInfo(1000), false],
    ["close 1006 initiated by the user", closeInfo(1006, false, true), false],
    ["ReceiveBufferFullError", new ReceiveBufferFullError(3000, 2500), false],
    [
      "ProviderError caused by a TimeoutError",
      new ProviderError("url", new DOMException("t", "TimeoutError")),
      true,
    ],
    ["ProviderError caused by a bug", new ProviderError("url", new TypeError("x is undefined")), false],
  ];

  it.each(table)("%s -> %s", (_label, reason, expected) => {
    expect(isRetryable(reason)).toBe(expected);
  });

  it("applies no Node-only rule: status, Retry-After and system codes decide nothing", () => {
    const refused = new UnexpectedResponseError(
      { status: 503, statusText: "", headers: { "retry-after": "2" }, rawHeaders: [] },
      new Uint8Array(),
    );
    expect(serverRetryAfter(refused)).toBeUndefined();
    // Under Node a 503 is retried; here it is an unknown HandshakeError: final.
    expect(isRetryable(refused)).toBe(false);
    const reset = Object.assign(new Error("reset"), { code: "ECONNRESET" });
    expect(isRetryable(reset, { everOpened: true })).toBe(false);
    expect(isRetryable(new ConnectError("x", { cause: reset }))).toBe(true);
  });

  it("has no rule for an AggregateError, which only Node's happy eyeballs raises: its cause decides", () => {
    const timeout = new DOMException("t", "TimeoutError");
    expect(isRetryable(new AggregateError([timeout]))).toBe(false);
    expect(isRetryable(new AggregateError([], "m", { cause: timeout }))).toBe(true);
  });

  it("has no rule for the core's handshake and protocol errors, which a browser never raises: their cause decides", () => {
    // Under Node a ProtocolError with close code 1011 is retried, and a HandshakeError is final.
    expect(isRetryable(new ProtocolError("WS_ERR_INTERNAL", "bug"))).toBe(false);
    const timeout = new DOMException("t", "TimeoutError");
    expect(isRetryable(new HandshakeError("WS_ERR_INVALID_ACCEPT", "m", undefined, { cause: timeout }))).toBe(
      true,
    );
  });
});
