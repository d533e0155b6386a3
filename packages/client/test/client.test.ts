import { Buffer } from "node:buffer";
import type net from "node:net";
import { DEFAULT_MAX_ERROR_BODY, InvalidStateError, UnexpectedResponseError } from "@tideway/core";
import { afterEach, describe, expect, it } from "vitest";
import {
  AbortedError,
  type BinaryType,
  ConnectError,
  ConnectionClosedError,
  connect,
  DEFAULT_MAX_QUEUED_BYTES,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  ReadyState,
  SendQueueFullError,
  WebSocketClient,
  type WebSocketClientOptions,
} from "../src/index.js";
import {
  client,
  deadUrl,
  nextEvent,
  onCleanup,
  rawServer,
  take,
  useCleanups,
  within,
  wsServer,
} from "./helpers/harness.js";
import {
  makeCert,
  onUpgradeRequest,
  serverFrame,
  sleep,
  startWsServer,
  startWssServer,
  switchingProtocols,
  type WsTestServer,
  waitFor,
} from "./helpers/servers.js";

useCleanups();

describe("connecting", () => {
  it("emits connect, then open with the response, and resolves connect() with it", async () => {
    const server = await wsServer({ handleProtocols: () => "v2.feed" });
    const c = client(server.url, { protocols: ["v2.feed", "v1"] });
    const order: string[] = [];
    c.on("connect", () => order.push("connect"));
    c.on("open", (r) => order.push(`open ${r.status}`));
    expect(c.readyState).toBe(ReadyState.CONNECTING);
    const response = await c.connect();
    expect(order).toEqual(["connect", "open 101"]);
    expect(response.status).toBe(101);
    expect(response.protocol).toBe("v2.feed");
    expect(c.protocol).toBe("v2.feed");
    expect(c.readyState).toBe(ReadyState.OPEN);
    expect(await c.connect()).toBe(response); // already open: the same response at once
  });

  it("sends the user's headers, origin and subprotocols in the upgrade request", async () => {
    const server = await wsServer();
    const c = client(server.url, {
      headers: { Cookie: "sid=abc", "X-Other": "values" },
      protocols: ["a", "b"],
      origin: "https://app.example",
    });
    await c.connect();
    const req = server.requests[0];
    expect(req?.headers.cookie).toBe("sid=abc");
    expect(req?.headers["x-other"]).toBe("values");
    expect(req?.headers["sec-websocket-protocol"]).toBe("a, b");
    expect(req?.headers.origin).toBe("https://app.example");
  });

  it("connects to an IPv6 literal and maps http:// to ws://", async () => {
    const server = await wsServer({ host: "::1" });
    const c = client(`http://[::1]:${server.port}/path?q=1`);
    expect(c.url).toBe(`ws://[::1]:${server.port}/path?q=1`);
    await c.connect();
    expect(server.requests[0]?.url).toBe("/path?q=1");
    await c.send("v6");
    expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["v6"]);
  });

  it("throws TypeError at once for invalid URLs and options", () => {
    expect(() => new WebSocketClient("not a url")).toThrow(TypeError);
    expect(() => new WebSocketClient("ftp://127.0.0.1/")).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://127.0.0.1/#frag")).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://127.0.0.1/", { handshakeTimeout: -1 })).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://127.0.0.1/", { binaryType: "blob" as never })).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://127.0.0.1/", { headers: { "Sec-WebSocket-Key": "x" } })).toThrow(
      TypeError,
    );
    expect(() => new WebSocketClient("ws://127.0.0.1/", { lowWaterMark: 10, highWaterMark: 5 })).toThrow(
      TypeError,
    );
  });

  it("rejects with ConnectError (cause ECONNREFUSED) when nothing listens", async () => {
    const server = await rawServer(() => {});
    const url = server.url;
    await server.close();
    const c = client(url, { reconnect: false });
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe("WS_ERR_CONNECT");
    expect(((err as ConnectError).cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("rejects with ConnectError on a DNS failure", async () => {
    const c = client("ws://no-such-host.invalid:1234", { reconnect: false, handshakeTimeout: 5000 });
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(((err as ConnectError).cause as NodeJS.ErrnoException).code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it("rejects with UnexpectedResponseError carrying status, headers and body on a 404", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, () =>
        socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-Why: gone\r\n\r\nnot here!"),
      ),
    );
    // Default reconnect policy: a 404 is never retried, so connect() rejects at once.
    const c = new WebSocketClient(server.url, { heartbeat: false });
    onCleanup(() => c.terminate());
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnexpectedResponseError);
    const e = err as UnexpectedResponseError;
    expect(e.code).toBe("WS_ERR_UNEXPECTED_RESPONSE");
    expect(e.status).toBe(404);
    expect(e.headers["x-why"]).toBe("gone");
    expect(Buffer.from(e.body).toString()).toBe("not here!");
    expect(errors).toEqual([err]);
    expect(server.sockets.length).toBe(1);
  });

  it("retries a 500 and then succeeds, reporting reconnecting", async () => {
    let n = 0;
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        if (n++ === 0) socket.end("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
        else socket.write(switchingProtocols(key) + serverFrame(1, "second").toString("latin1"), "latin1");
      }),
    );
    const c = client(server.url);
    const retries: { attempt: number; error: unknown }[] = [];
    c.on("reconnecting", (r) => retries.push(r));
    await c.connect();
    expect(retries).toHaveLength(1);
    expect(retries[0]?.attempt).toBe(1);
    expect(retries[0]?.error).toMatchObject({ status: 500 });
    expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["second"]);
  });

  it("honours Retry-After on a 503", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, () =>
        socket.end("HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"),
      ),
    );
    const c = client(server.url);
    const retry = nextEvent(c, "reconnecting");
    const connecting = c.connect().catch((e: unknown) => e);
    expect((await retry).delay).toBeGreaterThanOrEqual(1000);
    await c.close();
    expect(await connecting).toBeInstanceOf(AbortedError);
  });

  it("bounds the whole handshake: a server that never answers times out", async () => {
    const server = await rawServer((socket) => socket.resume());
    const c = client(server.url, { reconnect: false, handshakeTimeout: 100 });
    const start = Date.now();
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeTimeoutError);
    expect((err as HandshakeTimeoutError).code).toBe("WS_ERR_HANDSHAKE_TIMEOUT");
    expect(Date.now() - start).toBeLessThan(1000);
    await waitFor(() => server.sockets[0]?.destroyed === true, 1000, "server socket closed");
  });

  it("bounds the whole handshake: a server trickling its 101 byte by byte times out", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        const bytes = Buffer.from(switchingProtocols(key));
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || i >= bytes.length) clearInterval(timer);
          else socket.write(bytes.subarray(i, ++i));
        }, 10);
      }),
    );
    const c = client(server.url, { reconnect: false, handshakeTimeout: 150 });
    await expect(c.connect()).rejects.toBeInstanceOf(HandshakeTimeoutError);
  });

  it("keeps the frames that arrive in the same packet as the 101", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) =>
        socket.write(
          Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "early"), serverFrame(2, "b")]),
        ),
      ),
    );
    const c = client(server.url);
    const order: string[] = [];
    c.on("open", () => order.push("open"));
    await c.connect();
    await sleep(20); // the loop starts late: nothing is lost
    const got = await take(c[Symbol.asyncIterator](), 2);
    expect(got[0]).toBe("early");
    expect(Buffer.from(got[1] as Uint8Array).toString()).toBe("b");
    expect(order).toEqual(["open"]);
  });

  it("aborts connecting with the signal and closes the client", async () => {
    const server = await rawServer(() => {});
    const ac = new AbortController();
    const c = client(server.url, { signal: ac.signal, handshakeTimeout: 5000 });
    const p = c.connect().catch((e: unknown) => e);
    await waitFor(() => server.sockets.length === 1, 1000, "TCP connection");
    ac.abort(new Error("user gave up"));
    const err = await p;
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).code).toBe("WS_ERR_ABORTED");
    await waitFor(() => c.readyState === ReadyState.CLOSED, 1000, "closed");
    await expect(c.send("x")).rejects.toThrow(/closed/);
    await expect(c.connect()).rejects.toBeInstanceOf(AbortedError);
  });

  it("never connects with an already aborted signal", async () => {
    const server = await wsServer();
    const c = client(server.url, { signal: AbortSignal.abort() });
    await expect(c.connect()).rejects.toBeInstanceOf(AbortedError);
    expect(c.readyState).toBe(ReadyState.CLOSED);
    await sleep(20);
    expect(server.requests).toHaveLength(0);
  });
});

