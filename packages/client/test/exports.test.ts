import * as core from "@tideway/core";
import { expect, it } from "vitest";
import * as client from "../src/index.js";

it("exports exactly the public API", () => {
  expect(Object.keys(client).sort()).toEqual(
    [
      "AbortedError",
      "ClientError",
      "ClientErrorCodes",
      "ConnectError",
      "ConnectionClosedError",
      "DEFAULT_CLOSE_TIMEOUT",
      "DEFAULT_HANDSHAKE_TIMEOUT",
      "DEFAULT_HEARTBEAT",
      "DEFAULT_HIGH_WATER_MARK",
      "DEFAULT_MAX_QUEUED_BYTES",
      "DEFAULT_MAX_REDIRECTS",
      "ErrorCodes",
      "HandshakeError",
      "InvalidStateError",
      "ProtocolError",
      "UnexpectedResponseError",
      "WebSocketError",
      "InvalidRedirectError",
      "ProviderError",
      "ProxyError",
      "TooManyRedirectsError",
      "proxyFromEnv",
      "DEFAULT_RECONNECT",
      "HandshakeTimeoutError",
      "HeartbeatTimeoutError",
      "ReadyState",
      "SendQueueFullError",
      "WebSocket",
      "WebSocketClient",
      "webSocketClass",
      "connect",
      "isRetryable",
    ].sort(),
  );
});

it("gives every client error a stable code and the core's base class", () => {
  const e = new client.HandshakeTimeoutError(10);
  expect(e.code).toBe("WS_ERR_HANDSHAKE_TIMEOUT");
  expect(e.name).toBe("HandshakeTimeoutError");
  expect(e).toBeInstanceOf(client.ClientError);
  expect(Object.values(client.ClientErrorCodes).every((c) => c.startsWith("WS_ERR_"))).toBe(true);
});

it("exports the core's errors themselves, so instanceof needs no second dependency", () => {
  expect(client.WebSocketError).toBe(core.WebSocketError);
  expect(client.ProtocolError).toBe(core.ProtocolError);
  expect(client.HandshakeError).toBe(core.HandshakeError);
  expect(client.UnexpectedResponseError).toBe(core.UnexpectedResponseError);
  expect(client.InvalidStateError).toBe(core.InvalidStateError);
  expect(client.ErrorCodes).toBe(core.ErrorCodes);
  expect(new client.ConnectError("refused")).toBeInstanceOf(client.WebSocketError);
});
