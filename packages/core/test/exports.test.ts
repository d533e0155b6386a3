import { describe, expect, it } from "vitest";
import * as core from "../src/index.js";

// The runtime names of the public API. Adding one is a decision (add it here); removing one is a
// breaking change (this test says so before users do).
const PUBLIC = [
  "CloseCode",
  "DEFAULT_DEFLATE_THRESHOLD",
  "PERMESSAGE_DEFLATE",
  "acceptDeflateOffer",
  "formatDeflateOffer",
  "parseDeflateResponse",
  "ClientHandshake",
  "ClientProtocol",
  "DEFAULT_MAX_ERROR_BODY",
  "DEFAULT_MAX_HEAD_SIZE",
  "DEFAULT_MAX_FRAGMENTS",
  "DEFAULT_MAX_PAYLOAD",
  "END_OF_STREAM",
  "ErrorCodes",
  "FrameWriter",
  "HandshakeError",
  "InvalidStateError",
  "MAX_CLOSE_REASON_BYTES",
  "MAX_CONTROL_PAYLOAD",
  "MaskKeys",
  "MessageReader",
  "Opcode",
  "Protocol",
  "ProtocolError",
  "RequestHeadParser",
  "ResponseHeadParser",
  "ServerHandshake",
  "ServerProtocol",
  "State",
  "UnexpectedResponseError",
  "UpgradeRequestError",
  "Utf8Validator",
  "WEBSOCKET_GUID",
  "WebSocketError",
  "buildAcceptResponse",
  "buildClientRequest",
  "buildRejectResponse",
  "computeAccept",
  "decodeFrameHeader",
  "defaultUtf8",
  "encodeCloseBody",
  "encodeFrame",
  "encodeFrameHeader",
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
  "unmask",
  "validateUpgradeResponse",
];

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
});
