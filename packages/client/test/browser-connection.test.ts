import { State } from "@tideway/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket as WsWebSocket } from "ws";
import { appHeartbeat } from "../src/app-heartbeat.js";
import { BrowserConnection } from "../src/browser-connection.js";
import type { ConnectionHandlers } from "../src/client-connection.js";
import { type CloseInfo, ConnectionClosedError } from "../src/errors.js";
import type { Message, TextAs } from "../src/events.js";
import { type BinaryType, resolveOptions, type WebSocketClientOptions } from "../src/options.js";
import { isRetryable } from "../src/reconnect.js";
import { TextBytes } from "../src/text-bytes.js";
import { FakeWebSocketStream } from "./helpers/fake-websocket-stream.js";
import { BrowserLikeWs, deadUrl, rawServer, useCleanups, within, wsServer } from "./helpers/harness.js";

useCleanups();

/** The global WebSocket the connection uses, replaced in a test. */
const setWebSocket = (WebSocket: unknown) => {
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
};
// The `ws` package's WebSocket stands in for the browser's (Node 20 has none; Node 22's is another).
const nodeWebSocket = (globalThis as { WebSocket?: unknown }).WebSocket;
beforeAll(() => setWebSocket(BrowserLikeWs));
afterAll(() => {
  setWebSocket(nodeWebSocket);
  if (nodeWebSocket === undefined) delete (globalThis as { WebSocket?: unknown }).WebSocket;
});

interface Recorded {
  messages: Message[];
  events: string[];
  closes: Array<{ info: CloseInfo; error: Error | undefined }>;
}

function connection(url: string, o: WebSocketClientOptions<BinaryType, TextAs> = {}) {
  const log: Recorded = { messages: [], events: [], closes: [] };
  const handlers: ConnectionHandlers = {
    client: {},
    emit: (event: string, ..._args: unknown[]) => void log.events.push(event),
    deliverPart: () => {},
    onConnect: () => log.events.push("connect"),
    onOpen: () => log.events.push("open"),
    onMessage: (m) => log.messages.push(m),
    onError: (_c, e) => log.events.push(`error:${(e as { code?: string }).code ?? e.message}`),
    onClose: (_c, info, error) => log.closes.push({ info, error }),
  };
  const conn = new BrowserConnection(resolveOptions(url, o), handlers);
  return { conn, log };
}

