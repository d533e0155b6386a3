// The /sink verifier, fed whole, byte by byte and split at every point: it must answer "done" only
// for a stream where every byte is right, and name the first wrong message otherwise.
import { describe, expect, it } from "vitest";
import { binaryPayloads } from "../src/payload.js";
import { PatternSink } from "../src/sink.js";

/** A masked client frame, built independently of PatternSink (mask varies with `seed`). */
function clientFrame(opcode: number, payload: Uint8Array, seed = 0): Uint8Array {
  const mask = [0x12 + seed, 0x34, 0x56 ^ seed, 0x78];
  const n = payload.length;
  const ext =
    n < 126
      ? []
      : n < 0x10000
        ? [n >> 8, n & 0xff]
        : [0, 0, 0, 0, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const head = [0x80 | opcode, 0x80 | (n < 126 ? n : n < 0x10000 ? 126 : 127), ...ext, ...mask];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  payload.forEach((b, i) => {
    out[head.length + i] = b ^ mask[i % 4]!;
  });
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A correct stream of `count` messages of `size` bytes, with a ping in the middle. */
function stream(size: number, count: number): Uint8Array {
  const payloads = binaryPayloads(size);
  const frames = Array.from({ length: count }, (_, seq) => clientFrame(0x2, payloads[seq % 4]!, seq));
  frames.splice(1, 0, clientFrame(0x9, Uint8Array.of(1, 2, 3), 7));
  return concat(frames);
}

/** A masked client frame with FIN as given. */
function fragment(opcode: number, payload: Uint8Array, fin: boolean, seed = 0): Uint8Array {
  const frame = clientFrame(opcode, payload, seed);
  if (!fin) frame[0] = frame[0]! & 0x7f;
  return frame;
}

/** `count` messages of `size` bytes, each as fragments of `piece` bytes and an empty FIN frame. */
function fragmentedStream(size: number, count: number, piece: number): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let seq = 0; seq < count; seq++) {
    const payload = binaryPayloads(size)[seq % 4]!;
    for (let at = 0; at < size; at += piece) {
      frames.push(fragment(at === 0 ? 0x2 : 0x0, payload.subarray(at, at + piece), false, seq + at));
    }
    frames.push(fragment(0x0, new Uint8Array(0), true, seq));
  }
  return concat(frames);
}

function run(size: number, count: number, chunks: Uint8Array[], fragmented = false) {
  const events: string[] = [];
  const sink = new PatternSink(
    size,
    count,
    {
      control: (opcode, payload) => events.push(`control ${opcode} ${[...payload].join(",")}`),
      done: (n, bytes) => events.push(`done ${n} ${bytes}`),
      fail: (reason) => events.push(`fail ${reason}`),
    },
    fragmented,
  );
  for (const chunk of chunks) sink.push(chunk);
  return events;
}

describe("PatternSink", () => {
  for (const size of [16, 200, 300, 70_000]) {
    it(`verifies ${size} B messages fed whole and byte by byte`, () => {
      const bytes = stream(size, 5);
      const want = ["control 9 1,2,3", `done 5 ${5 * size}`];
      expect(run(size, 5, [bytes])).toEqual(want);
      if (size < 1000)
        expect(
          run(
            size,
            5,
            [...bytes].map((b) => Uint8Array.of(b)),
          ),
        ).toEqual(want);
    });
  }

  it("verifies a stream split at every point", () => {
    for (const size of [16, 300]) {
      const bytes = stream(size, 3);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(run(size, 3, [bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual([
          "control 9 1,2,3",
          `done 3 ${3 * size}`,
        ]);
      }
    }
  });

  it("names the first wrong byte, at any split point", () => {
    for (const size of [16, 300]) {
      const bytes = stream(size, 3);
      // Flip one payload byte of message 2 (the last frame), 5 bytes before its end.
      bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 1;
      for (let cut = 0; cut <= bytes.length; cut += 7) {
        const events = run(size, 3, [bytes.subarray(0, cut), bytes.subarray(cut)]);
        expect(events[1]).toMatch(/^fail message 2: payload differs from the pattern near byte \d+$/);
        expect(events).toHaveLength(2);
      }
    }
  });

  it("fails a lost message, a wrong length, an unmasked frame and a surplus message", () => {
    const payloads = binaryPayloads(16);
    const lost = concat([clientFrame(0x2, payloads[0]!), clientFrame(0x2, payloads[2]!)]);
    expect(run(16, 3, [lost])).toEqual(["fail message 1: payload differs from the pattern near byte 0"]);
    expect(run(16, 1, [clientFrame(0x2, new Uint8Array(15).fill(0x61))])).toEqual([
      "fail message 0: opcode 2 fin true length 15",
    ]);
    expect(run(16, 1, [clientFrame(0x1, payloads[0]!)])).toEqual([
      "fail message 0: opcode 1 fin true length 16",
    ]);
    expect(run(16, 1, [Uint8Array.of(0x82, 0x10, ...payloads[0]!)])).toEqual([
      "fail bad frame: client frame is not masked",
    ]);
    const surplus = concat([clientFrame(0x2, payloads[0]!), clientFrame(0x2, payloads[1]!)]);
    expect(run(16, 1, [surplus])).toEqual(["done 1 16", "fail more than 1 messages"]);
  });

  it("verifies fragmented messages when told to, at every split point, and fails a short or reordered one", () => {
    const bytes = fragmentedStream(300, 3, 128);
    for (let cut = 0; cut <= bytes.length; cut += 5) {
      expect(run(300, 3, [bytes.subarray(0, cut), bytes.subarray(cut)], true)).toEqual(["done 3 900"]);
    }
    // Without the flag, a fragment is a wrong message.
    expect(run(300, 3, [bytes])).toEqual(["fail message 0: opcode 2 fin false length 128"]);
    const payload = binaryPayloads(300)[0]!;
    const short = concat([
      fragment(0x2, payload.subarray(0, 128), false),
      fragment(0x0, payload.subarray(128, 200), true),
    ]);
    expect(run(300, 1, [short], true)).toEqual(["fail message 0: opcode 0 fin true length 72"]);
    const continuationFirst = fragment(0x0, payload, true);
    expect(run(300, 1, [continuationFirst], true)).toEqual(["fail message 0: opcode 0 fin true length 300"]);
    const corrupt = fragmentedStream(300, 1, 128);
    corrupt[20] = corrupt[20]! ^ 1;
    expect(run(300, 1, [corrupt], true)[0]).toMatch(/^fail message 0: payload differs/);
  });
});
