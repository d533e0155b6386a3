import { describe, expect, it } from "vitest";
import {
  ErrorCodes,
  type HandshakeError,
  InvalidStateError,
  type UnexpectedResponseError,
} from "../src/errors.js";
import { computeAccept } from "../src/handshake.js";
import {
  buildClientRequest,
  ClientHandshake,
  type ClientHandshakeOptions,
  type HandshakeOutcome,
} from "../src/handshake-client.js";
import {
  buildAcceptResponse,
  buildRejectResponse,
  parseUpgradeRequest,
  ServerHandshake,
  UpgradeRequestError,
} from "../src/handshake-server.js";
import { RequestHeadParser } from "../src/http.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);
/** Deterministic randomness: 0, 1, 2, ... */
const counting = (bytes: Uint8Array) => {
  for (let i = 0; i < bytes.length; i++) bytes[i] = i;
};
const KEY = "AAECAwQFBgcICQoLDA0ODw=="; // base64 of 0..15
const ACCEPT = computeAccept(KEY);

function client(o: Partial<ClientHandshakeOptions> = {}) {
  return new ClientHandshake({ url: "ws://example.com/", randomFill: counting, ...o });
}

function failure(outcome: HandshakeOutcome | undefined): HandshakeError {
  expect(outcome?.type).toBe("failed");
  return (outcome as { error: HandshakeError }).error;
}