describe("TLS", () => {
  const cert = makeCert();

  it("connects with SNI = host name and the user's CA, and echoes", async () => {
    const server = await startWssServer(cert);
    onCleanup(() => server.close());
    const c = client(server.url, { tls: { ca: cert.cert } });
    await c.connect();
    await c.send("secure");
    expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["secure"]);
    expect(server.servernames).toEqual(["localhost"]);
  });

  it("sends no SNI for an IP literal", async () => {
    const server = await startWssServer(cert);
    onCleanup(() => server.close());
    const c = client(`wss://127.0.0.1:${server.port}`, { tls: { ca: cert.cert } });
    await c.connect();
    expect(server.servernames).toEqual([false]);
  });

  it("rejects an untrusted certificate with ConnectError, without retrying", async () => {
    const server = await startWssServer(cert);
    onCleanup(() => server.close());
    const c = new WebSocketClient(server.url, { heartbeat: false }); // default policy
    onCleanup(() => c.terminate());
    const err = await c.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(((err as ConnectError).cause as { code: string }).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });
});

describe("messages", () => {
  it.each([0, 1, 125, 126, 65535, 65536, 2 ** 20])("echoes text and binary of %i bytes", async (size) => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    const text = "é".repeat(Math.floor(size / 2)) + "x".repeat(size % 2);
    const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
    await Promise.all([c.send(text), c.send(bytes)]);
    const [t, b] = await take(c[Symbol.asyncIterator](), 2);
    expect(t).toBe(text);
    expect(b).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(b as Uint8Array), Buffer.from(bytes))).toBe(0);
  });

  it("delivers binary per binaryType", async () => {
    const server = await wsServer();
    const kinds: Record<string, (v: unknown) => boolean> = {
      uint8array: (v) => v instanceof Uint8Array && !Buffer.isBuffer(v),
      arraybuffer: (v) => v instanceof ArrayBuffer && v.byteLength === 3,
      buffer: (v) => Buffer.isBuffer(v) && v.equals(Buffer.from([1, 2, 3])),
    };
    for (const [binaryType, check] of Object.entries(kinds)) {
      const c = client(server.url, { binaryType: binaryType as "buffer" });
      await c.connect();
      await c.send(new Uint16Array([0x0201, 0x03]).subarray(0, 1)); // an ArrayBufferView
      await c.send(new Uint8Array([1, 2, 3]).buffer); // an ArrayBuffer
      const [view, buf] = await take(c[Symbol.asyncIterator](), 2);
      expect((view as { byteLength: number }).byteLength).toBe(2);
      expect(check(buf)).toBe(true);
      await c.close();
    }
  });

  it("sends strings as binary and bytes as text on request", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url);
    await c.connect();
    const got = new Promise<[string, boolean][]>((resolve) => {
      const out: [string, boolean][] = [];
      server.clients[0]?.on("message", (d, isBinary) => {
        out.push([d.toString(), isBinary]);
        if (out.length === 2) resolve(out);
      });
    });
    await c.send("as binary", { binary: true });
    await c.send(Buffer.from("as text"), { binary: false });
    expect(await got).toEqual([
      ["as binary", true],
      ["as text", false],
    ]);
  });

  it("loses no message between connect() and the loop, and break does not close", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => {
      for (let i = 0; i < 5; i++) ws.send(`m${i}`);
    });
    const c = client(server.url);
    await c.connect();
    await sleep(30);
    const seen: unknown[] = [];
    for await (const m of c) {
      seen.push(m);
      if (seen.length === 2) break;
    }
    expect(c.readyState).toBe(ReadyState.OPEN);
    for await (const m of c) {
      seen.push(m);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  it("fails with 1009 when a message exceeds maxPayload, and does not retry", async () => {
    const server = await wsServer({ echo: false });
    // After the open: a frame in the 101's own read would fail connect() itself.
    server.wss.on("connection", (ws) => setTimeout(() => ws.send("x".repeat(2000)), 20));
    const serverSaw = new Promise<number>((resolve) =>
      server.wss.on("connection", (ws) => ws.on("close", resolve)),
    );
    const c = client(server.url, { maxPayload: 1000 });
    await c.connect();
    const err = await c[Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "WS_ERR_PAYLOAD_TOO_BIG", closeCode: 1009 });
    expect(await serverSaw).toBe(1009);
    expect(server.requests).toHaveLength(1);
  });

  it("a throwing listener does not break the connection; the error reaches 'error' listeners", async () => {
    const server = await wsServer();
    const c = client(server.url);
    const errors: unknown[] = [];
    const got: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    c.on("message", (m) => {
      got.push(m);
      if (m === "one") throw new Error("listener bug");
    });
    await c.connect();
    await c.send("one");
    await c.send("two");
    await waitFor(() => got.length === 2, 2000, "two messages");
    expect(got).toEqual(["one", "two"]);
    expect((errors[0] as Error).message).toBe("listener bug");
    expect(c.readyState).toBe(ReadyState.OPEN);
  });

  it("keeps memory bounded with a slow consumer: the server sees backpressure, nothing is lost", async () => {
    const server = await wsServer({ echo: false });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const count = 320; // 20 MiB
    server.wss.on("connection", (ws) => {
      for (let i = 0; i < count; i++) {
        chunk.writeUInt32BE(i, 0);
        ws.send(Buffer.from(chunk));
      }
    });
    const c = client(server.url, { highWaterMark: 256 * 1024 });
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    await take(it, 1);
    await sleep(200);
    // The client stopped reading: most of the 20 MiB still waits on the server side.
    const ws = server.clients[0];
    // (Without the pause the client drains 20 MiB from loopback in well under 200 ms.)
    expect(ws?.bufferedAmount).toBeGreaterThan(4 * 2 ** 20);
    const rest = await take(it, count - 1);
    expect(rest.map((m) => Buffer.from(m as Uint8Array).readUInt32BE(0))).toEqual(
      Array.from({ length: count - 1 }, (_, i) => i + 1),
    );
  });

  it("users who only listen to 'message' never stall", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => {
      for (let i = 0; i < 200; i++) ws.send(Buffer.alloc(16 * 1024, i));
    });
    const c = client(server.url, { highWaterMark: 32 * 1024 });
    let n = 0;
    c.on("message", () => n++);
    await c.connect();
    await waitFor(() => n === 200, 3000, "200 messages");
  });
});

