// The public surface of @tideway/core. Exports only: every name here is covered by
// test/exports.test.ts, so nothing internal leaks and nothing public disappears unnoticed.

export { encodeCloseBody, isValidWireCloseCode, parseCloseBody } from "./close.js";
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
export {
  decodeFrameHeader,
  encodeFrame,
  encodeFrameHeader,
  type FrameHeader,
  frameHeaderSize,
} from "./frame.js";
export {
  buildAcceptResponse,
  buildClientRequest,
  buildRejectResponse,
  ClientHandshake,
  type ClientHandshakeOptions,
  type ClientRequestOptions,
  computeAccept,
  generateKey,
  type HandshakeOutcome,
  parseUpgradeRequest,
  ServerHandshake,
  type UpgradeRequest,
  UpgradeRequestError,
  validateUpgradeResponse,
} from "./handshake.js";
export { type ExtensionOffer, formatExtensionList, parseExtensionList, parseTokenList } from "./headers.js";
export { type HttpRequest, RequestHeadParser, ResponseHeadParser } from "./http.js";
export { MaskKeys, mask, maskInto, unmask } from "./mask.js";
export {
  ClientProtocol,
  type ClientProtocolOptions,
  Protocol,
  type ProtocolOptions,
  type ServerEvent,
  ServerProtocol,
  type ServerProtocolOptions,
  State,
  type Utf8Codec,
} from "./protocol.js";
export { MessageReader, type ReaderOptions } from "./reader.js";
export { defaultUtf8, isValidUtf8, Utf8Validator } from "./utf8.js";
export { FrameWriter, type FrameWriterOptions } from "./writer.js";
