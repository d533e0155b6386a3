import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Opcode } from "../src/constants.js";
import type { WsEvent } from "../src/events.js";
import { decodeFrameHeader } from "../src/frame.js";
import { MessageReader } from "../src/reader.js";
import { defaultUtf8 } from "../src/utf8.js";
import { FrameWriter } from "../src/writer.js";

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));
const hello = new TextEncoder().encode("Hello");

/** Random bytes that repeat the given key forever: each frame gets the next 4 bytes. */
const fixedKeys =
  (...keys: string[]) =>
  (b: Uint8Array) => {
    const all = keys.map(hex);
    for (let i = 0; i < b.length; i++) b[i] = all[Math.floor(i / 4) % all.length]![i % 4]!;
  };

describe("FrameWriter", () => {
  it("writes the RFC 6455 masked 'Hello' example with an injected key", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("37 fa 21 3d") });
    expect(writer.frame(Opcode.Text, hello)).toEqual(hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"));
  });

  it("writes unmasked frames for the server role, with fin and rsv1 as asked", () => {
    const writer = new FrameWriter({ mask: false });
    expect(writer.frame(Opcode.Text, hello)).toEqual(hex("81 05 48 65 6c 6c 6f"));
    expect(writer.frame(Opcode.Text, hello.subarray(0, 3), false)).toEqual(hex("01 03 48 65 6c"));
    expect(writer.frame(Opcode.Continuation, hello.subarray(3), true, true)).toEqual(hex("c0 02 6c 6f"));
  });

  it("uses a fresh key for each frame and never modifies the payload", () => {
    const writer = new FrameWriter({ mask: true, randomFill: fixedKeys("01 02 03 04", "05 06 07 08") });
    const payload = hello.slice();
    const a = writer.frame(Opcode.Binary, payload);
    const b = writer.frame(Opcode.Binary, payload);
    expect(a.subarray(2, 6)).toEqual(hex("01 02 03 04"));
    expect(b.subarray(2, 6)).toEqual(hex("05 06 07 08"));
    expect(payload).toEqual(hello);
  });

  it("shares one key pool between writers given the same random source, never repeating a key", () => {
    let fills = 0;
    let counter = 0;
    const fill = (bytes: Uint8Array) => {
      fills++;
      for (let i = 0; i < bytes.length; i++) bytes[i] = (counter++ * 7) & 0xff;
    };
    const writers = [
      new FrameWriter({ mask: true, randomFill: fill }),
      new FrameWriter({ mask: true, randomFill: fill }),
    ];
    const keys = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const frame = writers[i % 2]!.frame(Opcode.Binary, hello);
      keys.add(Array.from(frame.subarray(2, 6)).join(","));
    }
    expect(keys.size).toBe(64);
    expect(fills).toBe(1); // one 8 KiB block serves both writers
  });

  it.each([
    [125, 2],
    [126, 4],
    [65535, 4],
    [65536, 10],
  ])("uses the right length form for %d bytes", (length, headerSize) => {
    const frame = new FrameWriter({ mask: true }).frame(Opcode.Binary, new Uint8Array(length));
    const decoded = decodeFrameHeader(frame);
    expect(decoded?.headerSize).toBe(headerSize + 4);
    expect(decoded?.header).toMatchObject({ masked: true, payloadLength: length, opcode: Opcode.Binary });
    expect(frame.length).toBe(headerSize + 4 + length);
  });

  it("round-trips through a server-role MessageReader with crypto.getRandomValues keys", () => {
    const writer = new FrameWriter({ mask: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70000 }), (payload) => {
        const frame = writer.frame(Opcode.Binary, payload);
        const out: WsEvent[] = [];
        new MessageReader({ expectMasked: true, maxPayload: 2 ** 20, utf8: defaultUtf8 }).read(frame, out);
        expect(out).toEqual([{ type: "binary", data: payload }]);
      }),
      { numRuns: 50 },
    );
  });
});
