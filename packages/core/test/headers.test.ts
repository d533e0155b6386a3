import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCodes, HandshakeError } from "../src/errors.js";
import {
  formatExtensionList,
  isToken,
  parseExtensionList,
  parseTokenList,
  validateHeaderName,
  validateHeaderValue,
} from "../src/headers.js";

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });

describe("isToken", () => {
  it.each(["websocket", "permessage-deflate", "x!#$%&'*+-.^_`|~9"])("accepts %j", (s) => {
    expect(isToken(s)).toBe(true);
  });
  it.each(["", "a b", "a,b", "a;b", 'a"', "a=b", "a/b", "é", "a\tb", "(x)"])("rejects %j", (s) => {
    expect(isToken(s)).toBe(false);
  });
});

describe("parseTokenList", () => {
  it.each([
    ["keep-alive, Upgrade", ["keep-alive", "upgrade"]],
    ["Upgrade", ["upgrade"]],
    ["  WebSocket\t", ["websocket"]],
    [",, a ,\t,b,", ["a", "b"]],
    ["", []],
    [" , ", []],
  ])("parses %j", (value, expected) => {
    expect(parseTokenList(value)).toEqual(expected);
  });
});

describe("parseExtensionList", () => {
  it.each([
    ["", []],
    ["permessage-deflate", [{ name: "permessage-deflate", params: [] }]],
    [
      "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
      [
        {
          name: "permessage-deflate",
          params: [
            ["client_max_window_bits", true],
            ["server_max_window_bits", "10"],
          ],
        },
      ],
    ],
    [
      'foo ; a = "1" ,bar;b=x, , baz',
      [
        { name: "foo", params: [["a", "1"]] },
        { name: "bar", params: [["b", "x"]] },
        { name: "baz", params: [] },
      ],
    ],
    ['x; y="\\z"', [{ name: "x", params: [["y", "z"]] }]],
  ])("parses %j", (value, expected) => {
    expect(parseExtensionList(value)).toEqual(expected);
  });

  it.each([
    "foo;",
    "foo; =1",
    "foo; a=",
    'foo; a="1',
    'foo; a="1 2"',
    'foo; a="',
    'foo; a="\\',
    "foo bar",
    "foo; a=1 2",
    ";foo",
    "f(o)o",
    "foo; a=b=c",
  ])("rejects %j with InvalidExtension", (value) => {
    let caught: unknown;
    try {
      parseExtensionList(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HandshakeError);
    expect((caught as HandshakeError).code).toBe(ErrorCodes.InvalidExtension);
    expect((caught as HandshakeError).message).toContain("Sec-WebSocket-Extensions");
  });

  it("round-trips through formatExtensionList", () => {
    const paramArb = fc.tuple(tokenArb, fc.oneof(fc.constant(true as const), tokenArb));
    const listArb = fc.array(fc.record({ name: tokenArb, params: fc.array(paramArb, { maxLength: 4 }) }), {
      maxLength: 4,
    });
    fc.assert(
      fc.property(listArb, (list) => {
        expect(parseExtensionList(formatExtensionList(list))).toEqual(list);
      }),
    );
  });

  it("formats the usual permessage-deflate offer", () => {
    expect(
      formatExtensionList([{ name: "permessage-deflate", params: [["client_max_window_bits", true]] }]),
    ).toBe("permessage-deflate; client_max_window_bits");
  });

  it("refuses to format what is not a token", () => {
    expect(() => formatExtensionList([{ name: "a b", params: [] }])).toThrow(TypeError);
    expect(() => formatExtensionList([{ name: "a", params: [["b", "1 2"]] }])).toThrow(TypeError);
    expect(() => formatExtensionList([{ name: "a", params: [["", true]] }])).toThrow(TypeError);
  });
});

describe("validateHeaderName / validateHeaderValue", () => {
  it("accepts tokens and ordinary values", () => {
    expect(() => validateHeaderName("X-Custom_1")).not.toThrow();
    expect(() => validateHeaderValue("a b\tc \u00ff ~")).not.toThrow();
    expect(() => validateHeaderValue("")).not.toThrow();
  });
  it.each(["", "a b", "a:b", "a\r\nb", "é"])("rejects the name %j", (name) => {
    expect(() => validateHeaderName(name)).toThrow(TypeError);
  });
  it.each(["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b", "a\x7fb", "a\x01", "\u0100", "😀"])(
    "rejects the value %j",
    (value) => {
      expect(() => validateHeaderValue(value)).toThrow(TypeError);
    },
  );
});
