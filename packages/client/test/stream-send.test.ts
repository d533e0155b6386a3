import { Readable } from "node:stream";
import { InvalidStateError } from "@tideway/core";
import { describe, expect, it } from "vitest";
import {
  ConnectionClosedError,
  SendQueueFullError,
  StreamInterruptedError,
  StreamSourceError,
} from "../src/errors.js";
import { frameCounter, type SeenFrame } from "./helpers/frame-counter.js";
import { client, useCleanups, within } from "./helpers/harness.js";
import { serverFrame, sleep, waitFor } from "./helpers/servers.js";

useCleanups();

const KiB = 1024;

async function* chunks<T>(items: T[], delayMs = 0): AsyncGenerator<T> {
  for (const item of items) {
    if (delayMs > 0) await sleep(delayMs);
    yield item;
  }
}

/** "opcode:fin:length" per data frame, the compact shape of what went on the wire. */
function shape(frames: readonly SeenFrame[]): string[] {
  return frames.filter((f) => f.opcode <= 2).map((f) => `${f.opcode}:${f.fin ? "fin" : "more"}:${f.length}`);
}

/** The payloads of the data frames from `from` on, concatenated. */
function payloadOf(frames: readonly SeenFrame[]): Buffer {
  return Buffer.concat(frames.filter((f) => f.opcode <= 2).map((f) => f.payload ?? Buffer.alloc(0)));
}

describe("a streamed send", () => {
  it("sends each chunk as a fragment and an empty FIN frame, and resolves once written", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    const parts = [new Uint8Array(10).fill(1), new Uint8Array(20 * KiB).fill(2), new Uint8Array(3).fill(3)];
    await c.send(chunks(parts));
    await waitFor(() => s.messages === 1);
    expect(shape(s.frames)).toEqual(["2:more:10", "0:more:20480", "0:more:3", "0:fin:0"]);
    expect(s.dataBytes).toBe(10 + 20 * KiB + 3);
  });

  it("takes ArrayBuffers and other views, skips empty chunks, and sends an empty source as one empty message", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    await c.send(
      chunks<ArrayBuffer | ArrayBufferView>([new ArrayBuffer(4), new Uint8Array(0), new Uint16Array(3)]),
    );
    await c.send(chunks<Uint8Array>([]));
    await waitFor(() => s.messages === 2);
    expect(shape(s.frames)).toEqual(["2:more:4", "0:more:6", "0:fin:0", "2:fin:0"]);
  });

  it("sends string chunks as text, keeping a surrogate pair split between chunks whole", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    await c.send(chunks(["a\uD83D", "\uDE00b", "c\uD83D"]));
    await waitFor(() => s.messages === 1);
    expect(s.frames[0]?.opcode).toBe(1);
    // The trailing lone high surrogate becomes U+FFFD, as in a whole message.
    expect(payloadOf(s.frames).toString("utf8")).toBe("a\u{1F600}bc\uFFFD");
  });

  it("sends a held half pair before bytes that follow it in a text message", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    await c.send(chunks<string | Uint8Array>(["a\uD83D", Buffer.from("b")]));
    await waitFor(() => s.messages === 1);
    expect(payloadOf(s.frames).toString("utf8")).toBe("a\uFFFDb");
  });

  it("lets the binary option decide the frame type whatever the chunks are", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    await c.send(chunks(["hé", "llo"]), { binary: true });
    await c.send(chunks([Buffer.from("hé"), Buffer.from("llo")]), { binary: false });
    await waitFor(() => s.messages === 2);
    expect(shape(s.frames)).toEqual(["2:more:3", "0:more:3", "0:fin:0", "1:more:3", "0:more:3", "0:fin:0"]);
    expect(payloadOf(s.frames).toString("utf8")).toBe("hellohello".replace(/e/g, "é"));
  });

  it("reads a WHATWG ReadableStream and a Node Readable", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(5));
        controller.enqueue(new Uint8Array(6));
        controller.close();
      },
    });
    await c.send(web);
    await c.send(Readable.from([Buffer.alloc(7), Buffer.alloc(8)]));
    await waitFor(() => s.messages === 2);
    expect(shape(s.frames)).toEqual(["2:more:5", "0:more:6", "0:fin:0", "2:more:7", "0:more:8", "0:fin:0"]);
  });
});

