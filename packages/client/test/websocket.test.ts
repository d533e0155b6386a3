import { Buffer } from "node:buffer";
import type net from "node:net";
import { ProtocolError, UnexpectedResponseError } from "@tideway/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ConnectError,
  SendQueueFullError,
  WebSocket,
  type WebSocketEventMap,
  type WebSocketOptions,
  webSocketClass,
} from "../src/index.js";
import {
  onUpgradeRequest,
  type RawServer,
  serverFrame,
  sleep,
  startRawServer,
  startWsServer,
  switchingProtocols,
  type WsTestServer,
  waitFor,
} from "./helpers/servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function wsServer(o: Parameters<typeof startWsServer>[0] = {}): Promise<WsTestServer> {
  const s = await startWsServer(o);
  cleanups.push(() => s.close());
  return s;
}
async function rawServer(fn: (socket: net.Socket) => void): Promise<RawServer> {
  const s = await startRawServer(fn);
  cleanups.push(() => s.close());
  return s;
}
/** A port nothing listens on (a server's, closed at once). */
async function closedPortUrl(): Promise<string> {
  const s = await startRawServer(() => {});
  await s.close();
  return s.url;
}

/** A socket closed after the test; no heartbeat, so tests never wait on pings. */
function socket(url: string, protocols?: string | string[], o: WebSocketOptions = {}): WebSocket {
  const ws = new WebSocket(url, protocols, { heartbeat: false, ...o });
  cleanups.push(() => ws.close());
  return ws;
}

function next<K extends keyof WebSocketEventMap>(ws: WebSocket, type: K): Promise<WebSocketEventMap[K]> {
  return new Promise((resolve) => ws.addEventListener(type, resolve, { once: true }));
}

/** Every event the socket dispatches, as "open", "message", "error", "close <code> <wasClean>". */
function record(ws: WebSocket): string[] {
  const log: string[] = [];
  ws.addEventListener("open", () => log.push("open"));
  ws.addEventListener("message", () => log.push("message"));
  ws.addEventListener("error", () => log.push("error"));
  ws.addEventListener("close", (e) => log.push(`close ${e.code} ${e.wasClean}`));
  return log;
}

function domException(fn: () => unknown): DOMException {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DOMException);
    return err as DOMException;
  }
  throw new Error("did not throw");
}

describe("constants", () => {
  it("has CONNECTING, OPEN, CLOSING and CLOSED on the class, its instances and configured classes", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const Configured = webSocketClass({ heartbeat: false });
    for (const holder of [WebSocket, ws, Configured]) {
      expect([holder.CONNECTING, holder.OPEN, holder.CLOSING, holder.CLOSED]).toEqual([0, 1, 2, 3]);
    }
    // What libraries check before accepting an implementation (graphql-ws's isWebSocket).
    expect(["CONNECTING", "OPEN", "CLOSING", "CLOSED"].every((k) => k in Configured)).toBe(true);
  });
});

