// "@tideway/core/internals": the primitives the state machines are built from, for tools (the
// conformance server, fuzzers, benchmarks) and transports that need one piece on its own. Exports
// only. Not covered by semver: a minor release may change them; docs/core.md lists them.

export { closeReasonToSend, encodeCloseBody, isValidWireCloseCode, parseCloseBody } from "./close.js";
export {
  decodeFrameHeader,
  encodeFrame,
  encodeFrameHeader,
  type FrameHeader,
  frameHeaderSize,
  writeFrameHeader,
} from "./frame.js";
export { computeAccept } from "./handshake.js";
export {
  buildClientRequest,
  ClientHandshake,
  type ClientHandshakeOptions,
  type ClientRequestOptions,
  generateKey,
  type HandshakeOutcome,
  type ResponseExpectations,
  resolveWebSocketUrl,
  validateUpgradeResponse,
  type WebSocketTarget,
} from "./handshake-client.js";
export {
  buildAcceptResponse,
  buildRejectResponse,
  parseUpgradeRequest,
  ServerHandshake,
  type ServerHandshakeOutcome,
} from "./handshake-server.js";
export { formatExtensionList, parseExtensionList, parseTokenList } from "./headers.js";
export { RequestHeadParser, ResponseHeadParser } from "./http.js";
export { MaskKeys, mask, maskInto, unmask } from "./mask.js";
export { MessageReader, type ReaderOptions } from "./reader.js";
export { defaultUtf8, encodeUtf8, isValidUtf8, Utf8ChunkDecoder, Utf8Validator } from "./utf8.js";
export { FrameWriter, type FrameWriterOptions } from "./writer.js";
