import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";
import * as internals from "../src/internals.js";

// The runtime names of the public API. Adding one is a decision (add it here); removing one is a
// breaking change (this test says so before users do).
const PUBLIC = [
  "CloseCode",
  "ClientProtocol",
  "DEFAULT_DEFLATE_THRESHOLD",
  "DEFAULT_MAX_ERROR_BODY",
  "DEFAULT_MAX_HEAD_SIZE",
  "DEFAULT_MAX_FRAGMENTS",
  "DEFAULT_MAX_PAYLOAD",
  "END_OF_STREAM",
  "ErrorCodes",
  "HandshakeError",
  "InvalidStateError",
  "MAX_CLOSE_REASON_BYTES",
  "MAX_CONTROL_PAYLOAD",
  "Opcode",
  "PERMESSAGE_DEFLATE",
  "Protocol",
  "ProtocolError",
  "ServerProtocol",
  "State",
  "UnexpectedResponseError",
  "UpgradeRequestError",
  "WEBSOCKET_GUID",
  "WebSocketError",
  "acceptDeflateOffer",
  "formatDeflateOffer",
  "parseDeflateResponse",
];

// The primitives behind "@tideway/core/internals", listed in docs/core.md.
const INTERNALS = [
  "ClientHandshake",
  "FrameWriter",
  "MaskKeys",
  "MessageReader",
  "RequestHeadParser",
  "ResponseHeadParser",
  "ServerHandshake",
  "Utf8ChunkDecoder",
  "Utf8Validator",
  "buildAcceptResponse",
  "buildClientRequest",
  "buildRejectResponse",
  "closeReasonToSend",
  "computeAccept",
  "decodeFrameHeader",
  "defaultUtf8",
  "encodeCloseBody",
  "encodeFrame",
  "encodeFrameHeader",
  "encodeUtf8",
  "formatExtensionList",
  "frameHeaderSize",
  "generateKey",
  "isValidUtf8",
  "isValidWireCloseCode",
  "mask",
  "maskInto",
  "parseCloseBody",
  "parseExtensionList",
  "parseTokenList",
  "parseUpgradeRequest",
  "resolveWebSocketUrl",
  "unmask",
  "validateUpgradeResponse",
  "writeFrameHeader",
];

describe("the internals of @tideway/core", () => {
  it("are exactly the listed primitives, none of them also public", () => {
    expect(Object.keys(internals).sort()).toEqual([...INTERNALS].sort());
    for (const name of INTERNALS) expect(PUBLIC, name).not.toContain(name);
  });

  it("are defined values", () => {
    const values = new Map(Object.entries(internals));
    for (const name of INTERNALS) expect(values.get(name), name).toBeDefined();
  });
});

describe("the public exports of @tideway/core", () => {
  it("are exactly the documented names", () => {
    expect(Object.keys(core).sort()).toEqual([...PUBLIC].sort());
  });

  it("are defined values, not type-only leftovers", () => {
    const values = new Map(Object.entries(core));
    for (const name of PUBLIC) expect(values.get(name), name).toBeDefined();
  });

  it("keep the error hierarchy: every error is a WebSocketError with a stable code", () => {
    const error = new core.ProtocolError(core.ErrorCodes.InvalidUtf8, "bad");
    expect(error).toBeInstanceOf(core.WebSocketError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ProtocolError");
    expect(error.code).toBe("WS_ERR_INVALID_UTF8");
    expect(error.closeCode).toBe(1007);
    expect(new core.InvalidStateError("x").code).toBe("WS_ERR_INVALID_STATE");
  });

  it("name no error code that the core never raises", () => {
    expect(Object.keys(core.ErrorCodes)).not.toContain("DataAfterClose");
    expect(Object.keys(core.ErrorCodes)).not.toContain("InvalidArgument");
  });
});
