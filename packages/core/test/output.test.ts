import { describe, expect, it } from "vitest";
import { Opcode } from "../src/constants.js";
import { END_OF_STREAM } from "../src/events.js";
import { decodeFrameHeader } from "../src/frame.js";
import { OutputBuffer } from "../src/output.js";
import { FrameWriter } from "../src/writer.js";

const encoder = new TextEncoder();
const encodeInto = (text: string, dst: Uint8Array, offset: number) =>
  encoder.encodeInto(text, dst.subarray(offset)).written;

/** An unmasking (server) output buffer and the sizes of the buffers it allocated. */
function makeOutput() {
  const sizes: number[] = [];
  const allocate = (size: number) => {
    sizes.push(size);
    return new Uint8Array(size);
  };
  return { output: new OutputBuffer(new FrameWriter({ mask: false, allocate }), allocate), sizes };
}

/** The frames in `bytes`, as [opcode, fin, payload] triples. */
function frames(bytes: Uint8Array): Array<[number, boolean, Uint8Array]> {
  const out: Array<[number, boolean, Uint8Array]> = [];
  let at = 0;
  while (at < bytes.length) {
    const { header, headerSize } = decodeFrameHeader(bytes, at)!;
    const start = at + headerSize;
    out.push([header.opcode, header.fin, bytes.slice(start, start + header.payloadLength)]);
    at = start + header.payloadLength;
  }
  return out;
}

function joined(items: ReadonlyArray<Uint8Array | typeof END_OF_STREAM>): Uint8Array {
  const parts = items.filter((item): item is Uint8Array => item instanceof Uint8Array);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe("OutputBuffer", () => {
  it("hands out small frames written since the last take as one view, and nothing twice", () => {
    const { output } = makeOutput();
    output.frame(Opcode.Binary, Uint8Array.of(1, 2), true);
    output.frame(Opcode.Ping, Uint8Array.of(3), true);
    const items = output.take();
    expect(items).toHaveLength(1);
    expect(frames(items[0] as Uint8Array)).toEqual([
      [Opcode.Binary, true, Uint8Array.of(1, 2)],
      [Opcode.Ping, true, Uint8Array.of(3)],
    ]);
    expect(output.take()).toEqual([]);
  });

  it("keeps pushed buffers, lone frames and the end of stream in order after the block's frames", () => {
    const { output, sizes } = makeOutput();
    const head = Uint8Array.of(9, 9);
    output.push(head);
    output.frame(Opcode.Text, encoder.encode("a"), true);
    output.frameAlone(Opcode.Close, Uint8Array.of(3, 232));
    output.end();
    output.end();
    const items = output.take();
    expect(items[0]).toBe(head);
    expect(items).toHaveLength(4);
    expect(items[3]).toBe(END_OF_STREAM);
    expect(frames(joined(items.slice(1)))).toEqual([
      [Opcode.Text, true, encoder.encode("a")],
      [Opcode.Close, true, Uint8Array.of(3, 232)],
    ]);
    expect(output.isEnded).toBe(true);
    expect(sizes).toEqual([1024, 4]); // the block, then the close frame's own buffer
  });

  it("writes a big payload as its header in the block and pieces of at most 64 KiB", () => {
    const { output, sizes } = makeOutput();
    const big = Uint8Array.from({ length: 2 * 65_536 + 3 }, (_, i) => i & 0xff);
    output.frame(Opcode.Binary, big, true);
    const items = output.take() as Uint8Array[];
    expect(items.map((item) => item.length)).toEqual([10, 65_536, 65_536, 3]);
    expect(sizes).toEqual([1024, 65_536, 65_536, 3]);
    expect(frames(joined(items))).toEqual([[Opcode.Binary, true, big]]);
  });

  it("reuses its block only after consumed(), and not while frames written since wait to be taken", () => {
    const { output } = makeOutput();
    output.frame(Opcode.Binary, Uint8Array.of(1), true);
    const [first] = output.take() as Uint8Array[];
    output.frame(Opcode.Binary, Uint8Array.of(2), true);
    output.consumed(); // the second frame is not taken yet
    const [second] = output.take() as Uint8Array[];
    expect(second!.byteOffset).toBe(first!.byteOffset + first!.length);
    output.consumed();
    output.frame(Opcode.Binary, Uint8Array.of(3), true);
    const [third] = output.take() as Uint8Array[];
    expect(third!.buffer).toBe(first!.buffer);
    expect(third!.byteOffset).toBe(0);
  });

  it("grows its block from 1 KiB to 16 KiB as a steady sender fills it", () => {
    const { output, sizes } = makeOutput();
    for (let i = 0; i < 100; i++) output.frame(Opcode.Binary, new Uint8Array(500), true);
    expect(sizes.slice(0, 6)).toEqual([1024, 2048, 4096, 8192, 16_384, 16_384]);
    expect(Math.max(...sizes)).toBe(16_384);
  });

  it("encodes text in place, moving a payload shorter than its worst case next to its header", () => {
    const { output } = makeOutput();
    const texts = ["", "hi", "a".repeat(42), "日本語😀", "x".repeat(5460)];
    for (const text of texts) expect(output.text(text, true, encodeInto)).toBe(true);
    expect(output.text("x".repeat(5461), true, encodeInto)).toBe(false); // worst case over 16 KiB
    const decoded = frames(joined(output.take())).map(([opcode, fin, payload]) => [
      opcode,
      fin,
      new TextDecoder().decode(payload),
    ]);
    expect(decoded).toEqual(texts.map((text) => [Opcode.Text, true, text]));
  });
});