describe("opening", () => {
  it("is CONNECTING at once, OPEN at the open event, with the selected protocol and extensions", async () => {
    const server = await wsServer({ handleProtocols: () => "v2", perMessageDeflate: true });
    const ws = socket(`${server.url}/feed?x=1`, ["v1", "v2"]);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.protocol).toBe("");
    expect(ws.extensions).toBe("");
    const opened = await next(ws, "open");
    expect(opened.type).toBe("open");
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(ws.protocol).toBe("v2");
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    expect(server.requests[0]?.headers["sec-websocket-protocol"]).toBe("v1, v2");
    expect(ws.url).toBe(`${server.url}/feed?x=1`);
  });

  it("maps http: to ws: in url, and reports no extension when none was accepted", async () => {
    const server = await wsServer({ perMessageDeflate: false });
    const ws = socket(`http://127.0.0.1:${server.port}/`);
    expect(ws.url).toBe(`ws://127.0.0.1:${server.port}/`);
    await next(ws, "open");
    expect(ws.extensions).toBe("");
    expect(ws.protocol).toBe("");
  });

  it("takes a single protocol as a string", async () => {
    const server = await wsServer({ handleProtocols: (offered) => [...offered][0] ?? false });
    const ws = socket(server.url, "chat");
    await next(ws, "open");
    expect(ws.protocol).toBe("chat");
  });

  it("throws a SyntaxError DOMException for a bad URL, scheme, fragment or subprotocol list", () => {
    const cases: [string, string | string[] | undefined][] = [
      ["not a url", undefined],
      ["ftp://127.0.0.1/", undefined],
      ["ws://127.0.0.1/#fragment", undefined],
      ["ws://127.0.0.1/", ["chat", "chat"]],
      ["ws://127.0.0.1/", ["not a token"]],
      ["ws://127.0.0.1/", ""],
    ];
    for (const [url, protocols] of cases) {
      expect(domException(() => new WebSocket(url, protocols)).name, `${url} ${protocols}`).toBe(
        "SyntaxError",
      );
    }
  });

  it("throws a TypeError (not a DOMException) for invalid Tideway options", () => {
    expect(() => new WebSocket("ws://127.0.0.1/", [], { handshakeTimeout: -1 })).toThrow(TypeError);
    expect(() => new WebSocket("ws://127.0.0.1/", [], { handshakeTimeout: -1 })).not.toThrow(DOMException);
  });

  it("fails a refused connection with error (carrying the ConnectError) then close 1006", async () => {
    const ws = socket(await closedPortUrl());
    const log = record(ws);
    const error = await next(ws, "error");
    expect(error.error).toBeInstanceOf(ConnectError);
    expect(error.message).toMatch(/ECONNREFUSED/);
    const close = await next(ws, "close");
    expect([close.code, close.reason, close.wasClean]).toEqual([1006, "", false]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(log).toEqual(["error", "close 1006 false"]);
  });

  it("fails a refused upgrade (404) with error then close 1006, without retrying", async () => {
    const server = await rawServer((s) =>
      onUpgradeRequest(s, () => s.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")),
    );
    const ws = socket(server.url);
    const log = record(ws);
    const error = await next(ws, "error");
    expect(error.error).toBeInstanceOf(UnexpectedResponseError);
    await next(ws, "close");
    await sleep(50);
    expect(log).toEqual(["error", "close 1006 false"]);
    expect(server.sockets).toHaveLength(1);
  });
});

describe("receiving", () => {
  it("dispatches MessageEvents: text as strings, binary as Blob by default, with the origin", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (peer) => {
      peer.send("hello");
      peer.send(Buffer.from([1, 2, 3]));
    });
    const ws = socket(server.url);
    expect(ws.binaryType).toBe("blob");
    const events: MessageEvent[] = [];
    ws.addEventListener("message", (e) => events.push(e));
    await waitFor(() => events.length === 2);
    expect(events[0]).toBeInstanceOf(MessageEvent);
    expect(events[0]?.data).toBe("hello");
    expect(events[0]?.origin).toBe(`ws://127.0.0.1:${server.port}`);
    const blob = events[1]?.data as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it("delivers binary as exact ArrayBuffers with binaryType 'arraybuffer', and ignores unknown types", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    ws.binaryType = "arraybuffer";
    (ws as { binaryType: string }).binaryType = "nodebuffer";
    expect(ws.binaryType).toBe("arraybuffer");
    await next(ws, "open");
    ws.send(new Uint8Array([9, 8, 7, 6]).subarray(1, 3));
    const { data } = await next(ws, "message");
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(data as ArrayBuffer)]).toEqual([8, 7]);
  });

  it("delivers a large binary message as an ArrayBuffer of exactly its bytes", async () => {
    const server = await wsServer({ echo: false });
    const big = Buffer.alloc(300 * 1024, 7);
    big[0] = 1;
    big[big.length - 1] = 2;
    server.wss.on("connection", (peer) => peer.send(big));
    const ws = socket(server.url, [], { perMessageDeflate: false });
    ws.binaryType = "arraybuffer";
    const { data } = await next(ws, "message");
    expect(Buffer.from(data as ArrayBuffer).equals(big)).toBe(true);
  });

  it("drops messages that arrive once close() was called (readyState CLOSING)", async () => {
    const server = await rawServer((s) =>
      onUpgradeRequest(s, (key) => {
        s.write(switchingProtocols(key));
        // The client's close frame is the first thing it sends: answer with a message, then the close.
        s.once("data", () => {
          s.write(serverFrame(1, "late"));
          s.end(serverFrame(8, Buffer.from([0x03, 0xe8])));
        });
      }),
    );
    const ws = socket(server.url);
    const log = record(ws);
    await next(ws, "open");
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const close = await next(ws, "close");
    expect(close.code).toBe(1000);
    expect(log).not.toContain("message");
  });
});