describe("server side", () => {
  const request = (o: Partial<Parameters<typeof buildClientRequest>[0]> = {}) =>
    new RequestHeadParser().push(buildClientRequest({ url: "ws://example.com/chat?room=1", key: KEY, ...o }))!
      .request;

  it("parses an upgrade request built by the client", () => {
    const upgrade = parseUpgradeRequest(
      request({
        origin: "https://app.example",
        protocols: ["chat.v2", "chat"],
        extensions: 'permessage-deflate; client_max_window_bits, x-foo; a="1"',
      }),
    );
    expect(upgrade).toEqual({
      key: KEY,
      protocols: ["chat.v2", "chat"],
      extensions: [
        { name: "permessage-deflate", params: [["client_max_window_bits", true]] },
        { name: "x-foo", params: [["a", "1"]] },
      ],
      origin: "https://app.example",
      path: "/chat?room=1",
    });
    expect(parseUpgradeRequest(request())).not.toHaveProperty("origin");
  });

  const valid =
    "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  it.each([
    ["POST", valid.replace("GET", "POST"), ErrorCodes.InvalidRequest, 400],
    ["HTTP/1.0", valid.replace("HTTP/1.1", "HTTP/1.0"), ErrorCodes.InvalidRequest, 400],
    ["no Host", valid.replace("Host: h\r\n", ""), ErrorCodes.InvalidRequest, 400],
    ["no Upgrade", valid.replace("Upgrade: websocket\r\n", ""), ErrorCodes.InvalidRequest, 400],
    [
      "Connection: close",
      valid.replace("Connection: Upgrade", "Connection: close"),
      ErrorCodes.InvalidRequest,
      400,
    ],
    ["version 8", valid.replace("Version: 13", "Version: 8"), ErrorCodes.InvalidRequest, 426],
    ["no version", valid.replace("Sec-WebSocket-Version: 13\r\n", ""), ErrorCodes.InvalidRequest, 426],
    ["a short key", valid.replace(KEY, "AAECAwQFBgcICQoLDA0O"), ErrorCodes.InvalidRequest, 400],
    ["a non-base64 key", valid.replace(KEY, "not base64 at all!!!!!=="), ErrorCodes.InvalidRequest, 400],
    [
      "two keys",
      valid.replace("Sec-WebSocket-Version", `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version`),
      ErrorCodes.InvalidRequest,
      400,
    ],
    ["no key", valid.replace(`Sec-WebSocket-Key: ${KEY}\r\n`, ""), ErrorCodes.InvalidRequest, 400],
    [
      "a malformed extension offer",
      valid.replace("\r\n\r\n", "\r\nSec-WebSocket-Extensions: a;;\r\n\r\n"),
      ErrorCodes.InvalidExtension,
      400,
    ],
  ])("refuses a request with %s", (_, head, code, status) => {
    const outcome = new ServerHandshake().receiveData(ascii(head));
    if (outcome?.type !== "failed") throw new Error("expected a failure");
    const error = outcome.error as UpgradeRequestError;
    expect(error).toBeInstanceOf(UpgradeRequestError);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    if (status === 426) expect(error.responseHeaders).toEqual({ "Sec-WebSocket-Version": "13" });
  });

  it("parses a request at every split point and returns the bytes after it", () => {
    const bytes = ascii(valid + "\x81\x85abcd");
    for (let split = 0; split <= bytes.length; split++) {
      const server = new ServerHandshake();
      const outcome = server.receiveData(bytes.slice(0, split)) ?? server.receiveData(bytes.slice(split));
      expect(outcome?.type, `split at ${split}`).toBe("request");
      if (outcome?.type !== "request") return;
      expect(outcome.upgrade.key).toBe(KEY);
      if (split < valid.length) expect(text(outcome.rest)).toBe("\x81\x85abcd");
    }
  });

  it("fails on garbage, an oversized head and EOF", () => {
    const garbage = new ServerHandshake().receiveData(ascii("\x16\x03\x01"));
    expect((garbage as { error: HandshakeError }).error.code).toBe(ErrorCodes.InvalidHttp);
    const big = new ServerHandshake({ maxHeadSize: 50 }).receiveData(ascii(valid));
    expect((big as { error: HandshakeError }).error.code).toBe(ErrorCodes.HeadTooBig);
    const server = new ServerHandshake();
    server.receiveData(ascii("GET / HTTP/1.1\r\n"));
    expect((server.receiveEof() as { error: HandshakeError }).error.code).toBe(ErrorCodes.UnexpectedEof);
    expect(() => server.receiveData(ascii("x"))).toThrow(InvalidStateError);
  });

  it("builds a 101 that the client accepts, end to end", () => {
    const hs = client({ protocols: ["a", "b"], extensions: "x-ext", extensionsOffered: ["x-ext"] });
    const server = new ServerHandshake();
    const got = server.receiveData(hs.request);
    if (got?.type !== "request") throw new Error("expected a request");
    expect(got.upgrade.protocols).toEqual(["a", "b"]);
    const response = buildAcceptResponse({
      key: got.upgrade.key,
      protocol: "b",
      extensions: "x-ext",
      headers: { "X-Server": "test" },
    });
    expect(text(response)).toBe(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\nSec-WebSocket-Protocol: b\r\nSec-WebSocket-Extensions: x-ext\r\n` +
        "X-Server: test\r\n\r\n",
    );
    const outcome = hs.receiveData(response);
    expect(outcome?.type).toBe("accepted");
    if (outcome?.type !== "accepted") return;
    expect(outcome.response.protocol).toBe("b");
    expect(outcome.response.extensions).toBe("x-ext");
    expect(outcome.response.headers["x-server"]).toBe("test");
  });

  it("builds refusals the client reports as UnexpectedResponseError", () => {
    const response = buildRejectResponse(426, {
      headers: { "Sec-WebSocket-Version": "13" },
      body: "use 13 ✓",
    });
    expect(text(response)).toBe(
      "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Type: text/plain; charset=utf-8\r\n" +
        "Content-Length: 10\r\nConnection: close\r\n\r\nuse 13 \xe2\x9c\x93",
    );
    const error = failure(client().receiveData(response)) as UnexpectedResponseError;
    expect(error.status).toBe(426);
    expect(new TextDecoder().decode(error.body)).toBe("use 13 ✓");
    expect(text(buildRejectResponse(599))).toBe(
      "HTTP/1.1 599\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
  });

  it("sends lone surrogates in a text body as U+FFFD", () => {
    const response = buildRejectResponse(400, { body: "a\ud800b\udc00" });
    expect(text(response).endsWith("a\xef\xbf\xbdb\xef\xbf\xbd")).toBe(true);
    expect(text(response)).toContain("Content-Length: 8\r\n");
  });

  it("refuses owned headers and bad statuses", () => {
    expect(() => buildAcceptResponse({ key: KEY, headers: { "Sec-WebSocket-Accept": "x" } })).toThrow(
      TypeError,
    );
    expect(() => buildAcceptResponse({ key: KEY, protocol: "a b" })).toThrow(TypeError);
    expect(() => buildRejectResponse(400, { headers: { "Content-Length": "5" } })).toThrow(TypeError);
    expect(() => buildRejectResponse(400, { headers: { "X-A": "1\r\n" } })).toThrow(TypeError);
    expect(() => buildRejectResponse(101)).toThrow(RangeError);
    expect(() => buildRejectResponse(99)).toThrow(RangeError);
  });
});