describe("a source that fails", () => {
  it("fails the connection with 1011 and rejects the send with a StreamSourceError", async () => {
    const s = await frameCounter();
    const c = client(s.server.url, { reconnect: false });
    await c.connect();
    const boom = new Error("disk gone");
    async function* failing() {
      yield new Uint8Array(100);
      throw boom;
    }
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    const sent = c.send(failing());
    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamSourceError);
    expect((error as StreamSourceError).code).toBe("WS_ERR_STREAM_SOURCE");
    expect((error as StreamSourceError).closeCode).toBe(1011);
    expect((error as StreamSourceError).cause).toBe(boom);
    await waitFor(() => s.closeCode !== undefined);
    expect(s.closeCode).toBe(1011);
    // The close reason does not carry the user's error.
    const close = s.frames.find((f) => f.opcode === 8);
    expect(close?.payload?.subarray(2).toString()).toBe("streamed message failed");
    expect(errors).toContain(error);
  });

  it("rejects a chunk that is neither bytes nor a string as the source's failure", async () => {
    const s = await frameCounter();
    const c = client(s.server.url, { reconnect: false });
    await c.connect();
    const error = await c
      .send(chunks<unknown>([new Uint8Array(1), 42]) as AsyncIterable<Uint8Array>)
      .catch((e) => e);
    expect(error).toBeInstanceOf(StreamSourceError);
    expect((error as StreamSourceError).cause).toBeInstanceOf(TypeError);
    await waitFor(() => s.closeCode === 1011);
  });

  it("keeps the connection open when the source fails before its first chunk: nothing was sent", async () => {
    const s = await frameCounter();
    const c = client(s.server.url, { reconnect: false });
    await c.connect();
    const failing = (): AsyncIterable<Uint8Array> => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("no file")) }),
    });
    await expect(c.send(failing())).rejects.toBeInstanceOf(StreamSourceError);
    await c.send("still open");
    await waitFor(() => s.messages === 1);
    expect(payloadOf(s.frames).toString()).toBe("still open");
    expect(s.closeCode).toBeUndefined();
  });
});

describe("other sends around a streamed one", () => {
  it("sends whole messages made meanwhile after it, in call order, resolving in order", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    const resolved: string[] = [];
    const track = (name: string, p: Promise<void>) => p.then(() => resolved.push(name));
    const all = [
      track("stream1", c.send(chunks([Buffer.from("s1a"), Buffer.from("s1b")], 10))),
      track("a", c.send("a")),
      track("bytes", c.send(new Uint8Array([1, 2]))),
      track("stream2", c.send(chunks(["s2a", "s2b"], 5))),
      track("b", c.send("b")),
    ];
    await within(Promise.all(all), 5000, "every send");
    await waitFor(() => s.messages === 5);
    expect(shape(s.frames)).toEqual([
      "2:more:3",
      "0:more:3",
      "0:fin:0",
      "1:fin:1",
      "2:fin:2",
      "1:more:3",
      "0:more:3",
      "0:fin:0",
      "1:fin:1",
    ]);
    expect(resolved).toEqual(["stream1", "a", "bytes", "stream2", "b"]);
  });

  it("copies bytes that wait behind it, and bounds them by maxQueuedBytes", async () => {
    const s = await frameCounter();
    const c = client(s.server.url, { maxQueuedBytes: 10 });
    await c.connect();
    const streamed = c.send(chunks([new Uint8Array(1)], 20));
    const bytes = new Uint8Array([7, 7, 7, 7, 7, 7, 7, 7]);
    const waiting = c.send(bytes);
    bytes.fill(0); // the caller reuses its buffer
    expect(c.bufferedAmount).toBeGreaterThanOrEqual(8);
    await expect(c.send(new Uint8Array(3))).rejects.toBeInstanceOf(SendQueueFullError);
    await Promise.all([streamed, waiting]);
    await waitFor(() => s.messages === 2);
    expect([...(s.frames.at(-1)?.payload ?? [])]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
  });

  it("answers the server's pings and lets the client's own pings through while it streams", async () => {
    let dataFrames = 0;
    const s = await frameCounter({
      onFrame(frame, socket) {
        if (frame.opcode <= 2 && !frame.fin) socket.write(serverFrame(9, `p${dataFrames++}`));
      },
    });
    const c = client(s.server.url);
    await c.connect();
    let rtt: number | undefined;
    async function* slow() {
      for (let i = 0; i < 20; i++) {
        await sleep(5);
        if (i === 10) rtt = await c.ping();
        yield new Uint8Array(16 * KiB);
      }
    }
    await c.send(slow());
    await waitFor(() => s.messages === 1);
    const fin = s.frames.findIndex((f) => f.opcode === 0 && f.fin);
    const pongsBefore = s.frames.slice(0, fin).filter((f) => f.opcode === 10);
    expect(pongsBefore.length).toBeGreaterThanOrEqual(10);
    expect(pongsBefore[0]?.payload?.toString()).toBe("p0");
    expect(s.frames.slice(0, fin).some((f) => f.opcode === 9)).toBe(true);
    expect(rtt).toBeTypeOf("number");
  });
});