describe("event handlers", () => {
  it("calls on* handlers with the socket as this, in the place they were first set, until set to null", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const calls: string[] = [];
    ws.addEventListener("message", () => calls.push("listener 1"));
    const first = function (this: WebSocket) {
      calls.push(`handler 1 ${this === ws}`);
    };
    ws.onmessage = first;
    ws.addEventListener("message", () => calls.push("listener 2"));
    expect(ws.onmessage).toBe(first);
    ws.onmessage = () => calls.push("handler 2"); // replaces in place
    await next(ws, "open");
    ws.send("a");
    await next(ws, "message");
    expect(calls).toEqual(["listener 1", "handler 2", "listener 2"]);
    calls.length = 0;
    ws.onmessage = null;
    expect(ws.onmessage).toBeNull();
    ws.send("b");
    await next(ws, "message");
    expect(calls).toEqual(["listener 1", "listener 2"]);
    calls.length = 0;
    ws.onmessage = first; // set again: now after the listeners
    ws.send("c");
    await next(ws, "message");
    expect(calls).toEqual(["listener 1", "listener 2", "handler 1 true"]);
  });

  it("treats a non-function handler as null, and ignores a null listener", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    (ws as { onopen: unknown }).onopen = "not a function";
    expect(ws.onopen).toBeNull();
    const warnings = vi.fn();
    process.on("warning", warnings);
    ws.addEventListener("open", null);
    ws.removeEventListener("open", null);
    let opened = 0;
    ws.onopen = () => opened++;
    await next(ws, "open");
    process.off("warning", warnings);
    expect(opened).toBe(1);
    expect(warnings).not.toHaveBeenCalled();
  });

  it("dispatches open, error and close to onopen, onerror and onclose", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const seen: string[] = [];
    ws.onopen = (e) => seen.push(e.type);
    ws.onclose = (e) => seen.push(`${e.type} ${e.code}`);
    await next(ws, "open");
    ws.close(4000);
    await next(ws, "close");
    const failing = socket(await closedPortUrl());
    failing.onerror = (e) => seen.push(e.type);
    failing.onclose = (e) => seen.push(`${e.type} ${e.code}`);
    expect([typeof failing.onerror, typeof failing.onclose, typeof ws.onopen]).toEqual([
      "function",
      "function",
      "function",
    ]);
    await next(failing, "close");
    expect(seen).toEqual(["open", "close 4000", "error", "close 1006"]);
  });
});