describe("pause() and resume()", () => {
  it("paused, the client reads nothing (the server's sends back up) and emits no message; resume delivers all in order", async () => {
    const server = await wsServer({ echo: false });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const count = 320; // 20 MiB
    const c = client(server.url);
    const got: number[] = [];
    c.on("message", (m) => got.push(Buffer.from(m as Uint8Array).readUInt32BE(0)));
    await c.connect();
    c.pause();
    expect(c.isPaused).toBe(true);
    const ws = server.clients[0]!;
    for (let i = 0; i < count; i++) {
      chunk.writeUInt32BE(i, 0);
      ws.send(Buffer.from(chunk));
    }
    await sleep(200);
    expect(got).toEqual([]);
    // (Unpaused, the client drains 20 MiB from loopback in well under 200 ms.)
    expect(ws.bufferedAmount).toBeGreaterThan(4 * 2 ** 20);
    c.resume();
    expect(c.isPaused).toBe(false);
    await waitFor(() => got.length === count, 5000, "every message after resume()");
    expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(ws.bufferedAmount).toBe(0);
  });

  it("holds the rest of a read when a listener pauses, and a pause made in a listener stops the next event", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url);
    const got: string[] = [];
    c.on("message", (m) => {
      got.push(m as string);
      if (m === "2") c.pause();
    });
    await c.connect();
    // One write: the five messages arrive in one read, parsed together.
    const frames = ["1", "2", "3", "4", "5"].map((t) => serverFrame(0x1, t));
    (server.clients[0] as unknown as { _socket: net.Socket })._socket.write(Buffer.concat(frames));
    await waitFor(() => got.length === 2, 2000, "two messages");
    await sleep(50);
    expect(got).toEqual(["1", "2"]);
    c.resume();
    expect(got).toEqual(["1", "2"]); // not from inside resume()
    await waitFor(() => got.length === 5, 2000, "the held messages");
    expect(got).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("ends the iterator after the held messages, even when a listener pauses again on the last one", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url, { reconnect: false });
    const heard: string[] = [];
    c.on("message", (m) => {
      heard.push(m as string);
      if (m === "1" || m === "3") c.pause();
    });
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    // One read: three messages; "2" and "3" are held when the run ends.
    const frames = ["1", "2", "3"].map((t) => serverFrame(0x1, t));
    (server.clients[0] as unknown as { _socket: net.Socket })._socket.write(Buffer.concat(frames));
    await waitFor(() => heard.length === 1, 2000, "the first message");
    await sleep(50);
    c.terminate();
    expect(heard).toEqual(["1"]);
    c.resume();
    await waitFor(() => heard.length === 3, 2000, "the held messages");
    expect(await take(it, 3)).toEqual(["1", "2", "3"]);
    // Paused again by the last one: the end waits for resume().
    let end: IteratorResult<unknown> | undefined;
    void it.next().then((r) => {
      end = r;
    });
    await sleep(50);
    expect(end).toBeUndefined();
    c.resume();
    await waitFor(() => end !== undefined, 2000, "the end after resume()");
    expect(end).toEqual({ done: true, value: undefined });
  });

  it("composes with the iterator's backpressure and holds across a reconnect", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url, { highWaterMark: 1024, reconnect: { minTimeout: 20, maxTimeout: 20 } });
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    // The server restarts (1012 is retried); paused while waiting, the new connection starts paused.
    // (A connection paused while open reads nothing, so it would not see the close until resumed.)
    c.once("reconnecting", () => c.pause());
    const reopened = nextEvent(c, "open");
    server.clients[0]!.close(1012, "restart");
    await reopened;
    expect(c.isPaused).toBe(true);
    for (let i = 0; i < 20; i++) server.clients[1]!.send(`m${i}`.padEnd(200, "."));
    let next: IteratorResult<unknown> | undefined;
    void it.next().then((r) => {
      next = r;
    });
    await sleep(100);
    expect(next).toBeUndefined();
    c.resume();
    await waitFor(() => next !== undefined, 2000, "the pending next() after resume()");
    // 4000 bytes through a queue of highWaterMark 1024: the queue pauses and resumes reading too.
    const rest = await within(take(it, 19), 3000, "the other 19");
    expect([next?.value, ...rest].map((m) => (m as string).split(".")[0])).toEqual(
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
  });
});