const until = async (condition: () => boolean, what: string) => {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > 3000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("BrowserConnection", () => {
  it("opens, sends text and binary, receives them back as the binaryType says, and closes cleanly", async () => {
    const server = await wsServer({ handleProtocols: () => "chat" });
    const { conn, log } = connection(server.url, { protocols: ["chat"], binaryType: "arraybuffer" });
    const response = await within(conn.open(), 3000, "open");
    expect(response).toMatchObject({ status: 101, protocol: "chat", headers: {} });
    expect(log.events).toEqual(["connect", "open"]);
    expect(conn.state).toBe(State.Open);
    await conn.send("héllo", false);
    await conn.send(new Uint8Array([1, 2, 3]), true);
    await conn.send("as bytes", true);
    await until(() => log.messages.length === 3, "three echoes");
    expect(log.messages[0]).toBe("héllo");
    expect(new Uint8Array(log.messages[1] as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    expect(new TextDecoder().decode(log.messages[2] as ArrayBuffer)).toBe("as bytes");
    const info = await within(conn.close(1000, "bye"), 3000, "close");
    expect(info).toMatchObject({ code: 1000, reason: "bye", wasClean: true, initiatedByUser: true });
    expect(info.sent).toEqual({ code: 1000, reason: "bye" });
    expect(log.closes).toHaveLength(1);
    expect(conn.state).toBe(State.Closed);
  });

  it("delivers binary as a Uint8Array by default", async () => {
    const server = await wsServer();
    const { conn, log } = connection(server.url);
    await conn.open();
    await conn.send(new Uint8Array([9]), true);
    await until(() => log.messages.length === 1, "echo");
    expect(log.messages[0]).toEqual(new Uint8Array([9]));
    expect(log.messages[0]).toBeInstanceOf(Uint8Array);
  });

  it('textAs "bytes": a text message arrives as TextBytes of its UTF-8, a binary one as a Uint8Array', async () => {
    const server = await wsServer();
    const { conn, log } = connection(server.url, { textAs: "bytes" });
    await conn.open();
    await conn.send("héllo", false);
    await conn.send(new Uint8Array([9]), true);
    await until(() => log.messages.length === 2, "two echoes");
    expect(log.messages[0]).toBeInstanceOf(TextBytes);
    expect(new TextDecoder().decode(log.messages[0] as Uint8Array)).toBe("héllo");
    expect(log.messages[1]).not.toBeInstanceOf(TextBytes);
    expect(log.messages[1]).toEqual(new Uint8Array([9]));
  });

  it("has an id per connection and no socket address; ping(data) rejects and pong() throws a TypeError", async () => {
    const server = await wsServer();
    const first = connection(server.url).conn;
    const second = connection(server.url).conn;
    await first.open();
    expect(first.info.id).not.toBe(second.info.id);
    expect(first.info.remoteAddress).toBeUndefined();
    await expect(first.ping(new Uint8Array([1]))).rejects.toThrow(TypeError);
    expect(() => first.pong()).toThrow(TypeError);
    second.terminate();
  });

  it("sends a close code a browser refuses (1001-1014) as 1000", async () => {
    const server = await wsServer();
    const { conn } = connection(server.url);
    await conn.open();
    const peer = server.clients[0] as WsWebSocket;
    const received = new Promise<number>((resolve) => peer.once("close", (code) => resolve(code)));
    await conn.close(1001, "going");
    expect(await received).toBe(1000);
  });

  it("reports a server close as not initiated by the user, with the code received", async () => {
    const server = await wsServer();
    const { conn, log } = connection(server.url);
    await conn.open();
    (server.clients[0] as WsWebSocket).close(4001, "kicked");
    await until(() => log.closes.length === 1, "close");
    expect(log.closes[0]?.info).toMatchObject({
      code: 4001,
      reason: "kicked",
      wasClean: true,
      initiatedByUser: false,
    });
    expect(log.closes[0]?.info.received).toEqual({ code: 4001, reason: "kicked" });
  });

  it("an error event after open leaves the close to decide: the drop stays retryable", async () => {
    const server = await wsServer();
    const { conn, log } = connection(server.url);
    await conn.open();
    // Text that is not UTF-8: the stand-in fails the connection, an "error" event then a 1006 close.
    const peer = server.clients[0] as unknown as { _socket: { write(b: Uint8Array): void } };
    peer._socket.write(new Uint8Array([0x81, 0x02, 0xc3, 0x28]));
    await until(() => log.closes.length === 1, "close");
    expect(log.closes[0]?.info).toMatchObject({ code: 1006, wasClean: false, initiatedByUser: false });
    // A plain Error here would be the verdict's "do not retry": the client would stop for good.
    expect(log.closes[0]?.error).toBeUndefined();
    expect(isRetryable(new ConnectionClosedError(log.closes[0]?.info as CloseInfo))).toBe(true);
  });

  it("rejects with a ConnectError when nothing listens", async () => {
    const { conn } = connection(await deadUrl());
    await expect(within(conn.open(), 3000, "refused")).rejects.toMatchObject({ code: "WS_ERR_CONNECT" });
    expect(conn.ended).toMatchObject({ code: 1006, wasClean: false });
    await expect(conn.closed).resolves.toMatchObject({ code: 1006 });
  });

  it("rejects with a ConnectError carrying the cause when the WebSocket constructor throws", async () => {
    const thrown = new SyntaxError("blocked");
    class Throwing {
      constructor() {
        throw thrown;
      }
    }
    const { conn } = connection("ws://a.test/");
    setWebSocket(Throwing);
    const failure = await conn.open().catch((err: unknown) => err);
    setWebSocket(BrowserLikeWs);
    expect(failure).toMatchObject({ code: "WS_ERR_CONNECT", cause: thrown });
    expect((failure as Error).message).toBe("Connection to a.test failed: SyntaxError: blocked");
    expect(conn.ended).toMatchObject({ code: 1006, wasClean: false, initiatedByUser: false });
  });

  it("rejects with a HandshakeTimeoutError when the server never answers the upgrade", async () => {
    const server = await rawServer(() => {});
    const { conn } = connection(server.url, { handshakeTimeout: 100 });
    await expect(within(conn.open(), 3000, "timeout")).rejects.toMatchObject({
      code: "WS_ERR_HANDSHAKE_TIMEOUT",
    });
  });

  it("rejects with an AbortedError when the signal aborts during the handshake", async () => {
    const server = await rawServer(() => {});
    const { conn } = connection(server.url);
    const controller = new AbortController();
    const opening = conn.open(controller.signal);
    controller.abort(new Error("stop"));
    await expect(opening).rejects.toMatchObject({ code: "WS_ERR_ABORTED" });
  });

  it("rejects sends unless open, and text bytes that are not UTF-8", async () => {
    const server = await wsServer();
    const { conn } = connection(server.url);
    await expect(conn.send("early", false)).rejects.toMatchObject({ code: "WS_ERR_INVALID_STATE" });
    await conn.open();
    await expect(conn.send(new Uint8Array([0xff]), false)).rejects.toThrow(TypeError);
  });

  it("ping() without appHeartbeat rejects with a TypeError that says what to use", async () => {
    const server = await wsServer();
    const { conn } = connection(server.url);
    await conn.open();
    await expect(conn.ping()).rejects.toThrow(/appHeartbeat/);
  });

  it("appHeartbeat: replies measure latency and are not delivered; ping() resolves with a round trip", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) =>
      ws.on("message", (d) => ws.send(String(d) === "ping" ? "pong" : String(d))),
    );
    const { conn, log } = connection(server.url, {
      appHeartbeat: appHeartbeat({
        message: "ping",
        isReply: (m) => m === "pong",
        interval: 20,
        timeout: 1000,
      }),
    });
    await conn.open();
    await until(() => conn.latency !== undefined, "a beat's reply");
    expect(await conn.ping()).toBeGreaterThanOrEqual(0);
    await conn.send("data", false);
    await until(() => log.messages.length === 1, "echo");
    expect(log.messages).toEqual(["data"]);
  });

  it("appHeartbeat: no reply within the timeout fails the connection with a HeartbeatTimeoutError", async () => {
    const server = await wsServer({ echo: false });
    const { conn, log } = connection(server.url, {
      appHeartbeat: appHeartbeat({
        message: "ping",
        isReply: (m) => m === "pong",
        interval: 10,
        timeout: 30,
      }),
    });
    await conn.open();
    await until(() => log.closes.length === 1, "the heartbeat's failure");
    expect(log.events).toContain("error:WS_ERR_HEARTBEAT_TIMEOUT");
    expect(log.closes[0]?.error).toMatchObject({ code: "WS_ERR_HEARTBEAT_TIMEOUT" });
    expect(log.closes[0]?.info.wasClean).toBe(false);
  });

  it("while paused, fails with a ReceiveBufferFullError past maxBufferedBytes instead of holding more", async () => {
    const server = await wsServer({ echo: false });
    const { conn, log } = connection(server.url, { maxBufferedBytes: 2500 });
    await conn.open();
    conn.pause();
    const peer = server.clients[0] as WsWebSocket;
    for (let i = 0; i < 5; i++) peer.send(new Uint8Array(1000));
    await until(() => log.closes.length === 1, "the bound");
    expect(log.messages).toHaveLength(2);
    expect(log.closes[0]?.error).toMatchObject({ code: "WS_ERR_RECEIVE_BUFFER_FULL", limit: 2500 });
  });

  it("resume() starts the count again: a consumer that catches up is never failed", async () => {
    const server = await wsServer({ echo: false });
    const { conn, log } = connection(server.url, { maxBufferedBytes: 2500 });
    await conn.open();
    const peer = server.clients[0] as WsWebSocket;
    for (let round = 0; round < 3; round++) {
      conn.pause();
      peer.send(new Uint8Array(2000));
      await until(() => log.messages.length === round + 1, "a message");
      conn.resume();
    }
    expect(log.closes).toHaveLength(0);
  });

  it("terminate() before open() ends the connection: closed resolves", async () => {
    const { conn } = connection("ws://127.0.0.1:1/");
    conn.terminate();
    await expect(within(conn.closed, 1000, "closed")).resolves.toMatchObject({
      code: 1006,
      initiatedByUser: true,
    });
  });

  it("close() before open ends the attempt as terminate() does: it rejects with an AbortedError", async () => {
    const server = await rawServer(() => {});
    const { conn } = connection(server.url);
    const opening = conn.open();
    const closed = conn.close(1000, "bye");
    await expect(opening).rejects.toMatchObject({ code: "WS_ERR_ABORTED" });
    await expect(closed).resolves.toMatchObject({ code: 1006, initiatedByUser: true, sent: undefined });
    expect(conn.state).toBe(State.Closed);
  });

  it("terminate() ends an open connection at once", async () => {
    const server = await wsServer();
    const { conn, log } = connection(server.url);
    await conn.open();
    conn.terminate();
    expect(conn.ended).toMatchObject({ code: 1006, initiatedByUser: true });
    expect(log.closes).toHaveLength(1);
  });
});

