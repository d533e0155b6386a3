import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import type * as errors from "../src/errors.js";
import {
  type ErrorCode,
  ErrorCodes,
  HandshakeError,
  InvalidStateError,
  ProtocolError,
  UnexpectedResponseError,
  WebSocketError,
} from "../src/errors.js";

const response = { status: 503, statusText: "Busy", headers: { "retry-after": "2" }, rawHeaders: [] };
const body = new Uint8Array([1]);

/** The close code of a ProtocolError for each code (RFC 6455 section 7.4.1). */
const CLOSE_CODES: Record<ErrorCode, number> = {
  WS_ERR_INVALID_OPCODE: 1002,
  WS_ERR_UNEXPECTED_RSV: 1002,
  WS_ERR_CONTROL_FRAME_TOO_BIG: 1002,
  WS_ERR_FRAGMENTED_CONTROL_FRAME: 1002,
  WS_ERR_UNEXPECTED_CONTINUATION: 1002,
  WS_ERR_EXPECTED_CONTINUATION: 1002,
  WS_ERR_MASKED_FRAME: 1002,
  WS_ERR_UNMASKED_FRAME: 1002,
  WS_ERR_INVALID_PAYLOAD_LENGTH: 1002,
  WS_ERR_INVALID_CLOSE_CODE: 1002,
  WS_ERR_INVALID_CLOSE_PAYLOAD: 1002,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_DECOMPRESSION_FAILED: 1007,
  WS_ERR_PAYLOAD_TOO_BIG: 1009,
  WS_ERR_TOO_MANY_FRAGMENTS: 1009,
  WS_ERR_UNEXPECTED_RESPONSE: 1002,
  WS_ERR_INVALID_HTTP: 1002,
  WS_ERR_HEAD_TOO_BIG: 1002,
  WS_ERR_INVALID_UPGRADE: 1002,
  WS_ERR_INVALID_ACCEPT: 1002,
  WS_ERR_INVALID_SUBPROTOCOL: 1002,
  WS_ERR_INVALID_EXTENSION: 1002,
  WS_ERR_INVALID_REQUEST: 1002,
  WS_ERR_UNEXPECTED_EOF: 1002,
  WS_ERR_INTERNAL: 1011,
  WS_ERR_INVALID_STATE: 1002,
};

describe("the core's errors", () => {
  it.each(Object.values(ErrorCodes))("a ProtocolError with %s closes with its close code", (code) => {
    const error = new ProtocolError(code, "m", { cause: "c" });
    expect(error).toMatchObject({ name: "ProtocolError", code, message: "m", cause: "c" });
    expect(error.closeCode).toBe(CLOSE_CODES[code]);
  });

  it("every class: its name, code, message and fields, and the hierarchy", () => {
    const base = new WebSocketError("WS_ERR_INTERNAL", "m");
    expect(base).toMatchObject({ name: "WebSocketError", code: "WS_ERR_INTERNAL", message: "m" });
    const handshake = new HandshakeError("WS_ERR_INVALID_ACCEPT", "bad accept", response, { cause: "c" });
    expect(handshake).toMatchObject({
      name: "HandshakeError",
      code: "WS_ERR_INVALID_ACCEPT",
      response,
      cause: "c",
    });
    expect(Object.hasOwn(new HandshakeError("WS_ERR_INVALID_HTTP", "m"), "response")).toBe(true);
    const refused = new UnexpectedResponseError(response, body);
    expect(refused).toMatchObject({
      name: "UnexpectedResponseError",
      code: "WS_ERR_UNEXPECTED_RESPONSE",
      message: "Unexpected server response: 503 Busy",
      response,
      status: 503,
      headers: response.headers,
      body,
    });
    expect(new UnexpectedResponseError({ ...response, statusText: "" }, body).message).toBe(
      "Unexpected server response: 503",
    );
    expect(refused).toBeInstanceOf(HandshakeError);
    const misuse = new InvalidStateError("closed");
    expect(misuse).toMatchObject({
      name: "InvalidStateError",
      code: "WS_ERR_INVALID_STATE",
      message: "closed",
    });
    for (const error of [handshake, refused, misuse, new ProtocolError("WS_ERR_INTERNAL", "m")]) {
      expect(error).toBeInstanceOf(WebSocketError);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it("a subclass is named after itself", () => {
    class AppError extends WebSocketError {}
    expect(new AppError("WS_ERR_INTERNAL", "m").name).toBe("AppError");
  });

  it("keeps every class's name when a bundler minifies and renames the classes", async () => {
    const bundled = await build({
      entryPoints: [fileURLToPath(new URL("../src/errors.ts", import.meta.url))],
      bundle: true,
      minify: true,
      format: "iife",
      globalName: "errors",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const minified = new Function(`${bundled.outputFiles[0]?.text}; return errors;`)() as typeof errors;
    expect(new minified.WebSocketError("WS_ERR_INTERNAL", "m").name).toBe("WebSocketError");
    expect(new minified.ProtocolError("WS_ERR_INTERNAL", "m").name).toBe("ProtocolError");
    expect(new minified.HandshakeError("WS_ERR_INVALID_HTTP", "m").name).toBe("HandshakeError");
    expect(new minified.UnexpectedResponseError(response, body).name).toBe("UnexpectedResponseError");
    expect(new minified.InvalidStateError("m").name).toBe("InvalidStateError");
  });
});