describe("sending", () => {
  it("queues sends made before connect() and flushes them in order after onOpen's", async () => {
    const server = await wsServer({ echo: false });
    const received: string[] = [];
    server.wss.on("connection", (ws) => ws.on("message", (d) => received.push(d.toString())));
    const c = client(server.url, {
      onOpen: async (cl) => {
        await sleep(10);
        await cl.send("auth");
      },
    });
    const sends = [c.send("a"), c.send("b")];
    expect(c.bufferedAmount).toBe(2);
    await c.connect();
    await Promise.all(sends);
    await waitFor(() => received.length === 3, 2000, "3 messages");
    expect(received).toEqual(["auth", "a", "b"]);
  });

  it("rejects a send that does not fit in maxQueuedBytes, and drops nothing else", async () => {
    const server = await wsServer({ echo: false });
    const c = client(server.url, { maxQueuedBytes: 10 });
    const ok = c.send("12345678");
    const err = await c.send("abc").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SendQueueFullError);
    expect((err as SendQueueFullError).code).toBe("WS_ERR_SEND_QUEUE_FULL");
    await c.connect();
    await ok;
  });

  it("rejects queued sends when the client is closed before connecting", async () => {
    const c = client("ws://127.0.0.1:9");
    const p = c.send("never");
    await c.close();
    await expect(p).rejects.toThrow(/closed/);
  });

  it("rejects queued sends with the final error when reconnecting gives up", async () => {
    const dead = await rawServer(() => {});
    const url = dead.url;
    await dead.close();
    const c = client(url, { reconnect: { retries: 2, minTimeout: 5, maxTimeout: 10 } });
    const retries: number[] = [];
    c.on("reconnecting", (r) => retries.push(r.attempt));
    const sent = c.send("lost?").catch((e: unknown) => e);
    const connecting = c.connect().catch((e: unknown) => e);
    const err = await sent;
    expect(err).toBeInstanceOf(ConnectError);
    expect(await connecting).toBe(err);
    expect(retries).toEqual([1, 2]);
    const iterated = await c[Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(iterated).toBe(err);
  });

  it("resolves many sends in flight", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    await Promise.all(Array.from({ length: 100 }, (_, i) => c.send(`n${i}`)));
    const got = await take(c[Symbol.asyncIterator](), 100);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`));
  });

  it("measures ping() round trip and latency", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await expect(c.ping()).rejects.toThrow(/not open/);
    await c.connect();
    const rtt = await c.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(c.latency).toBe(rtt);
  });

  it("ping(data) sends the payload, the server's pong to it is reported, and pong(data) reaches the server", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    const ws = server.clients[0]!;
    const seenPings: string[] = [];
    const seenPongs: string[] = [];
    ws.on("ping", (data) => seenPings.push(data.toString()));
    ws.on("pong", (data) => seenPongs.push(data.toString()));
    const pongs: string[] = [];
    c.on("pong", (data) => pongs.push(Buffer.from(data).toString()));
    const rtt = await c.ping("hello");
    expect(rtt).toBeGreaterThanOrEqual(0);
    await c.ping(Uint8Array.of(0x62, 0x79, 0x74, 0x65, 0x73));
    expect(seenPings).toEqual(["hello", "bytes"]);
    expect(pongs).toEqual(["hello", "bytes"]);
    c.pong("unsolicited");
    c.pong();
    await waitFor(() => seenPongs.length === 2, 2000, "the two pongs");
    expect(seenPongs).toEqual(["unsolicited", ""]);
  });

  it("ping(data) and pong(data) refuse payloads over 125 bytes at once, and pong() needs an open client", async () => {
    const server = await wsServer();
    const c = client(server.url);
    expect(() => c.pong("x")).toThrow(/not open/);
    await c.connect();
    expect(() => c.ping("x".repeat(126))).toThrow(RangeError);
    expect(() => c.pong(new Uint8Array(126))).toThrow(/at most 125 bytes/);
    expect(await c.ping("é".repeat(62))).toBeGreaterThanOrEqual(0); // 124 bytes of UTF-8
  });
});

describe("closing", () => {
  it("close() runs the close handshake with code and reason", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    const serverSaw = new Promise<[number, string]>((resolve) =>
      server.clients[0]?.on("close", (code, reason) => resolve([code, reason.toString()])),
    );
    const closeEvent = nextEvent(c, "close");
    await c.close(4001, "bye");
    expect(await serverSaw).toEqual([4001, "bye"]);
    expect(await closeEvent).toMatchObject({ code: 4001, wasClean: true, initiatedByUser: true });
    expect(c.readyState).toBe(ReadyState.CLOSED);
    await c.close(); // a closed client resolves at once
    await expect(c.send("late")).rejects.toThrow(/closed/);
  });

  it("close() throws RangeError synchronously for bad codes and long reasons", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    expect(() => c.close(1005)).toThrow(RangeError);
    expect(() => c.close(2000)).toThrow(RangeError);
    expect(() => c.close(1000, "x".repeat(124))).toThrow(RangeError);
    expect(c.readyState).toBe(ReadyState.OPEN);
  });

  it("close() destroys after closeTimeout when the server never closes TCP", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))),
    );
    const c = client(server.url, { closeTimeout: 100 });
    await c.connect();
    const start = Date.now();
    await c.close();
    expect(Date.now() - start).toBeLessThan(1000);
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("terminate() destroys at once; the server sees 1006", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    const serverSaw = new Promise<number>((resolve) =>
      server.clients[0]?.on("close", (code) => resolve(code)),
    );
    c.terminate();
    expect(c.readyState).toBe(ReadyState.CLOSED);
    expect(await serverSaw).toBe(1006);
  });

  it("ends the iterator cleanly when the server closes with 1000, and reports the code", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => {
      ws.send("last");
      ws.close(1000, "done");
    });
    const c = new WebSocketClient(server.url, { heartbeat: false });
    onCleanup(() => c.terminate());
    const closeEvent = nextEvent(c, "close");
    await c.connect();
    const got: unknown[] = [];
    for await (const m of c) got.push(m);
    expect(got).toEqual(["last"]);
    expect(await closeEvent).toMatchObject({ code: 1000, reason: "done", wasClean: true });
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("throws from the iterator when the server closes with a code the policy does not retry", async () => {
    const server = await wsServer({ echo: false });
    server.wss.on("connection", (ws) => ws.close(4000, "go away"));
    const c = new WebSocketClient(server.url, { heartbeat: false });
    onCleanup(() => c.terminate());
    await c.connect();
    const err = await (async () => {
      for await (const _ of c) {
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as ConnectionClosedError).closeCode).toBe(4000);
    expect((err as ConnectionClosedError).reason).toBe("go away");
  });

  it("await using closes the client at the end of the scope", async () => {
    const server = await wsServer();
    let outer: WebSocketClient | undefined;
    {
      await using c = await connect(server.url, { heartbeat: false });
      outer = c;
      expect(c.readyState).toBe(ReadyState.OPEN);
    }
    expect(outer.readyState).toBe(ReadyState.CLOSED);
  });
});

describe("reconnecting", () => {
  it("reconnects after the server dies mid-message, resumes the iterator and flushes the queue (onOpen first)", async () => {
    const received: string[][] = [[], []];
    const server = await rawServer((socket, index) =>
      onUpgradeRequest(socket, (key) => {
        if (index === 0) {
          socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "before")]));
          // Half a frame, then the server dies.
          setTimeout(() => {
            socket.write(serverFrame(2, Buffer.alloc(1000)).subarray(0, 100));
            setTimeout(() => socket.destroy(), 20);
          }, 20);
        } else {
          socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), serverFrame(1, "after")]));
          socket.on("data", (d: Buffer) => received[1]?.push(d.toString("hex")));
        }
      }),
    );
    const opened: number[] = [];
    const c = client(server.url, {
      onOpen: (cl) => {
        opened.push(Date.now());
        if (opened.length === 2) void cl.send("hello-again");
      },
    });
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    const reconnecting = nextEvent(c, "reconnecting");
    let queued: Promise<void> | undefined;
    c.once("close", () => {
      queued = c.send("queued"); // while reconnecting: queued, sent after onOpen's message
    });
    await c.connect();
    const it = c[Symbol.asyncIterator]();
    expect(await take(it, 2)).toEqual(["before", "after"]);
    await reconnecting;
    expect(errors[0]).toBeInstanceOf(ConnectionClosedError);
    expect((errors[0] as ConnectionClosedError).closeCode).toBe(1006);
    expect(opened).toHaveLength(2);
    await queued;
    // Decode the two masked frames the server received on the second connection.
    await waitFor(() => received[1]?.join("").length !== 0, 1000, "frames");
    const bytes = Buffer.from(received[1]?.join("") ?? "", "hex");
    const texts: string[] = [];
    for (let off = 0; off < bytes.length; ) {
      const len = (bytes[off + 1] ?? 0) & 0x7f;
      const mask = bytes.subarray(off + 2, off + 6);
      const payload = Buffer.from(bytes.subarray(off + 6, off + 6 + len)).map(
        (b, i) => b ^ (mask[i % 4] ?? 0),
      );
      texts.push(Buffer.from(payload).toString());
      off += 6 + len;
    }
    expect(texts).toEqual(["hello-again", "queued"]);
  });

  it("detects a silent peer with the heartbeat and reconnects", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))),
    );
    const c = new WebSocketClient(server.url, {
      heartbeat: { interval: 30, timeout: 50 },
      reconnect: { minTimeout: 10, maxTimeout: 20 },
      closeTimeout: 100,
    });
    onCleanup(() => c.terminate());
    const error = nextEvent(c, "error");
    await c.connect();
    const err = await error;
    expect(err).toBeInstanceOf(HeartbeatTimeoutError);
    expect((err as HeartbeatTimeoutError).code).toBe("WS_ERR_HEARTBEAT_TIMEOUT");
    await waitFor(() => server.sockets.length >= 2, 2000, "a second connection");
  });

  it("with reconnect: false a heartbeat timeout ends the iterator with the error", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))),
    );
    const c = client(server.url, {
      heartbeat: { interval: 20, timeout: 40 },
      reconnect: false,
      closeTimeout: 50,
    });
    c.on("error", () => {});
    await c.connect();
    const err = await (async () => {
      for await (const _ of c) {
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeartbeatTimeoutError);
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("reconnect(delay) forces a new connection, emitting open again", async () => {
    const server = await wsServer();
    const c = client(server.url, { reconnect: false });
    let opens = 0;
    c.on("open", () => opens++);
    await c.connect();
    const start = Date.now();
    c.reconnect(50);
    await waitFor(() => opens === 2, 2000, "second open");
    expect(Date.now() - start).toBeGreaterThanOrEqual(45);
    expect(server.requests).toHaveLength(2);
    await c.send("still works");
    expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["still works"]);
  });

  it("does not reconnect after the user's close()", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    await c.close();
    await sleep(50);
    expect(server.requests).toHaveLength(1);
  });

  it("leaves nothing keeping the process alive after close() or terminate()", async () => {
    const server = await wsServer();
    const refs = () =>
      process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "Timeout").length;
    const before = refs();
    // Heartbeat and reconnect on (the defaults): their timers must not outlive the client.
    const a = new WebSocketClient(server.url, { heartbeat: { interval: 20, timeout: 1000 } });
    await a.connect();
    await a.ping();
    await a.close();
    await waitFor(() => refs() === before, 2000, "resources released after close()");
    // terminate() in the middle of a reconnect backoff.
    const dead = await rawServer(() => {});
    const url = dead.url;
    await dead.close();
    const b = new WebSocketClient(url, { reconnect: { minTimeout: 10_000, maxTimeout: 10_000 } });
    const retrying = nextEvent(b, "reconnecting");
    const connecting = b.connect().catch((e: unknown) => e);
    await retrying;
    b.terminate();
    expect(await connecting).toBeInstanceOf(AbortedError);
    await waitFor(() => refs() === before, 2000, "resources released after terminate()");
  });
});

// The in-flight abort controller exists only while connecting, connect() promises are made on demand,
// the handshake key comes from a pooled block, the pending-write set is made on the first send.
describe("what a client holds", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function server(): Promise<WsTestServer> {
    const s = await startWsServer();
    cleanups.push(() => s.close());
    return s;
  }

  function client<B extends BinaryType = "uint8array">(
    url: string,
    o: WebSocketClientOptions<B> = {},
  ): WebSocketClient<B> {
    const c = new WebSocketClient(url, { heartbeat: false, reconnect: false, ...o });
    cleanups.push(() => c.terminate());
    return c;
  }

  describe("lean client state", () => {
    it("gives every connection a distinct, well-formed handshake key", async () => {
      const s = await server();
      const keys: string[] = [];
      for (let i = 0; i < 20; i++) {
        const c = client(s.url);
        await c.connect();
        await c.close();
      }
      for (const req of s.requests) keys.push(String(req.headers["sec-websocket-key"]));
      expect(keys).toHaveLength(20);
      expect(new Set(keys).size).toBe(20);
      for (const key of keys) expect(Buffer.from(key, "base64")).toHaveLength(16);
    });

    it("closes right after connect() resolves, and connects again after that", async () => {
      const s = await server();
      const c = client(s.url);
      await c.connect();
      await c.close(); // the in-flight controller is gone: nothing to abort, the close handshake runs
      expect(c.readyState).toBe(ReadyState.CLOSED);
      await c.connect(); // a restart gets a fresh stop flag
      const echoed = new Promise((resolve) => c.once("message", resolve));
      await c.send("again");
      expect(await echoed).toBe("again");
      await c.close();
    });

    it("rejects every pending connect() with an AbortedError when closed while connecting", async () => {
      const s = await server();
      const c = client(s.url);
      const first = c.connect();
      const second = c.connect();
      expect(second).toBe(first); // one promise per connecting phase, shared
      const closed = c.close();
      await expect(first).rejects.toBeInstanceOf(AbortedError);
      await closed;
    });

    it("cuts a reconnect wait with close(): the wait's signal is the lazily made one", async () => {
      const s = await server();
      const c = client(s.url, { reconnect: { minTimeout: 5_000, maxTimeout: 5_000 } });
      await c.connect();
      c.reconnect(5_000); // a forced reconnect that would wait 5 s
      const t0 = Date.now();
      await c.close();
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(c.readyState).toBe(ReadyState.CLOSED);
    });

    it("resolves sends made before and after the first one on an idle connection", async () => {
      const s = await server();
      const c = client(s.url);
      await c.connect();
      const got: unknown[] = [];
      c.on("message", (m) => got.push(m));
      await Promise.all([c.send("a"), c.send("b")]);
      await c.send("c");
      await new Promise<void>((resolve) => {
        const check = () => (got.length === 3 ? resolve() : setTimeout(check, 5));
        check();
      });
      expect(got).toEqual(["a", "b", "c"]);
    });
  });
});

// Invalid close codes and reasons over 123 bytes throw at once in any state; close() on a closed or
// never-connected client; concurrent close() calls; close() and terminate() during the handshake; `await
// using`.
describe("closing: arguments and states", () => {
  describe("close() arguments", () => {
    it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 1000.5, Number.NaN])(
      "close(%s) throws RangeError synchronously",
      async (code) => {
        const server = await wsServer();
        const c = client(server.url);
        await c.connect();
        expect(() => c.close(code)).toThrow(RangeError);
        expect(c.readyState).toBe(ReadyState.OPEN);
      },
    );

    it.each([1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999])("close(%i) is accepted", async (code) => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      const serverSaw = new Promise<number>((resolve) => server.clients[0]?.on("close", (c) => resolve(c)));
      await c.close(code);
      expect(await serverSaw).toBe(code);
    });

    it("measures the reason in UTF-8 bytes: 123 bytes pass, 124 throw", async () => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      expect(() => c.close(1000, "é".repeat(62))).toThrow(RangeError); // 62 characters, 124 bytes
      const reason = `${"é".repeat(61)}a`; // 123 bytes
      const serverSaw = new Promise<string>((resolve) =>
        server.clients[0]?.on("close", (_, r) => resolve(r.toString())),
      );
      await c.close(1000, reason);
      expect(await serverSaw).toBe(reason);
    });

    it("throws RangeError on a client that never connected too", () => {
      const c = client("ws://127.0.0.1:9/");
      expect(() => c.close(1006)).toThrow(RangeError);
      expect(() => c.close(1000, "x".repeat(124))).toThrow(RangeError);
    });
  });

  describe("close() timing and states", () => {
    it("on a closed client resolves at once, even when the first close waited closeTimeout", async () => {
      const server = await rawServer(
        (socket) => onUpgradeRequest(socket, (key) => socket.write(switchingProtocols(key))), // never closes TCP
      );
      const c = client(server.url, { closeTimeout: 300 });
      await c.connect();
      let start = Date.now();
      await c.close();
      expect(Date.now() - start).toBeGreaterThanOrEqual(250);
      start = Date.now();
      await c.close();
      expect(Date.now() - start).toBeLessThan(20);
    });

    it("on a client that never connected resolves at once", async () => {
      const c = client("ws://127.0.0.1:9/");
      const start = Date.now();
      await c.close();
      expect(Date.now() - start).toBeLessThan(20);
      expect(c.readyState).toBe(ReadyState.CLOSED);
    });

    it("concurrent close() calls settle together, and one close frame is sent", async () => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      let closes = 0;
      c.on("close", () => closes++);
      await Promise.all([c.close(4000, "a"), c.close(4001, "b"), c.close()]);
      expect(c.readyState).toBe(ReadyState.CLOSED);
      expect(closes).toBe(1);
    });

    it("close() during the handshake rejects connect() with AbortedError", async () => {
      const server = await rawServer((socket) => socket.resume()); // never answers
      const c = client(server.url, { handshakeTimeout: 5000 });
      const connecting = c.connect().catch((e: unknown) => e);
      c.once("connect", () => void c.close());
      expect(await connecting).toBeInstanceOf(AbortedError);
      expect(c.readyState).toBe(ReadyState.CLOSED);
    });

    it("while closing, connect() and reconnect() are refused with InvalidStateError naming the operation", async () => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      const closing = c.close();
      await expect(c.connect()).rejects.toThrow(
        new InvalidStateError("cannot connect: the client is closing"),
      );
      expect(() => c.reconnect()).toThrow(new InvalidStateError("cannot reconnect: the client is closing"));
      await closing;
    });

    it("after the signal aborted, reconnect() is refused", async () => {
      const c = client("ws://127.0.0.1:9/", { signal: AbortSignal.abort() });
      expect(() => c.reconnect()).toThrow(
        new InvalidStateError("cannot reconnect: the client is closed by its signal"),
      );
    });

    it("close() before the handshake ends rejects connect() with an AbortedError whose cause says why", async () => {
      const server = await rawServer((socket) => socket.resume()); // never answers
      const c = client(server.url, { handshakeTimeout: 5000 });
      const connecting = c.connect().catch((e: unknown) => e);
      c.terminate();
      const err = await connecting;
      expect(err).toBeInstanceOf(AbortedError);
      expect((err as AbortedError).cause).toEqual(
        new InvalidStateError("cannot connect: the client is closed"),
      );
    });

    it("terminate() during the handshake rejects connect() at once", async () => {
      const server = await rawServer((socket) => socket.resume());
      const c = client(server.url, { handshakeTimeout: 5000 });
      const connecting = c.connect().catch((e: unknown) => e);
      await new Promise<void>((resolve) => c.once("connect", () => resolve()));
      const start = Date.now();
      c.terminate();
      expect(await connecting).toBeInstanceOf(AbortedError);
      expect(Date.now() - start).toBeLessThan(200);
    });

    it("await using on connect() closes with 1000 at the end of the scope", async () => {
      const server = await wsServer();
      const serverSaw = new Promise<number>((resolve) =>
        server.wss.on("connection", (ws) => ws.on("close", (code) => resolve(code))),
      );
      {
        await using c = await connect(server.url, { heartbeat: false });
        await c.send("in scope");
      }
      expect(await serverSaw).toBe(1000);
    });
  });
});

