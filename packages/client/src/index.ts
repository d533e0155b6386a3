/**
 * The WebSocket client for Node.js, Deno, Bun, browsers and workers: `await connect()`, `for await`
 * over messages, `send()` with backpressure, heartbeat and reconnects (docs/client.md; the browser
 * build: docs/runtimes.md). Exports only.
 * @module @tideway/client
 */
export {
  type ErrorCode,
  ErrorCodes,
  HandshakeError,
  type HttpResponse,
  InvalidStateError,
  ProtocolError,
  UnexpectedResponseError,
  type UpgradeResponse,
  WebSocketError,
} from "@tideway/core";
export { type AppHeartbeat, type AppHeartbeatOptions, appHeartbeat } from "./app-heartbeat.js";
export { connect, ReadyState, WebSocketClient } from "./client.js";
export type { ConnectionInfo } from "./connection-info.js";
export type { PerMessageDeflateClientOptions, ZlibDeflateOptions } from "./deflate-options.js";
export {
  type ChannelMessageBase,
  type ChannelMessages,
  type CloseChannelMessage,
  type ControlChannelMessage,
  DIAGNOSTICS_CHANNELS,
  type ErrorChannelMessage,
  type OpenChannelMessage,
  type ReconnectingChannelMessage,
  type UpgradeRequestChannelMessage,
  type UpgradeResponseChannelMessage,
} from "./diagnostics.js";
export {
  AbortedError,
  ClientError,
  type ClientErrorCode,
  ClientErrorCodes,
  type CloseInfo,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  InvalidRedirectError,
  ProviderError,
  ProxyError,
  ReceiveBufferFullError,
  SendQueueFullError,
  StreamInterruptedError,
  StreamSourceError,
  type TidewayError,
  type TidewayErrorCode,
  TooManyRedirectsError,
} from "./errors.js";
export type {
  BinaryMessageTypes,
  ClientEvents,
  ControlData,
  Message,
  OpenSession,
  ReconnectingInfo,
  RedirectInfo,
  SendData,
  SendOptions,
  TextAs,
  TextMessageTypes,
} from "./events.js";
export type { HeartbeatOptions } from "./heartbeat.js";
export type { Logger } from "./logger.js";
export {
  MessageStream,
  type ReceivedStream,
  type StreamChunk,
  type StreamKind,
} from "./message-stream.js";
export { createWebSocketStream } from "./node-duplex.js";
export {
  type BinaryType,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_HEARTBEAT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_REDIRECTS,
  type HeaderList,
  type PerAttempt,
  type UrlInput,
  type WebSocketClientOptions,
} from "./options.js";
export { proxyFromEnv } from "./proxy-env.js";
export {
  DEFAULT_RECONNECT,
  isRetryable,
  type Jitter,
  type ReconnectOptions,
  type RetryContext,
} from "./reconnect.js";
export type { SendChunk, SendSource } from "./stream-send.js";
export { TextBytes } from "./text-bytes.js";
export type { CreateConnection, CreateConnectionOptions, SocketOptions, TlsOptions } from "./transport.js";
export { type StreamableClient, toWebStreams, type WebStreams } from "./web-streams.js";
export {
  WebSocket,
  type WebSocketBinaryType,
  type WebSocketEventMap,
  type WebSocketOptions,
  webSocketClass,
} from "./websocket.js";
