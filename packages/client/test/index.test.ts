import type { UpgradeResponse } from "@tideway/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as client from "../src/index.js";
import { type CloseInfo, type Message, WebSocketClient } from "../src/index.js";

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
      "WebSocketClient",
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

// Type-level tests: `pnpm typecheck` (tsc) checks the @ts-expect-error lines, vitest checks the rest.
describe("typed events", () => {
  const client = new WebSocketClient("ws://127.0.0.1:1/", { reconnect: false, heartbeat: false });

  it("gives each listener the payload type of its event", () => {
    client.on("open", (response) => expectTypeOf(response).toEqualTypeOf<UpgradeResponse>());
    client.on("message", (data) => expectTypeOf(data).toEqualTypeOf<Message>());
    client.once("close", (info) => expectTypeOf(info).toEqualTypeOf<CloseInfo>());
    client.on("ping", (data) => expectTypeOf(data).toEqualTypeOf<Uint8Array>());
    client.on("reconnecting", (info) => expectTypeOf(info.delay).toEqualTypeOf<number>());
    client.off("message");
  });

  it("refuses unknown events and wrong listener types", () => {
    // @ts-expect-error: there is no "opened" event
    client.on("opened", () => {});
    // @ts-expect-error: a close listener gets a CloseInfo, not a string
    client.on("close", (info: string) => info);
  });

  it("types the async iterator and the promise results", () => {
    type Client = WebSocketClient;
    expectTypeOf<
      ReturnType<ReturnType<Client[typeof Symbol.asyncIterator]>["next"]>
    >().resolves.toMatchTypeOf<IteratorResult<Message>>();
    expectTypeOf<ReturnType<Client["connect"]>>().resolves.toEqualTypeOf<UpgradeResponse>();
    expectTypeOf<ReturnType<Client["send"]>>().resolves.toEqualTypeOf<void>();
    expectTypeOf<ReturnType<Client["ping"]>>().resolves.toEqualTypeOf<number>();
  });
});