// https:// as wss://, host names and the Host header, URL credentials, handshakeTimeout over TLS,
// bounded non-101 bodies, the 101 packet split anywhere, the signal closing an open client.
describe("connecting: URLs, failures, the 101's own bytes, the signal", () => {
  describe("URLs and hosts", () => {
    const cert = makeCert();

    it("maps https:// to wss:// and connects over TLS with SNI from the host name", async () => {
      const server = await startWssServer(cert);
      onCleanup(() => server.close());
      const c = client(`https://localhost:${server.port}/feed`, { tls: { ca: cert.cert } });
      expect(c.url).toBe(`wss://localhost:${server.port}/feed`);
      await c.connect();
      await c.send("over tls");
      expect(await take(c[Symbol.asyncIterator](), 1)).toEqual(["over tls"]);
      expect(server.servernames).toEqual(["localhost"]);
      expect(server.requests[0]?.url).toBe("/feed");
    });

    it("resolves a host name and sends Host with the non-default port", async () => {
      const server = await wsServer();
      const c = client(`ws://localhost:${server.port}/`);
      await c.connect();
      expect(server.requests[0]?.headers.host).toBe(`localhost:${server.port}`);
    });

    it("sends Host with brackets for an IPv6 literal", async () => {
      const server = await wsServer({ host: "::1" });
      const c = client(`ws://[::1]:${server.port}/`);
      await c.connect();
      expect(server.requests[0]?.headers.host).toBe(`[::1]:${server.port}`);
      expect(server.requests[0]?.socket.remoteAddress).toBe("::1");
    });

    it("turns URL credentials into a Basic Authorization header", async () => {
      const server = await wsServer();
      const c = client(`ws://alice:s%3Acret@127.0.0.1:${server.port}/`);
      await c.connect();
      expect(server.requests[0]?.headers.authorization).toBe(
        `Basic ${Buffer.from("alice:s:cret").toString("base64")}`,
      );
    });
  });

  describe("connect() failures", () => {
    it("handshakeTimeout bounds a TLS handshake the server never answers", async () => {
      const server = await rawServer((socket) => socket.resume()); // TCP accepted, no TLS ever
      const c = client(`wss://127.0.0.1:${server.port}/`, { reconnect: false, handshakeTimeout: 150 });
      const start = Date.now();
      await expect(c.connect()).rejects.toBeInstanceOf(HandshakeTimeoutError);
      expect(Date.now() - start).toBeLessThan(1500);
    });

    it("a 500 with a body rejects at once, even if the server keeps the connection open", async () => {
      const body = "internal error: the database is on fire";
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, () =>
          socket.write(`HTTP/1.1 500 Internal Server Error\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
        ),
      );
      const c = client(server.url, { reconnect: false, handshakeTimeout: 5000 });
      c.on("error", () => {});
      const start = Date.now();
      const err = await c.connect().catch((e: unknown) => e);
      expect(Date.now() - start).toBeLessThan(2000);
      expect(err).toBeInstanceOf(UnexpectedResponseError);
      expect((err as UnexpectedResponseError).status).toBe(500);
      expect(Buffer.from((err as UnexpectedResponseError).body).toString()).toBe(body);
    });

    it("keeps a bounded part of a huge error body", async () => {
      const body = Buffer.alloc(1024 * 1024, "x");
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, () => {
          socket.write(`HTTP/1.1 404 Not Found\r\nContent-Length: ${body.length}\r\n\r\n`);
          socket.write(body);
        }),
      );
      const c = client(server.url, { handshakeTimeout: 5000 });
      c.on("error", () => {});
      const err = (await c.connect().catch((e: unknown) => e)) as UnexpectedResponseError;
      expect(err).toBeInstanceOf(UnexpectedResponseError);
      expect(err.body.byteLength).toBeGreaterThan(0);
      expect(err.body.byteLength).toBeLessThanOrEqual(DEFAULT_MAX_ERROR_BODY);
    });

    it("the connect() helper rejects and leaves the client closed", async () => {
      const url = await deadUrl();
      const err = await connect(url, { reconnect: false, heartbeat: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
    });
  });

  describe("bytes that arrive with the 101", () => {
    it("a frame split between the 101 packet and the next packet is assembled", async () => {
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          const frame = serverFrame(1, "split across packets");
          socket.write(Buffer.concat([Buffer.from(switchingProtocols(key)), frame.subarray(0, 5)]));
          setTimeout(() => socket.write(frame.subarray(5)), 30);
        }),
      );
      const c = client(server.url);
      await c.connect();
      expect(await within(take(c[Symbol.asyncIterator](), 1), 2000, "the message")).toEqual([
        "split across packets",
      ]);
    });

    it("the 101 and two frames trickled one byte per packet: nothing lost, in order", async () => {
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          const all = Buffer.concat([
            Buffer.from(switchingProtocols(key)),
            serverFrame(1, "first"),
            serverFrame(2, Buffer.from([1, 2, 3])),
          ]);
          socket.setNoDelay(true);
          let i = 0;
          const next = () => {
            if (socket.destroyed || i >= all.length) return;
            socket.write(all.subarray(i, ++i), () => setImmediate(next));
          };
          next();
        }),
      );
      const c = client(server.url, { handshakeTimeout: 5000 });
      await c.connect();
      const got = await within(take(c[Symbol.asyncIterator](), 2), 3000, "two messages");
      expect(got[0]).toBe("first");
      expect(Array.from(got[1] as Uint8Array)).toEqual([1, 2, 3]);
    });

    it("a message and a close frame inside the 101 packet: connect() resolves, the loop gets the message, then ends", async () => {
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(
            Buffer.concat([
              Buffer.from(switchingProtocols(key)),
              serverFrame(1, "hello and goodbye"),
              serverFrame(0x8, Buffer.from([0x03, 0xe8])),
            ]),
          );
          socket.once("data", () => socket.end());
        }),
      );
      const c = client(server.url);
      const response = await c.connect();
      expect(response.status).toBe(101);
      const got: unknown[] = [];
      await within(
        (async () => {
          for await (const m of c) got.push(m);
        })(),
        2000,
        "the iterator to end",
      );
      expect(got).toEqual(["hello and goodbye"]);
    });
  });

  describe("signal", () => {
    it("aborting an open client closes it with 1000 and ends the iterator", async () => {
      const server = await wsServer({ echo: false });
      const ac = new AbortController();
      const c = client(server.url, { signal: ac.signal });
      await c.connect();
      const serverSaw = new Promise<number>((resolve) =>
        server.clients[0]?.on("close", (code) => resolve(code)),
      );
      const closed = nextEvent(c, "close");
      const it = c[Symbol.asyncIterator]();
      const pending = it.next();
      ac.abort(new Error("shutting down"));
      expect(await within(serverSaw, 2000, "the server's close")).toBe(1000);
      expect(await closed).toMatchObject({ code: 1000, initiatedByUser: true });
      expect(await pending).toEqual({ done: true, value: undefined });
      await expect(c.connect()).rejects.toBeInstanceOf(AbortedError);
      expect(() => c.reconnect(0)).toThrow();
    });
  });
});

// bufferedAmount in bytes, maxQueuedBytes at its edge, a fresh mask per frame, send() rejecting when the
// connection dies, invalid UTF-8 failing with 1007, the iterator ending on close, a listener and a loop
// together.
describe("sending and receiving: buffered bytes, queue limits, masks, UTF-8", () => {
  /** Parses masked client frames (7-bit and 16-bit lengths) out of `bytes`. */
  function clientFrames(bytes: Buffer): { opcode: number; mask: Buffer; payload: Buffer }[] {
    const out: { opcode: number; mask: Buffer; payload: Buffer }[] = [];
    let off = 0;
    while (off + 2 <= bytes.length) {
      let len = (bytes[off + 1] ?? 0) & 0x7f;
      let head = 2;
      if (len === 126) {
        len = bytes.readUInt16BE(off + 2);
        head = 4;
      }
      if (off + head + 4 + len > bytes.length) break;
      const mask = bytes.subarray(off + head, off + head + 4);
      const payload = Buffer.from(bytes.subarray(off + head + 4, off + head + 4 + len)).map(
        (b, i) => b ^ (mask[i % 4] ?? 0),
      );
      out.push({ opcode: (bytes[off] ?? 0) & 0x0f, mask: Buffer.from(mask), payload: Buffer.from(payload) });
      off += head + 4 + len;
    }
    return out;
  }

  /** A server that accepts the upgrade and then never reads: the client's writes pile up. */
  async function stalledServer() {
    let serverSocket: net.Socket | undefined;
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        serverSocket = socket;
        socket.write(switchingProtocols(key));
        socket.pause();
      }),
    );
    return { server, serverSocket: () => serverSocket };
  }

  describe("bufferedAmount", () => {
    it("counts queued sends in bytes (UTF-8 for text) and drops to 0 once they are flushed", async () => {
      const server = await wsServer({ echo: false });
      const c = client(server.url);
      const sends = [c.send("é€"), c.send(new Uint8Array(10)), c.send(new ArrayBuffer(3))];
      expect(c.bufferedAmount).toBe(2 + 3 + 10 + 3);
      await c.connect();
      await Promise.all(sends);
      await waitFor(() => c.bufferedAmount === 0, 1000, "bufferedAmount 0");
    });

    it("counts bytes the socket has not handed to the OS while the server does not read", async () => {
      const { server, serverSocket } = await stalledServer();
      const c = client(server.url);
      await c.connect();
      const sent = c.send(new Uint8Array(16 * 2 ** 20));
      let settled = false;
      void sent.then(() => {
        settled = true;
      });
      await waitFor(() => c.bufferedAmount > 0, 1000, "bytes in the socket buffer");
      expect(c.bufferedAmount).toBeLessThanOrEqual(16 * 2 ** 20 + 14);
      expect(settled).toBe(false); // not handed to the OS yet
      serverSocket()?.resume();
      await within(sent, 5000, "the send once the server reads");
      await waitFor(() => c.bufferedAmount === 0, 2000, "bufferedAmount 0");
    });
  });

  describe("maxQueuedBytes", () => {
    it("a send that exactly fills the queue fits; one more byte rejects; the queue goes out in order", async () => {
      const server = await wsServer({ echo: false });
      const received: string[] = [];
      server.wss.on("connection", (ws) => ws.on("message", (d) => received.push(d.toString())));
      const c = client(server.url, { maxQueuedBytes: 8 });
      const a = c.send("abcd");
      const b = c.send("é€"); // 5 bytes would not fit...
      const bErr = await b.catch((e: unknown) => e);
      expect(bErr).toBeInstanceOf(SendQueueFullError);
      const d = c.send("efgh"); // ...but 4 more bytes fill it exactly
      expect(c.bufferedAmount).toBe(8);
      await expect(c.send("x")).rejects.toBeInstanceOf(SendQueueFullError);
      await c.connect();
      await Promise.all([a, d]);
      await waitFor(() => received.length === 2, 1000, "two messages");
      expect(received).toEqual(["abcd", "efgh"]);
    });

    it(`defaults to ${DEFAULT_MAX_QUEUED_BYTES} bytes (4 MiB)`, async () => {
      const c = client("ws://127.0.0.1:9/");
      expect(DEFAULT_MAX_QUEUED_BYTES).toBe(4 * 2 ** 20);
      const fits = c.send(new Uint8Array(DEFAULT_MAX_QUEUED_BYTES));
      await expect(c.send(new Uint8Array(1))).rejects.toBeInstanceOf(SendQueueFullError);
      c.terminate();
      await expect(fits).rejects.toThrow();
    });
  });

  describe("sending on an open connection", () => {
    it("masks every frame with a fresh random key", async () => {
      const chunks: Buffer[] = [];
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(switchingProtocols(key));
          socket.on("data", (d: Buffer) => chunks.push(d));
        }),
      );
      const c = client(server.url);
      await c.connect();
      const n = 200;
      await Promise.all(Array.from({ length: n }, (_, i) => c.send(`m${i}`)));
      await waitFor(() => clientFrames(Buffer.concat(chunks)).length === n, 2000, `${n} frames`);
      const frames = clientFrames(Buffer.concat(chunks));
      expect(frames.map((f) => f.payload.toString())).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
      // 200 keys out of 2^32: a repeat means keys are reused (a 1-in-200,000 chance otherwise).
      expect(new Set(frames.map((f) => f.mask.toString("hex"))).size).toBe(n);
    });

    it("send() rejects with ConnectionClosedError when the connection dies before the frame leaves", async () => {
      const { server, serverSocket } = await stalledServer();
      const c = client(server.url, { reconnect: false });
      c.on("error", () => {});
      await c.connect();
      const big = c.send(new Uint8Array(32 * 2 ** 20));
      await waitFor(() => c.bufferedAmount > 0, 1000, "buffered bytes");
      serverSocket()?.destroy();
      const err = await within(
        big.catch((e: unknown) => e),
        2000,
        "the rejection",
      );
      expect(err).toBeInstanceOf(ConnectionClosedError);
    });

    it("a send nobody awaits that fails is not an unhandled rejection, written or queued", async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      try {
        const { server, serverSocket } = await stalledServer();
        const c = client(server.url, { reconnect: false });
        c.on("error", () => {});
        const queued = c.send("queued before the handshake"); // waits in the send queue
        await c.connect();
        await queued;
        void c.send(new Uint8Array(32 * 2 ** 20)); // stuck in the socket: the server does not read
        await waitFor(() => c.bufferedAmount > 0, 1000, "buffered bytes");
        serverSocket()?.destroy();
        await within(
          new Promise<void>((resolve) => c.once("close", () => resolve())),
          2000,
          "the close event",
        );
        const never = client("ws://127.0.0.1:9/", { reconnect: false });
        never.on("error", () => {});
        void never.send("queued, then rejected when the client closes");
        await never.close();
        await sleep(20); // unhandled rejections are reported after the microtask queue drains
        expect(unhandled).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
      }
    });

    it("send() throws a TypeError for data it cannot send", () => {
      const c = client("ws://127.0.0.1:9/");
      expect(() => c.send(42 as never)).toThrow(TypeError);
      expect(() => c.send({} as never)).toThrow(TypeError);
    });
  });

  describe("receiving", () => {
    it("invalid UTF-8 in a text message fails the connection with 1007", async () => {
      const chunks: Buffer[] = [];
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(switchingProtocols(key));
          // After the open: frames in the 101's own read would fail connect() itself.
          setTimeout(
            () =>
              socket.write(
                Buffer.concat([serverFrame(1, "valid"), serverFrame(1, Buffer.from([0x61, 0xff, 0x62]))]),
              ),
            20,
          );
          socket.on("data", (d: Buffer) => {
            chunks.push(d);
            socket.end();
          });
        }),
      );
      const c = client(server.url, { closeTimeout: 100 });
      c.on("error", () => {});
      await c.connect();
      const it = c[Symbol.asyncIterator]();
      expect(await it.next()).toEqual({ done: false, value: "valid" });
      const err = await within(
        it.next().catch((e: unknown) => e),
        2000,
        "the error",
      );
      expect(err).toMatchObject({ closeCode: 1007 });
      const close = clientFrames(Buffer.concat(chunks)).find((f) => f.opcode === 0x8);
      expect(close?.payload.readUInt16BE(0)).toBe(1007);
    });

    it("a pending for-await ends when the user closes, after the messages already queued", async () => {
      const server = await wsServer({ echo: false });
      server.wss.on("connection", (ws) => {
        ws.send("a");
        ws.send("b");
      });
      const c = client(server.url);
      await c.connect();
      await sleep(30); // "a" and "b" wait in the queue
      const got: unknown[] = [];
      const loop = (async () => {
        for await (const m of c) {
          got.push(m);
          if (got.length === 2) void c.close();
        }
      })();
      await within(loop, 2000, "the loop to end after close()");
      expect(got).toEqual(["a", "b"]);
    });

    it("with a 'message' listener AND an active loop, both see every message once, in order", async () => {
      const server = await wsServer({ echo: false });
      const c = client(server.url);
      const heard: unknown[] = [];
      c.on("message", (m) => heard.push(m));
      await c.connect();
      const it = c[Symbol.asyncIterator]();
      const first = it.next(); // the loop is active from here
      server.clients[0]?.send("x");
      server.clients[0]?.send("y");
      expect(await first).toEqual({ done: false, value: "x" });
      expect(await take(it, 1)).toEqual(["y"]);
      expect(heard).toEqual(["x", "y"]);
    });

    it("after a loop returns, messages a listener takes are not queued: the next loop starts at the next message", async () => {
      const server = await wsServer({ echo: false });
      const c = client(server.url, { highWaterMark: 1024 });
      let heard = 0;
      c.on("message", () => heard++);
      await c.connect();
      const first = c[Symbol.asyncIterator]();
      const pending = first.next();
      server.clients[0]?.send("first");
      expect(await pending).toEqual({ done: false, value: "first" });
      await first.return?.();
      // No loop is active: 50 KiB go to the listener only (queued, they would pass highWaterMark).
      for (let i = 0; i < 50; i++) server.clients[0]?.send(Buffer.alloc(1024));
      await waitFor(() => heard === 51, 2000, "50 messages to the listener");
      const second = c[Symbol.asyncIterator]();
      const next = second.next();
      server.clients[0]?.send("after");
      expect(await within(next, 2000, "the next loop's message")).toEqual({ done: false, value: "after" });
    });
  });
});

describe("across reconnects", () => {
  describe("backpressure holds across a reconnect", () => {
    it("a connection opened while the consumer is still over the high-water mark does not read past it", async () => {
      const server = await wsServer({ echo: false });
      let conn = 0;
      server.wss.on("connection", (ws) => {
        if (conn++ === 0) {
          ws.send(Buffer.alloc(2 ** 20, 1)); // 1 MiB: over the high-water mark at once, then a retryable close
          ws.close(1001, "restarting");
          return;
        }
        const chunk = Buffer.alloc(64 * 1024, 7);
        for (let i = 0; i < 320; i++) {
          chunk.writeUInt32BE(i, 0);
          ws.send(Buffer.from(chunk)); // 20 MiB
        }
      });
      // closeTimeout: the paused first socket does not read the server's FIN; the timer ends it.
      const c = client(server.url, { highWaterMark: 256 * 1024, closeTimeout: 100 });
      c.on("error", () => {});
      await c.connect(); // nobody consumes: the 1 MiB waits in the queue, over highWaterMark
      await waitFor(() => server.clients.length === 2, 3000, "the second connection");
      await sleep(300);
      // The second connection must be paused from its open: most of its 20 MiB waits on the server.
      // Actual (bug): 0, the client read all 20 MiB into its queue.
      expect(server.clients[1]?.bufferedAmount).toBeGreaterThan(4 * 2 ** 20);
      // And everything still arrives, in order, once the consumer reads.
      const it = c[Symbol.asyncIterator]();
      expect(((await it.next()).value as Uint8Array).byteLength).toBe(2 ** 20);
      for (let i = 0; i < 320; i++) {
        const m = (await within(it.next(), 5000, `message ${i}`)).value as Uint8Array;
        expect(Buffer.from(m).readUInt32BE(0)).toBe(i);
      }
    }, 20_000);
  });

  describe("terminate() then connect() at once", () => {
    it("connect() right after terminate() of an open client connects again", async () => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      c.terminate();
      // Actual (bug): rejects with AbortedError (cause "client terminated") though a connection opens.
      const response = await within(c.connect(), 3000, "connect() after terminate()");
      expect(response.status).toBe(101);
      await c.send("works");
      const it = c[Symbol.asyncIterator]();
      expect(await within(it.next(), 2000, "the echo")).toEqual({ done: false, value: "works" });
    });

    it("connect() right after terminate() during a backoff is not rejected by the old loop", async () => {
      const url = await deadUrl();
      const c = client(url, { reconnect: { minTimeout: 5000, maxTimeout: 5000 } });
      c.on("error", () => {});
      const first = c.connect().catch((e: unknown) => e);
      await new Promise<void>((resolve) => c.once("reconnecting", () => resolve()));
      c.terminate();
      const second = c.connect().catch((e: unknown) => e);
      expect(await first).toMatchObject({ code: "WS_ERR_ABORTED" });
      // The new connect() is retrying against a dead port with a 5 s backoff: it must still be pending.
      // Actual (bug): rejected at once with the old loop's AbortedError.
      expect(await Promise.race([second, sleep(300).then(() => "pending")])).toBe("pending");
      c.terminate();
    });
  });
});