describe("sending", () => {
  it("throws an InvalidStateError DOMException while CONNECTING", () => {
    const ws = socket("ws://127.0.0.1:9/");
    expect(domException(() => ws.send("too early")).name).toBe("InvalidStateError");
  });

  it("sends strings as text and bytes as binary, a Blob in its turn among the others", async () => {
    const server = await wsServer({ echo: false });
    const received: [string, boolean][] = [];
    server.wss.on("connection", (peer) =>
      peer.on("message", (data, isBinary) => received.push([String(data), isBinary])),
    );
    const ws = socket(server.url);
    await next(ws, "open");
    ws.send(new Blob(["blob-1"]));
    ws.send("text-2");
    ws.send(new TextEncoder().encode("xview-3x").subarray(1, 7));
    ws.send(new TextEncoder().encode("buffer-4").buffer as ArrayBuffer);
    ws.send(new Blob(["blob-5"]));
    ws.send(6 as unknown as string); // WebIDL turns other values into strings
    await waitFor(() => received.length === 6);
    expect(received).toEqual([
      ["blob-1", true],
      ["text-2", false],
      ["view-3", true],
      ["buffer-4", true],
      ["blob-5", true],
      ["6", false],
    ]);
  });

  it("skips a Blob that cannot be read, and sends what follows it in order", async () => {
    const server = await wsServer({ echo: false });
    const received: string[] = [];
    server.wss.on("connection", (peer) => peer.on("message", (data) => received.push(String(data))));
    class UnreadableBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new Error("gone"));
      }
    }
    const ws = socket(server.url);
    await next(ws, "open");
    ws.send(new UnreadableBlob(["lost"]));
    ws.send("after");
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual("lost".length + "after".length);
    await waitFor(() => received.length === 1);
    await sleep(20);
    expect(received).toEqual(["after"]);
  });

  it("counts bytes not yet handed to the OS in bufferedAmount, down to 0 once written", async () => {
    const stalled: net.Socket[] = [];
    const server = await rawServer((s) =>
      onUpgradeRequest(s, (key) => {
        s.write(switchingProtocols(key));
        s.pause(); // reads nothing more: the client's writes pile up
        stalled.push(s);
      }),
    );
    const ws = socket(server.url, [], { perMessageDeflate: false });
    await next(ws, "open");
    expect(ws.bufferedAmount).toBe(0);
    const chunk = new Uint8Array(4 * 2 ** 20);
    for (let i = 0; i < 8; i++) ws.send(chunk);
    const buffered = ws.bufferedAmount;
    expect(buffered).toBeGreaterThan(0);
    expect(buffered).toBeLessThanOrEqual(8 * (chunk.byteLength + 14));
    for (const s of stalled) {
      s.on("data", () => {});
      s.resume();
    }
    await waitFor(() => ws.bufferedAmount === 0, 10_000, "bufferedAmount back to 0");
  });

  it("drops data sent once closing or closed, counting its UTF-8 bytes in bufferedAmount", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    await next(ws, "open");
    ws.close();
    ws.send("é"); // 2 bytes of UTF-8
    expect(ws.bufferedAmount).toBe(2);
    await next(ws, "close");
    ws.send(new Uint8Array(10));
    ws.send(new Blob(["abc"]));
    expect(ws.bufferedAmount).toBe(15);
    await sleep(20);
    expect(server.clients[0]?.readyState).toBe(3); // nothing reached the server after the close
  });
});

