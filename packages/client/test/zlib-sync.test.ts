/**
 * SyncZlibStream: a persistent node:zlib stream driven synchronously (history kept between writes,
 * the output limit, the end of a deflate stream, errors, reset, close), and the probe that decides
 * whether the runtime's node:zlib allows it.
 */
import { Buffer } from "node:buffer";
import { constants, createDeflateRaw, createInflateRaw, deflateRawSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import { OutputLimitError, SyncZlibStream, syncZlibWorks } from "../src/zlib-sync.js";

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const sync = { finishFlush: constants.Z_SYNC_FLUSH };

const streams: SyncZlibStream[] = [];
afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});
const inflater = (options = {}) => {
  const s = new SyncZlibStream(createInflateRaw({ windowBits: 15, ...options }));
  streams.push(s);
  return s;
};
const deflater = () => {
  const s = new SyncZlibStream(createDeflateRaw({ windowBits: 15 }));
  streams.push(s);
  return s;
};

describe("SyncZlibStream", () => {
  it("works in Node", () => {
    expect(syncZlibWorks()).toBe(true);
  });

  it("keeps its history between writes: a deflater's second message is one back-reference", () => {
    const d = deflater();
    const i = inflater();
    const message = Buffer.from("the same message, twice over");
    const first = d.write(message).data;
    const second = d.write(message).data;
    expect(second.length).toBeLessThan(12);
    expect(Buffer.from(i.write(first).data).equals(message)).toBe(true);
    expect(Buffer.from(i.write(second).data).equals(message)).toBe(true);
  });

  it("returns outputs that later writes never overwrite, across slabs", () => {
    const i = inflater();
    const d = deflater();
    const kept: Array<[Uint8Array, Buffer]> = [];
    for (let n = 0; n < 400; n++) {
      const message = Buffer.from(`${n}:`.repeat(1 + ((n * 37) % 300)));
      kept.push([i.write(d.write(message).data).data, message]);
    }
    for (const [out, message] of kept) expect(Buffer.from(out).equals(message)).toBe(true);
  });

  it("throws OutputLimitError once the output passes maxOutput, having made at most one slab more", () => {
    const bomb = deflateRawSync(Buffer.alloc(10 * 2 ** 20), sync);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => inflater().write(bomb, 100_000)).toThrow(OutputLimitError);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
    // Exactly the limit is fine.
    const exact = deflateRawSync(Buffer.alloc(100_000, 1), sync);
    expect(inflater().write(exact, 100_000).data.length).toBe(100_000);
  });

  it("says when the deflate stream ended (BFINAL): the input after it is left", () => {
    const i = inflater();
    const final = deflateRawSync(Buffer.from("last"));
    const out = i.write(Buffer.concat([final, TAIL]));
    expect(Buffer.from(out.data).toString()).toBe("last");
    expect(out.ended).toBe(true);
    expect(inflater().write(deflateRawSync(Buffer.from("more"), sync)).ended).toBe(false);
  });

  it("throws zlib's error on a corrupt stream, and nothing is left to surface later", async () => {
    const errors: unknown[] = [];
    const onUncaught = (e: unknown) => errors.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      const i = inflater();
      expect(() => i.write(Uint8Array.of(0xff, 0xff, 0xff))).toThrow(/invalid/i);
      // The stream is dead: it throws again instead of touching the freed zlib context.
      expect(() => i.write(TAIL)).toThrow();
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    expect(errors).toEqual([]);
  });

  it("starts afresh after reset(), or from its preset dictionary", () => {
    const reference = deflateRawSync(Buffer.from("tideway"), { ...sync, dictionary: Buffer.from("tideway") });
    const i = inflater({ dictionary: Buffer.from("tideway") });
    expect(Buffer.from(i.write(reference).data).toString()).toBe("tideway");
    i.reset();
    expect(Buffer.from(i.write(reference).data).toString()).toBe("tideway");
    const plain = inflater();
    plain.write(deflateRawSync(Buffer.from("tideway"), sync));
    plain.reset();
    expect(() => plain.write(reference)).toThrow(/too far back/);
  });

  it("close() frees the zlib context: the stream is destroyed", () => {
    const zlib = createInflateRaw();
    const s = new SyncZlibStream(zlib);
    s.close();
    expect(zlib.destroyed).toBe(true);
    expect(() => s.write(TAIL)).toThrow();
  });
});

describe("syncZlibWorks", () => {
  /** zlib-sync.js over a node:zlib whose streams lack Node's internals, as Bun's own zlib does. */
  async function withoutInternals() {
    vi.resetModules();
    vi.doMock("node:zlib", async (importOriginal) => {
      const zlib = await importOriginal<typeof import("node:zlib")>();
      return {
        ...zlib,
        createInflateRaw: (options?: Parameters<typeof zlib.createInflateRaw>[0]) => {
          const stream = zlib.createInflateRaw(options);
          stream.close();
          Object.defineProperty(stream, "_handle", { value: undefined });
          return stream;
        },
      };
    });
    try {
      return await import("../src/zlib-sync.js");
    } finally {
      vi.doUnmock("node:zlib");
      vi.resetModules();
    }
  }

  it("probes with valid input only: no zlib error, whose stack Node formats (loading source maps)", async () => {
    vi.resetModules();
    const fresh = await import("../src/zlib-sync.js");
    const prepare = vi.fn((error: Error) => String(error));
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = prepare;
    try {
      expect(fresh.syncZlibWorks()).toBe(true);
    } finally {
      Error.prepareStackTrace = saved;
    }
    expect(prepare).not.toHaveBeenCalled();
  });

  it("is false where the stream has no native handle to drive", async () => {
    expect((await withoutInternals()).syncZlibWorks()).toBe(false);
  });
});
