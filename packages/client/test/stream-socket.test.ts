import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StreamSocket } from "../src/stream-socket.js";
import { FakeWebSocketStream } from "./helpers/fake-websocket-stream.js";

beforeEach(() => {
  (globalThis as { WebSocketStream?: unknown }).WebSocketStream = FakeWebSocketStream;
});
afterEach(() => {
  delete (globalThis as { WebSocketStream?: unknown }).WebSocketStream;
});

/** Lets the streams' promise chains run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function open(protocols: string[] = []) {
  const socket = new StreamSocket("wss://a.test/", protocols);
  const stream = FakeWebSocketStream.last as FakeWebSocketStream;
  const log: { events: string[]; messages: (string | ArrayBuffer | Uint8Array)[] } = {
    events: [],
    messages: [],
  };
  /** What onmessage returns: the socket reads no further message until it settles. */
  let hold: Promise<void> | undefined;
  socket.onopen = () => log.events.push("open");
  socket.onclose = (e) => log.events.push(`close ${e.code} ${e.reason} ${e.wasClean}`);
  socket.onmessage = (e) => {
    log.messages.push(e.data);
    return hold;
  };
  const holdReads = () => {
    let release!: () => void;
    hold = new Promise((resolve) => {
      release = resolve;
    });
    return () => {
      hold = undefined;
      release();
    };
  };
  return { socket, stream, log, holdReads };
}

describe("StreamSocket", () => {
  it("opens with the agreed subprotocol and delivers text and bytes", async () => {
    const { socket, stream, log } = open(["chat"]);
    expect(stream.protocols).toEqual(["chat"]);
    stream.accept("chat");
    await settle();
    expect(log.events).toEqual(["open"]);
    expect(socket.protocol).toBe("chat");
    stream.receive("hi");
    stream.receive(new Uint8Array([9, 1, 2, 3]).subarray(1));
    await settle();
    expect(log.messages[0]).toBe("hi");
    expect(log.messages[1]).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("reads nothing past a message whose onmessage returned a pending promise, and the rest once it settles", async () => {
    const { stream, log, holdReads } = open();
    stream.accept();
    await settle();
    const release = holdReads();
    for (const m of ["1", "2", "3"]) stream.receive(m);
    await settle();
    expect(log.messages).toEqual(["1"]);
    release();
    await settle();
    expect(log.messages).toEqual(["1", "2", "3"]);
  });

  it("send() resolves when the write is done, and counts it in bufferedAmount until then", async () => {
    const { socket, stream } = open();
    stream.accept();
    await settle();
    let done = false;
    const sent = socket.send(new Uint8Array(5)).then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    expect(socket.bufferedAmount).toBe(5);
    stream.pendingWrites.shift()?.();
    await sent;
    expect(socket.bufferedAmount).toBe(0);
    expect(stream.written).toEqual([new Uint8Array(5)]);
  });

  it("a send whose write fails rejects for whoever awaits it, and never as an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      const { socket, stream } = open();
      stream.accept();
      await settle();
      const awaited = socket.send("awaited");
      void socket.send("dropped"); // as a heartbeat's send: nobody awaits it
      stream.breakWrites();
      await expect(awaited).rejects.toThrow("closing");
      void socket.send("after"); // the stream has failed: rejects at once
      await settle();
      expect(unhandled).toEqual([]);
      expect(socket.bufferedAmount).toBe(0);
    } finally {
      process.off("unhandledRejection", listener);
    }
  });

  it("a close is reported with the server's code and reason; close() passes its own", async () => {
    const { socket, stream, log } = open();
    stream.accept();
    await settle();
    socket.close(4000, "bye");
    await settle();
    expect(stream.closedWith).toEqual({ closeCode: 4000, reason: "bye" });
    expect(log.events).toEqual(["open", "close 4000 bye true"]);
  });

  it("a connection that fails before opening reports an unclean close (1006), and never opens", async () => {
    const { stream, log } = open();
    stream.fail();
    await settle();
    expect(log.events).toEqual(["close 1006  false"]);
  });

  it("a server's close without a code is reported as 1005, clean", async () => {
    const { stream, log } = open();
    stream.accept();
    await settle();
    stream.close({});
    await settle();
    expect(log.events).toEqual(["open", "close 1005  true"]);
  });
});
