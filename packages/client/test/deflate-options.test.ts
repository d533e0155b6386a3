import { describe, expect, it } from "vitest";
import { WebSocketClient } from "../src/client.js";
import { resolveDeflateOptions } from "../src/deflate-options.js";

describe("resolveDeflateOptions", () => {
  it("offers by default with a 1024-byte threshold, and validates every field", () => {
    expect(resolveDeflateOptions(undefined)).toEqual({ threshold: 1024 });
    expect(resolveDeflateOptions(true)).toEqual({ threshold: 1024 });
    expect(resolveDeflateOptions(false)).toBe(false);
    expect(resolveDeflateOptions({ threshold: 0, level: 1, memLevel: 9, clientMaxWindowBits: 10 })).toEqual({
      threshold: 0,
      level: 1,
      memLevel: 9,
      clientMaxWindowBits: 10,
    });
    for (const bad of [
      { threshold: -1 },
      { level: 10 },
      { memLevel: 0 },
      { clientMaxWindowBits: 7 },
      { serverMaxWindowBits: 16 },
      { serverMaxWindowBits: "12" },
    ]) {
      expect(() => resolveDeflateOptions(bad as never)).toThrow(TypeError);
    }
    expect(() => new WebSocketClient("ws://127.0.0.1:1", { perMessageDeflate: { level: 12 } })).toThrow(
      /perMessageDeflate.level/,
    );
  });
});