describe("closing", () => {
  it("runs the closing handshake with the code and reason given: CLOSING, then close, clean", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const log = record(ws);
    await next(ws, "open");
    const peer = server.clients[0];
    const serverSaw = new Promise<[number, string]>((resolve) =>
      peer?.on("close", (code, reason) => resolve([code, String(reason)])),
    );
    ws.close(4000, "bye");
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    ws.close(4001, "ignored"); // already closing: nothing
    const close = await next(ws, "close");
    expect(close).toBeInstanceOf(Event);
    expect([close.code, close.reason, close.wasClean]).toEqual([4000, "bye", true]);
    expect(await serverSaw).toEqual([4000, "bye"]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(log).toEqual(["open", "close 4000 true"]);
  });

  it("sends 1000 when close() has no code (browsers send no status)", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    await next(ws, "open");
    const serverSaw = new Promise<number>((resolve) => server.clients[0]?.on("close", resolve));
    ws.close();
    expect(await serverSaw).toBe(1000);
  });

  it("throws InvalidAccessError for codes other than 1000 and 3000-4999, SyntaxError for a reason over 123 bytes", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    await next(ws, "open");
    for (const code of [0, 999, 1001, 1005, 2999, 5000, 70_000]) {
      expect(domException(() => ws.close(code)).name, String(code)).toBe("InvalidAccessError");
    }
    expect(domException(() => ws.close(4000, "é".repeat(62))).name).toBe("SyntaxError");
    expect(domException(() => ws.close(undefined, "x".repeat(124))).name).toBe("SyntaxError");
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close(3000.4, "x".repeat(123)); // [Clamp]: 3000.4 is 3000
    const close = await next(ws, "close");
    expect(close.code).toBe(3000);
    // Checked even once closed, as the standard says.
    expect(domException(() => ws.close(1001)).name).toBe("InvalidAccessError");
  });

  it("fails the connection when close() comes while CONNECTING: error, then close 1006", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const log = record(ws);
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await next(ws, "close");
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(log).toEqual(["error", "close 1006 false"]);
  });

  it("reports the server's close code and reason, clean, without an error", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const log = record(ws);
    await next(ws, "open");
    server.clients[0]?.close(4001, "server bye");
    const close = await next(ws, "close");
    expect([close.code, close.reason, close.wasClean]).toEqual([4001, "server bye", true]);
    await sleep(20);
    expect(log).toEqual(["open", "close 4001 true"]);
  });

  it("reports a lost transport as close 1006, not clean, without an error (the connection was not failed)", async () => {
    const server = await wsServer();
    const ws = socket(server.url);
    const log = record(ws);
    await next(ws, "open");
    server.clients[0]?.terminate();
    await next(ws, "close");
    await sleep(20);
    expect(log).toEqual(["open", "close 1006 false"]);
  });

  it("reports a protocol violation as error (the ProtocolError), then close", async () => {
    const server = await rawServer((s) =>
      onUpgradeRequest(s, (key) => {
        s.write(switchingProtocols(key));
        setTimeout(() => s.write(serverFrame(3, "reserved opcode")), 20);
      }),
    );
    const ws = socket(server.url, [], { closeTimeout: 50 });
    const log = record(ws);
    const error = await next(ws, "error");
    expect(error.error).toBeInstanceOf(ProtocolError);
    const close = await next(ws, "close");
    expect(close.wasClean).toBe(false);
    expect(log).toEqual(["open", "error", `close ${close.code} false`]);
  });

  it("a protocol violation in the 101's own read fails the connection: error, then close, never open", async () => {
    const server = await rawServer((s) =>
      onUpgradeRequest(s, (key) => {
        s.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(3, "reserved opcode")]));
      }),
    );
    const ws = socket(server.url, [], { closeTimeout: 50 });
    const log = record(ws);
    const error = await next(ws, "error");
    expect(error.error).toBeInstanceOf(ProtocolError);
    const close = await next(ws, "close");
    expect(close.wasClean).toBe(false);
    expect(log).toEqual(["error", `close ${close.code} false`]);
  });
});

describe("webSocketClass", () => {
  it("makes sockets with the given options, which a third constructor argument extends", async () => {
    const server = await wsServer();
    const Configured = webSocketClass({ headers: { "X-Team": "blue", "X-Env": "test" }, heartbeat: false });
    const a = new Configured(server.url);
    const b = new Configured(server.url, [], { headers: { "X-Team": "red" } });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    expect(a).toBeInstanceOf(WebSocket);
    await Promise.all([next(a, "open"), next(b, "open")]);
    const headers = server.requests.map((r) => [r.headers["x-team"], r.headers["x-env"]]);
    expect(headers).toContainEqual(["blue", "test"]);
    expect(headers).toContainEqual(["red", undefined]);
  });
});

