import { describe, expect, it } from "vitest";
import { computeAccept, HANDSHAKE_HEADERS, headerPairs } from "../src/handshake.js";

describe("computeAccept", () => {
  it("computes the RFC 6455 section 1.3 example accept value", () => {
    // The value printed in RFC 6455 section 1.3 (also checked against node:crypto).
    expect(computeAccept("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
});

describe("headerPairs", () => {
  it("takes a record or a list of pairs, in order, and refuses an invalid name or value", () => {
    expect(headerPairs(undefined)).toEqual([]);
    expect(headerPairs({ A: "1", B: "2" })).toEqual([
      ["A", "1"],
      ["B", "2"],
    ]);
    expect(headerPairs([["X", "y"]])).toEqual([["X", "y"]]);
    expect(() => headerPairs({ "bad name": "v" })).toThrow(TypeError);
    expect(() => headerPairs({ ok: "line\r\nbreak" })).toThrow(TypeError);
  });
});

describe("HANDSHAKE_HEADERS", () => {
  it("holds the negotiation headers in lower case, and not Host", () => {
    for (const name of ["upgrade", "connection", "sec-websocket-key", "sec-websocket-protocol"]) {
      expect(HANDSHAKE_HEADERS.has(name)).toBe(true);
    }
    expect(HANDSHAKE_HEADERS.has("host")).toBe(false);
  });
});
