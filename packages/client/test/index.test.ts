import type { UpgradeResponse } from "@tideway/core";
import * as core from "@tideway/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as client from "../src/index.js";
import {
  type BinaryType,
  type CloseInfo,
  type ConnectError,
  connect,
  type Message,
  type ProxyError,
  type TidewayErrorCode,
  UnexpectedResponseError,
  WebSocketClient,
  type WebSocketClientOptions,
} from "../src/index.js";

it("exports exactly the public API", () => {
  expect(Object.keys(client).sort()).toEqual(
    [
      "AbortedError",
      "appHeartbeat",
      "ClientError",
      "ClientErrorCodes",
      "ConnectError",
      "ConnectionClosedError",
      "DEFAULT_CLOSE_TIMEOUT",
      "DEFAULT_HANDSHAKE_TIMEOUT",
      "DEFAULT_HEARTBEAT",
      "DEFAULT_HIGH_WATER_MARK",
      "DEFAULT_MAX_BUFFERED_BYTES",
      "DEFAULT_MAX_QUEUED_BYTES",
      "DEFAULT_MAX_REDIRECTS",
      "DIAGNOSTICS_CHANNELS",
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
      "MessageStream",
      "ReadyState",
      "ReceiveBufferFullError",
      "SendQueueFullError",
      "StreamInterruptedError",
      "StreamSourceError",
      "createWebSocketStream",
      "toWebStreams",
      "TextBytes",
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

// Type-level tests: `pnpm typecheck` (tsc) checks the @ts-expect-error lines, vitest checks the rest.
describe("typed events", () => {
  const client = new WebSocketClient("ws://127.0.0.1:1/", { reconnect: false, heartbeat: false });

  it("gives each listener the payload type of its event", () => {
    client.on("open", (response) => expectTypeOf(response).toEqualTypeOf<UpgradeResponse>());
    client.on("message", (data) => expectTypeOf(data).toEqualTypeOf<string | Uint8Array>());
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
    >().resolves.toEqualTypeOf<IteratorResult<string | Uint8Array, undefined>>();
    expectTypeOf<ReturnType<Client["connect"]>>().resolves.toEqualTypeOf<UpgradeResponse>();
    expectTypeOf<ReturnType<Client["send"]>>().resolves.toEqualTypeOf<void>();
    expectTypeOf<ReturnType<Client["ping"]>>().resolves.toEqualTypeOf<number>();
  });
});

describe("messages typed by binaryType", () => {
  it("narrows messages to the binaryType given, in listeners and the iterator", () => {
    const arrays = new WebSocketClient("ws://127.0.0.1:1/", { binaryType: "arraybuffer" });
    arrays.on("message", (data) => expectTypeOf(data).toEqualTypeOf<string | ArrayBuffer>());
    expectTypeOf(arrays[Symbol.asyncIterator]().next()).resolves.toEqualTypeOf<
      IteratorResult<string | ArrayBuffer, undefined>
    >();
    const buffers = new WebSocketClient("ws://127.0.0.1:1/", { binaryType: "buffer" });
    buffers.on("message", (data) => expectTypeOf(data).toEqualTypeOf<string | Buffer>());
    expectTypeOf(connect("ws://127.0.0.1:1/", { binaryType: "arraybuffer" })).resolves.toEqualTypeOf<
      WebSocketClient<"arraybuffer">
    >();
  });

  it("keeps every binary type when the options' binaryType is not known statically", () => {
    const options: WebSocketClientOptions = {};
    const wide = new WebSocketClient("ws://127.0.0.1:1/", options);
    expectTypeOf(wide).toEqualTypeOf<WebSocketClient<BinaryType>>();
    wide.on("message", (data) => expectTypeOf(data).toEqualTypeOf<Message>());
    // A function taking any client takes WebSocketClient<BinaryType>.
    expectTypeOf(new WebSocketClient("ws://127.0.0.1:1/")).toMatchTypeOf<WebSocketClient<BinaryType>>();
  });
});

describe("typed errors", () => {
  const client = new WebSocketClient("ws://127.0.0.1:1/", { reconnect: false, heartbeat: false });

  it("gives the error listener a code that narrows the error's class", () => {
    client.on("error", (err) => {
      expectTypeOf(err.code).toEqualTypeOf<TidewayErrorCode>();
      if (err.code === "WS_ERR_PROXY") expectTypeOf(err).toEqualTypeOf<ProxyError>();
      if (err instanceof UnexpectedResponseError) expectTypeOf(err.status).toEqualTypeOf<number>();
    });
  });

  it("gives each client error its own literal code", () => {
    expectTypeOf<ConnectError["code"]>().toEqualTypeOf<"WS_ERR_CONNECT">();
    expectTypeOf<UnexpectedResponseError["code"]>().toEqualTypeOf<"WS_ERR_UNEXPECTED_RESPONSE">();
  });
});
