/**
 * The supported surface of @tideway/core: the sans-I/O state machines, their events, errors and
 * constants, and permessage-deflate negotiation, for any JavaScript runtime (docs/core.md). Exports
 * only; every runtime name is listed in test/exports.test.ts. The primitives they are built from
 * (frames, masking, the reader and writer, the handshake and HTTP pieces) are in
 * "@tideway/core/internals" (src/internals.ts). Module-level code of the core only builds values
 * that esbuild can tell are pure (literals, or marked `@__PURE__`), so that a bundle keeps no more of
 * the core than it uses, even from the built one's shared chunk (test/tree-shaking.test.ts).
 * @module @tideway/core
 */

export {
  CloseCode,
  DEFAULT_MAX_ERROR_BODY,
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_HEAD_SIZE,
  DEFAULT_MAX_PAYLOAD,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  WEBSOCKET_GUID,
} from "./constants.js";
export {
  acceptDeflateOffer,
  DEFAULT_DEFLATE_THRESHOLD,
  type DeflateOffer,
  type DeflateParams,
  formatDeflateOffer,
  type MessageCodec,
  type MessageCodecFactory,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflateOptions,
  parseDeflateResponse,
  type ServerDeflateConfig,
} from "./deflate.js";
export {
  type ErrorCode,
  ErrorCodes,
  HandshakeError,
  type HttpResponse,
  InvalidStateError,
  ProtocolError,
  UnexpectedResponseError,
  WebSocketError,
} from "./errors.js";
export {
  END_OF_STREAM,
  type EndOfStream,
  type Outgoing,
  type UpgradeResponse,
  type WsEvent,
} from "./events.js";
export { type UpgradeRequest, UpgradeRequestError } from "./handshake-server.js";
export type { ExtensionOffer } from "./headers.js";
export type { HttpRequest } from "./http.js";
export { Protocol, type ProtocolOptions, State } from "./protocol.js";
export { ClientProtocol, type ClientProtocolOptions } from "./protocol-client.js";
export { type ServerEvent, ServerProtocol, type ServerProtocolOptions } from "./protocol-server.js";
export type { Utf8Codec } from "./utf8.js";
