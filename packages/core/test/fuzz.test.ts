import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { framesProperty, handshakeProperty } from "./fuzz/properties.js";

// A short sample in CI; `pnpm fuzz` runs the same properties for as long as you like.
describe("fuzzing with an oracle (short sample)", () => {
  it("any frame stream, in any chunking: documented events and errors only, chunking-independent", () => {
    expect(() => fc.assert(framesProperty, { numRuns: 1500 })).not.toThrow();
  });

  it("any HTTP-looking response: the handshake fails only with HandshakeErrors, chunking-independent", () => {
    expect(() => fc.assert(handshakeProperty, { numRuns: 1500 })).not.toThrow();
  });
});