describe("BrowserConnection over a WebSocketStream (where the runtime has one)", () => {
  const useStream = (o: WebSocketClientOptions<BinaryType, TextAs> = {}) => {
    (globalThis as { WebSocketStream?: unknown }).WebSocketStream = FakeWebSocketStream;
    const { conn, log } = connection("wss://a.test/", o);
    return { conn, log, opening: conn.open(), stream: FakeWebSocketStream.last as FakeWebSocketStream };
  };
  afterEach(() => {
    delete (globalThis as { WebSocketStream?: unknown }).WebSocketStream;
  });

  it("paused before open, reads no message past the first until resumed", async () => {
    const { conn, log, opening, stream } = useStream();
    conn.pause();
    stream.accept();
    await within(opening, 3000, "open");
    for (const m of ["1", "2", "3"]) stream.receive(m);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.messages).toEqual(["1"]);
    conn.resume();
    await until(() => log.messages.length === 3, "the messages held while paused");
  });

  it("a failed opening rejects with a ConnectError; a server close ends it with the code received", async () => {
    const failing = useStream();
    failing.stream.fail();
    await expect(within(failing.opening, 3000, "failure")).rejects.toMatchObject({ code: "WS_ERR_CONNECT" });
    expect(failing.conn.ended).toMatchObject({ code: 1006, wasClean: false });
    const { conn, log, opening, stream } = useStream();
    stream.accept();
    await within(opening, 3000, "open");
    stream.end(4001, "bye");
    await until(() => log.closes.length === 1, "close");
    expect(conn.ended).toMatchObject({ code: 4001, reason: "bye", wasClean: true, initiatedByUser: false });
  });

  it("an opening that completes after terminate() is ignored: the connection stays ended", async () => {
    const { conn, log, opening, stream } = useStream();
    conn.terminate();
    await expect(opening).rejects.toMatchObject({ code: "WS_ERR_ABORTED" });
    stream.accept();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.events).toEqual([]);
    expect(conn.state).toBe(State.Closed);
    expect(conn.opened).toBe(false);
  });

  it("stops reading while paused, and send() resolves only once the write is done", async () => {
    const { conn, log, opening, stream } = useStream();
    stream.accept();
    await within(opening, 3000, "open");
    conn.pause();
    for (const m of ["1", "2", "3"]) stream.receive(m);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.messages).toEqual(["1"]);
    conn.resume();
    await until(() => log.messages.length === 3, "the messages held while paused");
    let sent = false;
    const sending = conn.send("out", false).then(() => {
      sent = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toBe(false);
    expect(conn.bufferedAmount).toBe(3);
    stream.pendingWrites.shift()?.();
    await sending;
    expect(stream.written).toEqual(["out"]);
  });

  it("an appHeartbeat beat whose write fails as the stream closes leaves no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      const { conn, opening, stream } = useStream({
        appHeartbeat: appHeartbeat({
          message: "ping",
          isReply: (m) => m === "pong",
          interval: 5,
          timeout: 1000,
        }),
      });
      stream.accept();
      await within(opening, 3000, "open");
      await until(() => stream.written.length === 1, "a beat");
      stream.breakWrites(); // the beat in flight fails
      const sending = conn.send("out", false);
      await expect(sending).rejects.toThrow("closing");
      expect(stream.written).toEqual(["ping"]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", listener);
    }
  });
});
