import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../src/base64.js";
import { DEFAULT_MAX_ERROR_BODY } from "../src/constants.js";
import { ErrorCodes, HandshakeError, InvalidStateError, UnexpectedResponseError } from "../src/errors.js";
import { computeAccept } from "../src/handshake.js";
import {
  buildClientRequest,
  ClientHandshake,
  type ClientHandshakeOptions,
  type ClientRequestOptions,
  generateKey,
  type HandshakeOutcome,
  resolveWebSocketUrl,
  validateUpgradeResponse,
} from "../src/handshake-client.js";
import { parseUpgradeRequest } from "../src/handshake-server.js";
import { parseResponseHead, RequestHeadParser, ResponseHeadParser } from "../src/http.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);
/** Deterministic randomness: 0, 1, 2, ... */
const counting = (bytes: Uint8Array) => {
  for (let i = 0; i < bytes.length; i++) bytes[i] = i;
};
const KEY = "AAECAwQFBgcICQoLDA0ODw=="; // base64 of 0..15
const ACCEPT = computeAccept(KEY);
const FRAME = "\x81\x05hello";

const ok101 = (extra = "", accept = ACCEPT) =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`;

function client(o: Partial<ClientHandshakeOptions> = {}) {
  return new ClientHandshake({ url: "ws://example.com/", randomFill: counting, ...o });
}

/** Feeds `parts` until an outcome; EOF at the end if `eof`. */
function run(hs: ClientHandshake, parts: Uint8Array[], eof = false): HandshakeOutcome | undefined {
  for (const part of parts) {
    const outcome = hs.receiveData(part);
    if (outcome) return outcome;
  }
  return eof ? hs.receiveEof() : undefined;
}

function failure(outcome: HandshakeOutcome | undefined): HandshakeError {
  expect(outcome?.type).toBe("failed");
  return (outcome as { error: HandshakeError }).error;
}

describe("keys", () => {
  it("generates a 16-byte base64 key from the random source", () => {
    expect(generateKey(counting)).toBe(KEY);
    const key = generateKey((b) => crypto.getRandomValues(b));
    expect(decodeBase64(key).length).toBe(16);
    expect(generateKey((b) => crypto.getRandomValues(b))).not.toBe(key);
  });
});

describe("buildClientRequest", () => {
  const head = (path: string, host: string, extra = "") =>
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

  it.each([
    ["ws://example.com/chat", "/chat", "example.com"],
    ["ws://example.com", "/", "example.com"],
    ["ws://example.com:80/", "/", "example.com"],
    ["wss://example.com:443/", "/", "example.com"],
    ["ws://example.com:443/", "/", "example.com:443"],
    ["wss://example.com:80/", "/", "example.com:80"],
    ["ws://example.com:8080/a/b?x=1&y=%20", "/a/b?x=1&y=%20", "example.com:8080"],
    ["ws://example.com/?", "/?", "example.com"],
    ["ws://[::1]:9000/x", "/x", "[::1]:9000"],
    ["wss://[2001:db8::1]/", "/", "[2001:db8::1]"],
    ["http://example.com/", "/", "example.com"],
    ["https://example.com:443/s", "/s", "example.com"],
    ["WS://EXAMPLE.com/Path", "/Path", "example.com"],
    ["ws://example.com/a b", "/a%20b", "example.com"],
  ])("writes the request for %s exactly", (url, path, host) => {
    expect(text(buildClientRequest({ url, key: KEY }))).toBe(head(path, host));
  });

  it.each([
    ["ws://example.com/", { secure: false, hostname: "example.com", port: 80, host: "example.com" }],
    ["https://example.com/", { secure: true, hostname: "example.com", port: 443, host: "example.com" }],
    ["wss://[::1]:9000/x?y", { secure: true, hostname: "::1", port: 9000, host: "[::1]:9000", path: "/x?y" }],
    [
      "ws://127.0.0.1:443",
      { secure: false, hostname: "127.0.0.1", port: 443, host: "127.0.0.1:443", path: "/" },
    ],
  ])("resolves where to connect for %s", (url, expected) => {
    expect(resolveWebSocketUrl(url)).toMatchObject(expected);
  });

  it("accepts a URL object", () => {
    expect(text(buildClientRequest({ url: new URL("wss://h:8443/p?q"), key: KEY }))).toBe(
      head("/p?q", "h:8443"),
    );
  });

  it("turns percent-decoded userinfo into Basic authorization", () => {
    const bytes = buildClientRequest({ url: "ws://us%40er:p%C3%A4ss@example.com/", key: KEY });
    const credentials = encodeBase64(new TextEncoder().encode("us@er:päss"));
    expect(text(bytes)).toBe(head("/", "example.com", `Authorization: Basic ${credentials}\r\n`));
    expect(text(bytes)).not.toContain("us%40er@");
  });

  it("encodes userinfo as UTF-8, astral characters included, and keeps undecodable escapes as sent", () => {
    const emoji = text(buildClientRequest({ url: "ws://%F0%9F%98%80:x@h/", key: KEY }));
    expect(emoji).toContain(
      `Authorization: Basic ${encodeBase64(new TextEncoder().encode("\u{1F600}:x"))}\r\n`,
    );
    const raw = text(buildClientRequest({ url: "ws://%zz:%E0@h/", key: KEY }));
    expect(raw).toContain(`Authorization: Basic ${encodeBase64(ascii("%zz:%E0"))}\r\n`);
  });

  it("prefers a user Authorization header to the URL userinfo", () => {
    const bytes = buildClientRequest({
      url: "ws://user:pw@example.com/",
      key: KEY,
      headers: { authorization: "Bearer t" },
    });
    expect(text(bytes)).toBe(head("/", "example.com", "authorization: Bearer t\r\n"));
  });

  it("writes origin, subprotocols, extensions and user headers in order; Host may be overridden", () => {
    const bytes = buildClientRequest({
      url: "ws://10.0.0.1:8080/",
      key: KEY,
      origin: "https://app.example",
      protocols: ["chat.v2", "chat"],
      extensions: "permessage-deflate; client_max_window_bits",
      headers: [
        ["Cookie", "a=1"],
        ["Host", "virtual.example"],
        ["Cookie", "b=2"],
      ],
    });
    expect(text(bytes)).toBe(
      head(
        "/",
        "virtual.example",
        "Origin: https://app.example\r\nSec-WebSocket-Protocol: chat.v2, chat\r\n" +
          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nCookie: a=1\r\nCookie: b=2\r\n",
      ),
    );
  });

  const invalidOptions: Array<[string, Omit<ClientRequestOptions, "key">]> = [
    ["ftp scheme", { url: "ftp://example.com/" }],
    ["no URL", { url: "not a url" }],
    ["fragment", { url: "ws://example.com/#frag" }],
    ["empty fragment", { url: "ws://example.com/#" }],
    ["subprotocol with a space", { url: "ws://h/", protocols: ["a b"] }],
    ["empty subprotocol", { url: "ws://h/", protocols: [""] }],
    ["duplicate subprotocol", { url: "ws://h/", protocols: ["chat", "chat"] }],
    ["CRLF injection in a value", { url: "ws://h/", headers: { "X-A": "1\r\nX-Evil: 2" } }],
    ["invalid header name", { url: "ws://h/", headers: { "X A": "1" } }],
    ["non-Latin-1 value", { url: "ws://h/", headers: { "X-A": "\u20ac" } }],
    ["Origin twice", { url: "ws://h/", origin: "https://a", headers: { Origin: "https://b" } }],
    ["invalid extensions offer", { url: "ws://h/", extensions: "permessage-deflate;" }],
    ...["Upgrade", "connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Accept"]
      .concat(["Sec-WebSocket-Extensions", "SEC-WEBSOCKET-PROTOCOL"])
      .map((name): [string, Omit<ClientRequestOptions, "key">] => [
        `owned header ${name}`,
        { url: "ws://h/", headers: { [name]: "x" } },
      ]),
  ];
  it.each(invalidOptions)("throws a TypeError for %s", (_, options) => {
    expect(() => buildClientRequest({ key: KEY, ...options })).toThrow(TypeError);
  });

  it("round-trips any user header set through the request parser", () => {
    const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const owned = /^(host|upgrade|connection|sec-websocket-.*)$/i;
    const name = fc
      .string({ unit: fc.constantFrom(...tchar), minLength: 1, maxLength: 10 })
      .filter((n) => !owned.test(n));
    const value = fc
      .array(
        fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f),
        { maxLength: 20 },
      )
      .map((codes) => String.fromCharCode(...codes).trim());
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (headers) => {
        const bytes = buildClientRequest({ url: "ws://h/", key: KEY, headers });
        const { request, rest } = new RequestHeadParser().push(bytes)!;
        expect(rest.length).toBe(0);
        expect(request.rawHeaders.slice(5)).toEqual(headers);
        expect(parseUpgradeRequest(request).key).toBe(KEY);
      }),
    );
  });
});

describe("validateUpgradeResponse", () => {
  const parse = (head: string) => new ResponseHeadParser().push(ascii(head))!.response;

  it("returns the response with the negotiated protocol and extensions", () => {
    const res = parse(
      ok101("Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"),
    );
    const upgrade = validateUpgradeResponse(res, {
      key: KEY,
      protocols: ["superchat", "chat"],
      extensionsOffered: ["permessage-deflate"],
    });
    expect(upgrade.protocol).toBe("chat");
    expect(upgrade.extensions).toBe("permessage-deflate");
    expect(upgrade.status).toBe(101);
    expect(upgrade.headers["sec-websocket-accept"]).toBe(ACCEPT);
  });

  it("throws UnexpectedResponseError for another status", () => {
    const error = (() => {
      try {
        validateUpgradeResponse(parse("HTTP/1.1 200 OK\r\n\r\n"), { key: KEY });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect((error as UnexpectedResponseError).status).toBe(200);
  });
});

describe("ClientHandshake", () => {
  it("draws its key from crypto.getRandomValues by default", () => {
    const a = new ClientHandshake({ url: "ws://h/" });
    const b = new ClientHandshake({ url: "ws://h/" });
    expect(decodeBase64(a.key).length).toBe(16);
    expect(a.key).not.toBe(b.key);
    expect(text(a.request)).toContain(`Sec-WebSocket-Key: ${a.key}\r\n`);
  });

  it("sends the request built from its options and a generated key", () => {
    const hs = client({ url: "ws://example.com:8080/chat", protocols: ["chat"] });
    expect(hs.key).toBe(KEY);
    expect(text(hs.request)).toBe(
      `GET /chat HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n`,
    );
  });

  it("returns the first frame bytes that came with the 101 as rest", () => {
    const chunk = ascii(ok101() + FRAME);
    const outcome = client().receiveData(chunk);
    expect(outcome?.type).toBe("accepted");
    if (outcome?.type !== "accepted") return;
    expect(text(outcome.rest)).toBe(FRAME);
    expect(outcome.response).toMatchObject({ status: 101, protocol: "", extensions: "" });
  });

  it("keeps the 101 as fields equal to the parsed head: spread, JSON and equality see headers and rawHeaders", () => {
    const head = ok101("X-Dup: one\r\nx-dup: two\r\nSec-WebSocket-Protocol: chat\r\n");
    const outcome = client({ protocols: ["chat"] }).receiveData(ascii(head));
    if (outcome?.type !== "accepted") throw new Error(`not accepted: ${outcome?.type}`);
    const plain = { ...parseResponseHead(ascii(head)), protocol: "chat", extensions: "" };
    const kept = outcome.response;
    expect(Object.keys(kept)).toEqual(Object.keys(plain));
    expect({ ...kept }).toEqual(plain);
    expect(JSON.parse(JSON.stringify(kept))).toEqual(JSON.parse(JSON.stringify(plain)));
    expect(kept.headers["x-dup"]).toBe("one, two");
    expect(Object.getPrototypeOf(kept.headers)).toBeNull();
    expect(kept.headers).toBe(kept.headers); // parsed once, then the same objects
    expect(kept.rawHeaders).toBe(kept.rawHeaders);
  });

  it("accepts the response split at every byte boundary, and fed byte by byte", () => {
    const bytes = ascii(ok101("Sec-WebSocket-Protocol: chat\r\n") + FRAME);
    const headLength = bytes.length - FRAME.length;
    for (let split = 0; split <= bytes.length; split++) {
      const hs = client({ protocols: ["chat"] });
      const outcome = run(hs, [bytes.slice(0, split), bytes.slice(split)]);
      expect(outcome?.type, `split at ${split}`).toBe("accepted");
      if (outcome?.type !== "accepted") return;
      expect(outcome.response.protocol).toBe("chat");
      const expectedRest = split >= headLength ? FRAME.slice(0, split - headLength) : FRAME;
      expect(text(outcome.rest)).toBe(expectedRest);
    }
    const hs = client({ protocols: ["chat"] });
    const parts = Array.from(bytes.subarray(0, headLength), (b) => Uint8Array.of(b));
    expect(run(hs, parts)?.type).toBe("accepted");
  });

  it.each([
    [
      "Connection: keep-alive, Upgrade",
      ok101().replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
    ],
    ["Upgrade: WebSocket", ok101().replace("Upgrade: websocket", "Upgrade: WebSocket")],
    ["lower-case header names", ok101().replace(/\r\n[^:\r]+:/g, (line) => line.toLowerCase())],
    ["HTTP/1.0 101", ok101().replace("HTTP/1.1", "HTTP/1.0")],
    ["an empty Sec-WebSocket-Extensions", ok101("Sec-WebSocket-Extensions: \r\n")],
  ])("accepts a 101 with %s", (_, response) => {
    expect(client().receiveData(ascii(response))?.type).toBe("accepted");
  });

  const bad: Array<[string, string, string, Partial<ClientHandshakeOptions>?]> = [
    ["wrong Accept", ok101("", computeAccept("AAAAAAAAAAAAAAAAAAAAAA==")), ErrorCodes.InvalidAccept],
    ["missing Accept", ok101().replace(/Sec-WebSocket-Accept.*\r\n/, ""), ErrorCodes.InvalidAccept],
    ["two Accept headers", ok101(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`), ErrorCodes.InvalidAccept],
    ["missing Upgrade", ok101().replace("Upgrade: websocket\r\n", ""), ErrorCodes.InvalidUpgrade],
    ["Upgrade: h2c", ok101().replace("Upgrade: websocket", "Upgrade: h2c"), ErrorCodes.InvalidUpgrade],
    ["missing Connection", ok101().replace("Connection: Upgrade\r\n", ""), ErrorCodes.InvalidUpgrade],
    [
      "Connection: keep-alive",
      ok101().replace("Connection: Upgrade", "Connection: keep-alive"),
      ErrorCodes.InvalidUpgrade,
    ],
    [
      "unoffered subprotocol",
      ok101("Sec-WebSocket-Protocol: other\r\n"),
      ErrorCodes.InvalidSubprotocol,
      { protocols: ["chat"] },
    ],
    [
      "subprotocol in another case",
      ok101("Sec-WebSocket-Protocol: Chat\r\n"),
      ErrorCodes.InvalidSubprotocol,
      { protocols: ["chat"] },
    ],
    [
      "subprotocol when none offered",
      ok101("Sec-WebSocket-Protocol: chat\r\n"),
      ErrorCodes.InvalidSubprotocol,
    ],
    [
      "two subprotocols",
      ok101("Sec-WebSocket-Protocol: a, b\r\n"),
      ErrorCodes.InvalidSubprotocol,
      { protocols: ["a", "b"] },
    ],
    [
      "unoffered extension",
      ok101("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
      ErrorCodes.InvalidExtension,
    ],
    [
      "malformed extension",
      ok101("Sec-WebSocket-Extensions: x;\r\n"),
      ErrorCodes.InvalidExtension,
      { extensionsOffered: ["x"] },
    ],
    ["garbage instead of HTTP", "SSH-2.0-OpenSSH_9.6\r\n", ErrorCodes.InvalidHttp],
    ["binary instead of HTTP", "\x16\x03\x01\x00\xa5\x01", ErrorCodes.InvalidHttp],
    ["a bad header line", "HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n", ErrorCodes.InvalidHttp],
    [
      "an oversized head",
      `HTTP/1.1 101 OK\r\nX: ${"a".repeat(300)}\r\n\r\n`,
      ErrorCodes.HeadTooBig,
      { maxHeadSize: 256 },
    ],
  ];
  it.each(bad)("fails on %s", (_, response, code, options) => {
    const error = failure(client(options).receiveData(ascii(response)));
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(0);
    if (code !== ErrorCodes.InvalidHttp && code !== ErrorCodes.HeadTooBig)
      expect(error.response?.status).toBe(101);
  });

  describe("non-101 responses", () => {
    const cases: Array<[string, string, number, string, Record<string, string>]> = [
      [
        "404 with a Content-Length body",
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot here!",
        404,
        "not here!",
        { "content-type": "text/plain" },
      ],
      [
        "500 with a chunked body",
        "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nboom \r\nA;ext=1\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
        500,
        "boom 0123456789",
        { "transfer-encoding": "chunked" },
      ],
      [
        "301 with Location and no body",
        "HTTP/1.1 301 Moved Permanently\r\nLocation: wss://other.example/\r\nContent-Length: 0\r\n\r\n",
        301,
        "",
        { location: "wss://other.example/" },
      ],
      ["204 (never a body)", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", {}],
      ["HTTP/1.0 403 from a proxy", "HTTP/1.0 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", 403, "no", {}],
    ];

    it.each(cases)(
      "fails on %s with UnexpectedResponseError, at every split point",
      (_, response, status, body, headers) => {
        const bytes = ascii(response);
        for (let split = 0; split <= bytes.length; split++) {
          const error = failure(run(client(), [bytes.slice(0, split), bytes.slice(split)]));
          expect(error, `split at ${split}`).toBeInstanceOf(UnexpectedResponseError);
          const unexpected = error as UnexpectedResponseError;
          expect(unexpected.code).toBe(ErrorCodes.UnexpectedResponse);
          expect(unexpected.status).toBe(status);
          expect(unexpected.message).toContain(String(status));
          expect(unexpected.headers).toMatchObject(headers);
          expect(text(unexpected.body)).toBe(body);
          expect(unexpected.response?.status).toBe(status);
        }
      },
    );

    it("reads a body without length until EOF", () => {
      const hs = client();
      expect(
        hs.receiveData(ascii("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\nbusy")),
      ).toBeUndefined();
      expect(hs.receiveData(ascii(", retry"))).toBeUndefined();
      const error = failure(hs.receiveEof()) as UnexpectedResponseError;
      expect(error.status).toBe(503);
      expect(error.headers["retry-after"]).toBe("5");
      expect(text(error.body)).toBe("busy, retry");
    });

    it("caps the body at maxErrorBodySize and fails without waiting for the rest", () => {
      const hs = client({ maxErrorBodySize: 4 });
      const outcome = hs.receiveData(ascii("HTTP/1.1 500 Oops\r\nContent-Length: 1000\r\n\r\n0123456789"));
      expect(text((failure(outcome) as UnexpectedResponseError).body)).toBe("0123");
      const chunked = client({ maxErrorBodySize: 4 });
      expect(
        chunked.receiveData(ascii("HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")),
      ).toBeUndefined();
      const error = failure(chunked.receiveData(ascii("3\r\ndef\r\n"))) as UnexpectedResponseError;
      expect(text(error.body)).toBe("abcd");
    });

    it("caps the body at DEFAULT_MAX_ERROR_BODY by default", () => {
      const outcome = client().receiveData(
        ascii(`HTTP/1.1 500 Oops\r\n\r\n${"x".repeat(DEFAULT_MAX_ERROR_BODY + 10)}`),
      );
      expect((failure(outcome) as UnexpectedResponseError).body.length).toBe(DEFAULT_MAX_ERROR_BODY);
    });

    it("reports a truncated body when the connection ends early", () => {
      const hs = client();
      hs.receiveData(ascii("HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nshort"));
      expect(text((failure(hs.receiveEof()) as UnexpectedResponseError).body)).toBe("short");
    });

    it("stops quietly at a malformed chunk size, keeping the status", () => {
      const outcome = client().receiveData(
        ascii("HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n"),
      );
      const error = failure(outcome) as UnexpectedResponseError;
      expect(error.status).toBe(502);
      expect(text(error.body)).toBe("ok");
    });
  });

  it("fails with UnexpectedEof when the connection ends before a full head", () => {
    const empty = failure(client().receiveEof());
    expect(empty.code).toBe(ErrorCodes.UnexpectedEof);
    expect(empty.message).toMatch(/before any/);
    const hs = client();
    expect(hs.receiveData(ascii("HTTP/1.1 101 Switching"))).toBeUndefined();
    const partial = failure(hs.receiveEof());
    expect(partial.code).toBe(ErrorCodes.UnexpectedEof);
    expect(partial.message).toMatch(/22 bytes/);
  });

  it("refuses calls after the outcome", () => {
    const hs = client();
    hs.receiveData(ascii(ok101()));
    expect(() => hs.receiveData(ascii("x"))).toThrow(InvalidStateError);
    expect(() => hs.receiveEof()).toThrow(InvalidStateError);
    const failed = client();
    failed.receiveData(ascii("nope"));
    expect(() => failed.receiveData(ascii("x"))).toThrow(InvalidStateError);
  });

  it("rejects bad options at construction", () => {
    expect(() => client({ url: "ws://h/#x" })).toThrow(TypeError);
    expect(() => client({ headers: { Connection: "close" } })).toThrow(TypeError);
  });
});