describe("a streamed send that cannot finish", () => {
  it("close() stops it: the source is released, the send rejects, the close frame goes out", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    let released = false;
    async function* endless() {
      try {
        for (;;) {
          yield new Uint8Array(100);
          await sleep(5);
        }
      } finally {
        released = true;
      }
    }
    const sent = c.send(endless());
    await waitFor(() => s.frames.length >= 3);
    await c.close();
    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).code).toBe("WS_ERR_STREAM_INTERRUPTED");
    expect((error as StreamInterruptedError).fragmentsSent).toBeGreaterThanOrEqual(3);
    expect((error as StreamInterruptedError).cause).toBeInstanceOf(InvalidStateError);
    await waitFor(() => released);
    expect(s.closeCode).toBe(1000);
  });

  it("rejects when the connection drops mid-message, and never resends half of it", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    await c.connect();
    async function* endless() {
      for (;;) {
        yield new Uint8Array(100);
        await sleep(5);
      }
    }
    const sent = c.send(endless());
    await waitFor(() => s.frames.length >= 2);
    s.sockets[0]?.destroy();
    const error = await within(
      sent.catch((e: unknown) => e),
      3000,
      "the rejection",
    );
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).cause).toBeInstanceOf(ConnectionClosedError);
    // The client reconnects; what it sends next starts a new message on the new connection.
    await waitFor(() => s.sockets.length === 2 && c.readyState === 1);
    const before = s.frames.length;
    await c.send("after");
    await waitFor(() => s.frames.length > before);
    expect(shape(s.frames.slice(before))).toEqual(["1:fin:5"]);
  });

  it("waits for the connection when sent before connect(), and rejects on a closed client", async () => {
    const s = await frameCounter();
    const c = client(s.server.url);
    const sent = c.send(chunks([new Uint8Array(2)]));
    await c.connect();
    await sent;
    await waitFor(() => s.messages === 1);
    expect(shape(s.frames)).toEqual(["2:more:2", "0:fin:0"]);
    await c.close();
    const error = await c.send(chunks([new Uint8Array(2)])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamInterruptedError);
    expect((error as StreamInterruptedError).fragmentsSent).toBe(0);
  });

  it("stops pulling its source while the server does not read", async () => {
    const s = await frameCounter({ keepFrames: false });
    const c = client(s.server.url);
    await c.connect();
    const socket = s.sockets[0];
    socket?.pause();
    let pulled = 0;
    const total = 256;
    async function* big() {
      for (let i = 0; i < total; i++) {
        pulled++;
        yield new Uint8Array(256 * KiB);
      }
    }
    const sent = c.send(big());
    // Pulling stops once the socket's and the kernel's buffers are full: settled for a while.
    let last = -1;
    while (pulled !== last) {
      last = pulled;
      await sleep(100);
    }
    expect(pulled * 256 * KiB).toBeLessThan(32 * 1024 * KiB);
    expect(pulled).toBeLessThan(total);
    socket?.resume();
    await within(sent, 20_000, "the whole message");
    await waitFor(() => s.messages === 1);
    expect(s.dataBytes).toBe(total * 256 * KiB);
  }, 30_000);
});
