import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBinary, encodeBinary } from "../src/encoding.js";

describe("binary data on a line", () => {
  it("round-trips any bytes in both encodings", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (const encoding of ["base64", "hex"] as const) {
          expect(decodeBinary(encodeBinary(bytes, encoding), encoding)).toEqual(bytes);
        }
      }),
    );
  });

  it("encodes a view of a larger buffer, not the whole buffer", () => {
    const view = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
    expect(encodeBinary(view, "hex")).toBe("0102");
  });

  it("accepts spaces in hex, unpadded and URL-safe base64, and surrounding spaces", () => {
    expect(decodeBinary(" de ad BE EF ", "hex")).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    expect(decodeBinary("-_8", "base64")).toEqual(new Uint8Array([0xfb, 0xff]));
    expect(decodeBinary("AAE", "base64")).toEqual(new Uint8Array([0, 1]));
    expect(decodeBinary("", "hex")).toEqual(new Uint8Array(0));
  });

  it.each([
    ["abc", "hex", /not hex/],
    ["0x00", "hex", /not hex/],
    ["A", "base64", /not base64/],
    ["AA=A", "base64", /not base64/],
    ["AA AA", "base64", /not base64/],
    ["****", "base64", /not base64/],
  ] as const)("refuses %j as %s", (text, encoding, message) => {
    expect(() => decodeBinary(text, encoding)).toThrow(message);
  });
});
