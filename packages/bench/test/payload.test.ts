import { describe, expect, it } from "vitest";
import { patternByte, utf8Payload, utf8PayloadLength } from "../src/payload.js";

describe("utf8Payload", () => {
  it("is exactly `size` bytes of valid UTF-8 with 1-, 2-, 3- and 4-byte sequences", () => {
    for (const size of [1, 2, 5, 10, 1024]) {
      const bytes = utf8Payload(size, 0);
      expect(bytes.length).toBe(size);
      expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes)).not.toThrow();
    }
    const text = new TextDecoder().decode(utf8Payload(1024, 0));
    for (const char of ["é", "€", "😀"]) expect(text).toContain(char);
  });

  it("starts with the pattern letter of its sequence number and keeps one decoded length", () => {
    for (let seq = 0; seq < 4; seq++) {
      const text = new TextDecoder().decode(utf8Payload(1024, seq));
      expect(text.charCodeAt(0)).toBe(patternByte(seq));
      expect(text.length).toBe(utf8PayloadLength(1024));
    }
    expect(utf8PayloadLength(1024)).toBeLessThan(1024);
  });
});