describe("reconnecting mode", () => {
  const fast: WebSocketOptions = { reconnect: { minTimeout: 10, maxTimeout: 20 } };

  it("reports each lost connection with close, then is CONNECTING and opens again, sending what waited", async () => {
    const server = await wsServer({ echo: false });
    const received: string[] = [];
    server.wss.on("connection", (peer) => peer.on("message", (data) => received.push(String(data))));
    const ws = socket(server.url, [], fast);
    const log = record(ws);
    ws.send("before the first open"); // reconnecting sockets queue instead of throwing
    await next(ws, "open");
    await waitFor(() => received.length === 1);
    let stateAtClose = -1;
    ws.addEventListener("close", () => (stateAtClose = ws.readyState));
    server.clients[0]?.terminate();
    await next(ws, "close");
    expect(stateAtClose).toBe(WebSocket.CLOSED);
    ws.send("while reconnecting");
    await next(ws, "open");
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await waitFor(() => received.length === 2);
    expect(received).toEqual(["before the first open", "while reconnecting"]);
    expect(log).toEqual(["open", "close 1006 false", "open"]);
    ws.close();
    await next(ws, "close");
    await sleep(50);
    expect(server.clients).toHaveLength(2);
    expect(log).toEqual(["open", "close 1006 false", "open", "close 1000 true"]);
  });

  it("stays closed after the server's normal close, as the client's policy says", async () => {
    const server = await wsServer();
    const ws = socket(server.url, [], fast);
    const log = record(ws);
    await next(ws, "open");
    server.clients[0]?.close(1000, "done");
    await next(ws, "close");
    await sleep(100);
    expect(log).toEqual(["open", "close 1000 true"]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(server.clients).toHaveLength(1);
    ws.send("after the end");
    expect(ws.bufferedAmount).toBe("after the end".length);
  });

  it("does not reconnect when close() is called from the close event's listener", async () => {
    const server = await wsServer();
    const ws = socket(server.url, [], fast);
    const log = record(ws);
    await next(ws, "open");
    ws.addEventListener("close", () => ws.close());
    server.clients[0]?.terminate();
    await next(ws, "close");
    await sleep(100);
    expect(log).toEqual(["open", "close 1006 false"]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(server.clients).toHaveLength(1);
  });

  it("dispatches an error per failed attempt and a final close 1006 when the client gives up", async () => {
    const ws = socket(await closedPortUrl(), [], {
      reconnect: { retries: 1, minTimeout: 10, maxTimeout: 10 },
    });
    const log = record(ws);
    await next(ws, "close");
    await sleep(50);
    expect(log).toEqual(["error", "error", "close 1006 false"]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    ws.send("after giving up");
    expect(ws.bufferedAmount).toBe("after giving up".length);
  });

  it("dispatches an error with the SendQueueFullError for a send over maxQueuedBytes while disconnected", async () => {
    // Retrying for as long as the test runs: a client that gave up would have dropped its queue.
    const reconnect = { minTimeout: 10, maxTimeout: 20, initialRetries: Number.POSITIVE_INFINITY };
    const ws = socket(await closedPortUrl(), [], { reconnect, maxQueuedBytes: 4 });
    const errors: unknown[] = [];
    ws.addEventListener("error", (e) => errors.push(e.error));
    ws.send("1234");
    ws.send("5");
    await waitFor(() => errors.some((e) => e instanceof SendQueueFullError));
    expect(ws.bufferedAmount).toBe(4);
  });

  it("stops for good on close() while reconnecting: error, then close 1006", async () => {
    const server = await wsServer();
    const ws = socket(server.url, [], { reconnect: { minTimeout: 200, maxTimeout: 200 } });
    await next(ws, "open");
    await server.close();
    await next(ws, "close");
    await waitFor(() => ws.readyState === WebSocket.CONNECTING);
    const log = record(ws);
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await next(ws, "close");
    await sleep(300);
    expect(log).toEqual(["error", "close 1006 false"]);
  });
});

describe("CloseEvent", () => {
  it("uses the runtime's CloseEvent where there is one", async () => {
    class RuntimeCloseEvent extends Event {
      readonly code: number;
      readonly reason: string;
      readonly wasClean: boolean;
      constructor(type: string, init: { code: number; reason: string; wasClean: boolean }) {
        super(type);
        ({ code: this.code, reason: this.reason, wasClean: this.wasClean } = init);
      }
    }
    vi.stubGlobal("CloseEvent", RuntimeCloseEvent);
    vi.resetModules();
    try {
      const fresh = await import("../src/websocket.js");
      const ws = new fresh.WebSocket(await closedPortUrl(), [], { heartbeat: false });
      const close = await new Promise<Event>((resolve) => ws.addEventListener("close", resolve));
      expect(close).toBeInstanceOf(RuntimeCloseEvent);
      expect((close as RuntimeCloseEvent).code).toBe(1006);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
