export {
  type ClientEvents,
  connect,
  ReadyState,
  type ReconnectingInfo,
  type SendData,
  type SendOptions,
  STABLE_CONNECTION_MS,
  WebSocketClient,
} from "./client.js";
export type { Message } from "./connection.js";
export type { PerMessageDeflateClientOptions, ZlibDeflateOptions } from "./deflate.js";
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
  ProxyError,
  SendQueueFullError,
  TooManyRedirectsError,
} from "./errors.js";
export type { HeartbeatOptions } from "./heartbeat.js";
export {
  type BinaryType,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HANDSHAKE_TIMEOUT,
  DEFAULT_HEARTBEAT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_REDIRECTS,
  type WebSocketClientOptions,
} from "./options.js";
export { proxyFromEnv } from "./proxy-env.js";
export { DEFAULT_RECONNECT, isRetryable, type ReconnectOptions } from "./reconnect.js";
export type { RedirectInfo } from "./redirect.js";
export type { CreateConnection, CreateConnectionOptions, TlsOptions } from "./transport.js";
export {
  WebSocket,
  type WebSocketBinaryType,
  type WebSocketEventMap,
  type WebSocketOptions,
  webSocketClass,
} from "./websocket.js";
