import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCodes, HandshakeError, InvalidStateError } from "../src/errors.js";
import { ErrorBodyCollector, RequestHeadParser, ResponseHeadParser } from "../src/http.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => String.fromCharCode(...b);

const RESPONSE =
  "HTTP/1.1 101 Switching Protocols\r\n" +
  "Upgrade: websocket\r\n" +
  "Connection: Upgrade\r\n" +
  "Set-Cookie: a=1\r\n" +
  "X-Dup: one\r\n" +
  "set-cookie: b=2\r\n" +
  "x-dup:two  \r\n" +
  "Empty:\r\n" +
  "\r\n";
const FRAME = "\x81\x02hi";

/** Feeds `parts` one by one; returns the head and every `undefined` seen before it. */
function feed(parser: ResponseHeadParser, parts: Uint8Array[]) {
  for (let i = 0; i < parts.length; i++) {
    const head = parser.push(parts[i]!);
    if (head) return { head, at: i };
  }
  return undefined;
}

function expectHandshakeError(fn: () => unknown, code: string, message?: RegExp): HandshakeError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(HandshakeError);
  expect((caught as HandshakeError).code).toBe(code);
  if (message) expect((caught as HandshakeError).message).toMatch(message);
  return caught as HandshakeError;
}

describe("ResponseHeadParser", () => {
  it("parses a response fed whole, and returns the following bytes as a view of the chunk", () => {
    const chunk = ascii(RESPONSE + FRAME);
    const head = new ResponseHeadParser().push(chunk)!;
    expect(head.response.status).toBe(101);
    expect(head.response.statusText).toBe("Switching Protocols");
    expect({ ...head.response.headers }).toEqual({
      upgrade: "websocket",
      connection: "Upgrade",
      "set-cookie": "a=1\nb=2",
      "x-dup": "one, two",
      empty: "",
    });
    expect(head.response.rawHeaders).toEqual([
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Set-Cookie", "a=1"],
      ["X-Dup", "one"],
      ["set-cookie", "b=2"],
      ["x-dup", "two"],
      ["Empty", ""],
    ]);
    expect(text(head.rest)).toBe(FRAME);
    expect(head.rest.buffer).toBe(chunk.buffer); // no copy
  });

  it("parses the same response split at every byte boundary", () => {
    const bytes = ascii(RESPONSE + FRAME);
    const whole = new ResponseHeadParser().push(bytes)!;
    for (let split = 0; split <= bytes.length; split++) {
      const result = feed(new ResponseHeadParser(), [bytes.slice(0, split), bytes.slice(split)]);
      expect(result, `split at ${split}`).toBeDefined();
      expect(result!.at).toBe(split >= RESPONSE.length ? 0 : 1);
      expect(result!.head.response).toEqual(whole.response);
      // When the head ends in the first chunk, the second one is never looked at.
      const expectedRest = split >= RESPONSE.length ? FRAME.slice(0, split - RESPONSE.length) : FRAME;
      expect(text(result!.head.rest)).toBe(expectedRest);
    }
  });

  it("parses the response fed byte by byte", () => {
    const bytes = ascii(RESPONSE);
    const parts = Array.from(bytes, (b) => Uint8Array.of(b));
    const result = feed(new ResponseHeadParser(), parts)!;
    expect(result.at).toBe(bytes.length - 1);
    expect(result.head.response.headers["x-dup"]).toBe("one, two");
    expect(result.head.rest.length).toBe(0);
  });

  it.each([
    ["HTTP/1.0 403 Forbidden\r\n\r\n", 403, "Forbidden"],
    ["HTTP/1.1 101\r\n\r\n", 101, ""],
    ["HTTP/1.1 101 \r\n\r\n", 101, ""],
    ["HTTP/1.1 200 OK \u00e9\r\n\r\n", 200, "OK \u00e9"],
  ])("accepts the status line of %j", (head, status, statusText) => {
    const { response } = new ResponseHeadParser().push(Uint8Array.from(head, (c) => c.charCodeAt(0)))!;
    expect(response.status).toBe(status);
    expect(response.statusText).toBe(statusText);
  });

  it.each([
    ["SSH-2.0-OpenSSH_9.6\r\n", 0],
    ["\x16\x03\x01\x02\x00", 0],
    ["\x00\x00", 0],
    ["http/1.1 101 OK\r\n", 0],
    ["HTTP/2 101\r\n", 5],
    ["HTTP/1.1  101\r\n", 9],
    ["HTTP/1.1 1O1 OK\r\n", 10],
    ["HTTP/1.1 1011 OK\r\n", 12],
    ["HTTP/1.1\r\n", 8],
    ["HTTP/1.1 10\r\n", 11],
    ["\r\n", 0],
  ])("rejects %j as soon as byte %i arrives", (garbage, failAt) => {
    const parser = new ResponseHeadParser();
    const bytes = ascii(garbage);
    for (let i = 0; i < failAt; i++) expect(parser.push(bytes.subarray(i, i + 1))).toBeUndefined();
    expectHandshakeError(
      () => parser.push(bytes.subarray(failAt, failAt + 1)),
      ErrorCodes.InvalidHttp,
      /HTTP/,
    );
  });

  it.each([
    ["no colon", "HTTP/1.1 101 OK\r\nUpgrade websocket\r\n\r\n"],
    ["space before the colon", "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n"],
    ["empty name", "HTTP/1.1 101 OK\r\n: websocket\r\n\r\n"],
    ["obs-fold", "HTTP/1.1 101 OK\r\nUpgrade: web\r\n socket\r\n\r\n"],
    ["control character in value", "HTTP/1.1 101 OK\r\nUpgrade: web\x00socket\r\n\r\n"],
    ["bare LF", "HTTP/1.1 101 OK\nUpgrade: websocket\n\n"],
    ["bare CR", "HTTP/1.1 101 OK\rUpgrade: websocket\r\n\r\n"],
    ["control character in reason", "HTTP/1.1 101 O\x01K\r\n\r\n"],
  ])("rejects a head with %s", (_, head) => {
    expectHandshakeError(() => new ResponseHeadParser().push(ascii(head)), ErrorCodes.InvalidHttp);
  });

  it("fails on a bare LF when it arrives, not at the size limit", () => {
    const parser = new ResponseHeadParser({ maxHeadSize: 1000 });
    expect(parser.push(ascii("HTTP/1.1 101 OK"))).toBeUndefined();
    expectHandshakeError(() => parser.push(ascii("\n")), ErrorCodes.InvalidHttp, /LF without CR/);
  });

  it("accepts a head of exactly maxHeadSize bytes and refuses one byte more", () => {
    const head = "HTTP/1.1 101 OK\r\nX: 1\r\n\r\n";
    expect(new ResponseHeadParser({ maxHeadSize: head.length }).push(ascii(head))).toBeDefined();
    const longer = "HTTP/1.1 101 OK\r\nX: 12\r\n\r\n";
    expectHandshakeError(
      () => new ResponseHeadParser({ maxHeadSize: head.length }).push(ascii(longer)),
      ErrorCodes.HeadTooBig,
      /exceeds 25 bytes/,
    );
  });

  it("fails with HeadTooBig once the limit is reached, without waiting for more data", () => {
    const parser = new ResponseHeadParser({ maxHeadSize: 100 });
    expect(parser.push(ascii("HTTP/1.1 101 OK\r\n"))).toBeUndefined();
    const filler = ascii(`X-Filler: ${"a".repeat(200)}`);
    expectHandshakeError(() => parser.push(filler), ErrorCodes.HeadTooBig);
  });

  it("uses DEFAULT_MAX_HEAD_SIZE (16 KiB) by default", () => {
    const parser = new ResponseHeadParser();
    expect(parser.push(ascii(`HTTP/1.1 101 OK\r\nX: ${"a".repeat(16_000)}\r\n`))).toBeUndefined();
    expectHandshakeError(() => parser.push(ascii(`Y: ${"b".repeat(1000)}`)), ErrorCodes.HeadTooBig);
  });

  it("rethrows its failure, and refuses data after a head", () => {
    const failed = new ResponseHeadParser();
    const error = expectHandshakeError(() => failed.push(ascii("SSH")), ErrorCodes.InvalidHttp);
    expect(() => failed.push(ascii("HTTP/1.1 101 OK\r\n\r\n"))).toThrow(error);
    const done = new ResponseHeadParser();
    done.push(ascii("HTTP/1.1 101 OK\r\n\r\n"));
    expect(() => done.push(ascii("x"))).toThrow(InvalidStateError);
  });

  it("does not keep references to the caller's buffers", () => {
    const parser = new ResponseHeadParser();
    const buffer = ascii("HTTP/1.1 101 OK\r\n");
    parser.push(buffer);
    buffer.fill(0x21); // the caller reuses its buffer
    expect(parser.push(ascii("\r\n"))!.response.status).toBe(101);
  });

  it("round-trips any set of headers", () => {
    const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const name = fc.string({ unit: fc.constantFrom(...tchar), minLength: 1, maxLength: 10 });
    const valueChar = fc
      .integer({ min: 0x21, max: 0xff })
      .filter((c) => c !== 0x7f && (c < 0x80 || c >= 0xa0));
    const value = fc
      .array(fc.oneof(valueChar, fc.constant(0x20), fc.constant(0x09)), { maxLength: 20 })
      .map((codes) => String.fromCharCode(...codes).replace(/^[ \t]+|[ \t]+$/g, ""));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(name, value), { maxLength: 10 }),
        fc.integer({ min: 0, max: 400 }),
        (headers, cut) => {
          const head = `HTTP/1.1 404 Not Found\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
          const bytes = Uint8Array.from(head, (c) => c.charCodeAt(0));
          const split = Math.min(cut, bytes.length);
          const result = feed(new ResponseHeadParser(), [bytes.subarray(0, split), bytes.subarray(split)]);
          expect(result!.head.response.rawHeaders).toEqual(headers);
          for (const [n] of headers) {
            const values = headers.filter(([m]) => m.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
            const sep = n.toLowerCase() === "set-cookie" ? "\n" : ", ";
            expect(result!.head.response.headers[n.toLowerCase()]).toBe(values.join(sep));
          }
        },
      ),
    );
  });
});

describe("RequestHeadParser", () => {
  const REQUEST =
    "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";

  it("parses a request fed at every split point", () => {
    const bytes = ascii(REQUEST + FRAME);
    for (let split = 0; split <= bytes.length; split++) {
      const parser = new RequestHeadParser();
      const first = parser.push(bytes.slice(0, split));
      const head = first ?? parser.push(bytes.slice(split))!;
      expect(head.request).toMatchObject({ method: "GET", target: "/chat?x=1", version: "HTTP/1.1" });
      expect(head.request.headers.host).toBe("example.com");
      expect(head.request.rawHeaders.length).toBe(3);
      if (!first) expect(text(head.rest)).toBe(FRAME);
    }
  });

  it.each([
    ["\x16\x03\x01", 0],
    [" GET / HTTP/1.1\r\n", 0],
    ["GET\r\n", 3],
    ["GET / \r\n", 6],
    ["GET /\r\n", 5],
    ["GET  / HTTP/1.1\r\n", 4],
    ["GET / HTTP/1.1 x\r\n", 14],
    ["GET / http/1.1\r\n", 6],
    ["GET / HTTP/11\r\n", 12],
    ["G(T / HTTP/1.1\r\n", 1],
  ])("rejects %j as soon as byte %i arrives", (garbage, failAt) => {
    const parser = new RequestHeadParser();
    const bytes = ascii(garbage);
    for (let i = 0; i < failAt; i++) expect(parser.push(bytes.subarray(i, i + 1))).toBeUndefined();
    expectHandshakeError(() => parser.push(bytes.subarray(failAt, failAt + 1)), ErrorCodes.InvalidHttp);
  });

  it("limits the request head too", () => {
    expectHandshakeError(
      () => new RequestHeadParser({ maxHeadSize: 30 }).push(ascii(REQUEST)),
      ErrorCodes.HeadTooBig,
    );
  });
});

describe("ErrorBodyCollector", () => {
  const response = (status: number, headers: Record<string, string> = {}) => ({
    status,
    statusText: "",
    headers,
    rawHeaders: Object.entries(headers),
  });
  /** Feeds `body` whole and one byte at a time; returns what was kept and whether it completed. */
  function collect(status: number, headers: Record<string, string>, body: string, limit = 100) {
    const results = [body.length === 0 ? [] : [ascii(body)], [...body].map((c) => ascii(c))].map((parts) => {
      const collector = new ErrorBodyCollector(response(status, headers), limit);
      for (const part of parts) collector.push(part);
      return { body: text(collector.body()), complete: collector.complete };
    });
    expect(results[1]).toEqual(results[0]);
    return results[0]!;
  }

  it("stops at the end of a Content-Length body and ignores what follows", () => {
    expect(collect(403, { "content-length": "5" }, "nope!extra")).toEqual({ body: "nope!", complete: true });
  });

  it("reads a chunked body to its last chunk, chunk extensions included", () => {
    const chunked = "4;ext=1\r\nnope\r\n3\r\n!!!\r\n0\r\n\r\n";
    expect(collect(503, { "transfer-encoding": "chunked" }, chunked)).toEqual({
      body: "nope!!!",
      complete: true,
    });
  });

  it("keeps at most `limit` bytes, and a body without a length until then", () => {
    expect(collect(500, {}, "abcdefgh", 4)).toEqual({ body: "abcd", complete: true });
    expect(collect(500, {}, "abc", 4)).toEqual({ body: "abc", complete: false });
  });

  it("has nothing to read for 204, 304 and a zero length, and ends quietly on a malformed chunk size", () => {
    expect(collect(204, {}, "")).toEqual({ body: "", complete: true });
    expect(collect(304, {}, "")).toEqual({ body: "", complete: true });
    expect(collect(400, { "content-length": "0" }, "")).toEqual({ body: "", complete: true });
    const bad = collect(400, { "transfer-encoding": "chunked" }, "zz\r\nabc");
    expect(bad).toEqual({ body: "", complete: true });
  });
});
