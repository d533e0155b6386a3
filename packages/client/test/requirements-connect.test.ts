/**
 * Issue 3 item 1 (connecting), the parts the other tests leave out: https:// mapped to wss:// over a
 * real TLS server, host names and the Host header, URL credentials, the TypeErrors thrown at once,
 * `handshakeTimeout` over a TLS handshake that never completes, non-101 answers whose body is
 * bounded and whose connection stays open, bytes of the 101 packet split anywhere, and the `signal`
 * closing an open client.
 */
import { Buffer } from "node:buffer";
import { DEFAULT_MAX_ERROR_BODY, UnexpectedResponseError } from "@tideway/core";
import { describe, expect, it } from "vitest";
import { AbortedError, ConnectError, connect, HandshakeTimeoutError, WebSocketClient } from "../src/index.js";
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
  startWssServer,
  switchingProtocols,
} from "./helpers/servers.js";

useCleanups();

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

describe("invalid URLs and options throw a TypeError at once", () => {
  const url = "ws://127.0.0.1:1/";
  it.each([
    ["an empty URL", "", {}],
    ["a relative URL", "/path", {}],
    ["a file: URL", "file:///tmp/x", {}],
    ["heartbeat.interval NaN", url, { heartbeat: { interval: Number.NaN } }],
    ["heartbeat.timeout negative", url, { heartbeat: { timeout: -1 } }],
    ["reconnect.retries negative", url, { reconnect: { retries: -1 } }],
    ["reconnect.factor < 1", url, { reconnect: { factor: 0.5 } }],
    ["maxTimeout < minTimeout", url, { reconnect: { minTimeout: 100, maxTimeout: 10 } }],
    ["maxQueuedBytes a string", url, { maxQueuedBytes: "1" }],
    ["maxPayload 0", url, { maxPayload: 0 }],
    ["closeTimeout Infinity", url, { closeTimeout: Number.POSITIVE_INFINITY }],
    ["signal not an AbortSignal", url, { signal: {} }],
    ["onOpen not a function", url, { onOpen: "x" }],
    ["shouldReconnect not a function", url, { shouldReconnect: 1 }],
    ["an invalid subprotocol token", url, { protocols: ["a b"] }],
    ["a duplicate subprotocol", url, { protocols: ["a", "a"] }],
    ["a header the handshake owns", url, { headers: { Upgrade: "h2c" } }],
    ["a header name with a space", url, { headers: { "X Bad": "1" } }],
    ["a header value with CRLF", url, { headers: { "X-Bad": "a\r\nInjected: 1" } }],
    ["options null", url, null],
  ])("%s", (_, input, options) => {
    expect(() => new WebSocketClient(input as string, options as never)).toThrow(TypeError);
  });

  it("connect() (the helper) throws the same TypeError before any I/O", async () => {
    await expect(connect("ws://127.0.0.1:1/", { binaryType: "blob" as never })).rejects.toBeInstanceOf(
      TypeError,
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
