/**
 * Interop with another implementation: Python `websockets` 10.4 (helpers/py_server.py), over plain
 * TCP and over TLS. A bug shared by Tideway's client and its own tests (both written from the same
 * reading of RFC 6455) shows up here, against a server that was not.
 */
import { randomBytes } from "node:crypto";
import {
  type BinaryType,
  ConnectionClosedError,
  WebSocketClient,
  type WebSocketClientOptions,
} from "@tideway/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  HEADERS_REQUEST,
  type PythonHandshakeInfo,
  type PythonServer,
  startPythonServer,
} from "../helpers/python-server.js";
import { createTestCertificate, type TestCertificate } from "../helpers/tls.js";

const MiB = 2 ** 20;
// Both sides of every payload-length encoding boundary (7-bit, 16-bit, 64-bit), then big messages.
const SIZES = [0, 1, 125, 126, 65535, 65536, MiB, 16 * MiB];
// 16 MiB through Python over TLS takes ~5 s on 2 cores; leave room for a loaded machine, not forever.
const ECHO_TIMEOUT_MS = 40_000;

/** The next message of an iterator, or a rejection after `timeoutMs`: a lost message must not hang. */
async function nextMessage(iterator: AsyncIterator<unknown>, timeoutMs = 10_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([iterator.next(), timeout]);
    if (result.done) throw new Error("the iterator ended instead of yielding a message");
    return result.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Text of `size` bytes (ASCII) that differs along its length, so a shifted or cut echo fails. */
function textOfSize(size: number): string {
  const pattern = "0123456789abcdefghijklmnopqrstuvwxyz";
  return pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
}

const modes = [
  { name: "ws://", tls: false },
  { name: "wss://", tls: true },
] as const;

describe.each(modes)("Python websockets server over $name", ({ tls }) => {
  let certificate: TestCertificate | undefined;
  let server: PythonServer;
  const clients: WebSocketClient<BinaryType>[] = [];

  beforeAll(async () => {
    certificate = tls ? createTestCertificate() : undefined;
    server = await startPythonServer({
      subprotocols: ["tideway.v2"],
      tls: certificate && { certPath: certificate.certPath, keyPath: certificate.keyPath },
    });
  });
  afterAll(async () => {
    await server?.stop();
    certificate?.cleanup();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close().catch(() => {})));
  });

  function makeClient<B extends BinaryType = "uint8array">(
    path: string,
    options: WebSocketClientOptions<B> = {},
  ): WebSocketClient<B> {
    const client = new WebSocketClient(`${server.url}${path}`, {
      heartbeat: false,
      reconnect: false,
      ...(certificate ? { tls: { ca: certificate.cert } } : {}),
      ...options,
    });
    clients.push(client);
    return client;
  }

  it("negotiates the subprotocol and sends the custom headers", async () => {
    const client = makeClient("/echo?x=1", {
      protocols: ["tideway.v1", "tideway.v2"],
      headers: { "X-Tideway-Test": "interop 1", Authorization: "Bearer abc" },
    });
    const response = await client.connect();
    expect(response.status).toBe(101);
    expect(response.protocol).toBe("tideway.v2");
    expect(client.protocol).toBe("tideway.v2");

    await client.send(HEADERS_REQUEST);
    const info = JSON.parse(
      (await nextMessage(client[Symbol.asyncIterator]())) as string,
    ) as PythonHandshakeInfo;
    expect(info.path).toBe("/echo?x=1");
    expect(info.subprotocol).toBe("tideway.v2");
    const headers = new Map(info.headers.map(([name, value]) => [name.toLowerCase(), value]));
    expect(headers.get("x-tideway-test")).toBe("interop 1");
    expect(headers.get("authorization")).toBe("Bearer abc");
    expect(headers.get("sec-websocket-protocol")).toBe("tideway.v1, tideway.v2");
    expect(headers.get("sec-websocket-version")).toBe("13");
    // Whatever extensions the server agreed to, both sides must agree on them.
    expect(response.extensions).toBe(info.extensions);
  });

  it("does not send Sec-WebSocket-Protocol when no subprotocol is offered", async () => {
    const client = makeClient("/echo");
    const response = await client.connect();
    expect(response.protocol).toBe("");
    await client.send(HEADERS_REQUEST);
    const info = JSON.parse(
      (await nextMessage(client[Symbol.asyncIterator]())) as string,
    ) as PythonHandshakeInfo;
    expect(info.subprotocol).toBeNull();
    expect(info.headers.some(([name]) => name.toLowerCase() === "sec-websocket-protocol")).toBe(false);
  });

  it.each(SIZES)(
    "echoes a text message of %i bytes",
    async (size) => {
      const client = makeClient("/echo");
      await client.connect();
      const text = textOfSize(size);
      await client.send(text);
      const echo = await nextMessage(client[Symbol.asyncIterator]());
      expect(typeof echo).toBe("string");
      expect((echo as string).length).toBe(size);
      expect(echo === text).toBe(true);
    },
    ECHO_TIMEOUT_MS,
  );

  it.each(SIZES)(
    "echoes a binary message of %i bytes",
    async (size) => {
      const client = makeClient("/echo");
      await client.connect();
      const bytes = new Uint8Array(randomBytes(size));
      await client.send(bytes);
      const echo = await nextMessage(client[Symbol.asyncIterator]());
      expect(echo).toBeInstanceOf(Uint8Array);
      expect((echo as Uint8Array).byteLength).toBe(size);
      expect(Buffer.from(echo as Uint8Array).equals(bytes)).toBe(true);
    },
    ECHO_TIMEOUT_MS,
  );

  it("keeps text and binary apart and in order when sent back to back", async () => {
    const client = makeClient("/echo");
    await client.connect();
    const sent: Array<string | Uint8Array> = [];
    for (let i = 0; i < 50; i++) sent.push(i % 2 === 0 ? `text ${i} é€😀` : new Uint8Array([i, 0, 255, i]));
    await Promise.all(sent.map((message) => client.send(message)));
    const iterator = client[Symbol.asyncIterator]();
    for (const expected of sent) expect(await nextMessage(iterator)).toEqual(expected);
  });

  it("measures a ping round trip (the server answers with a pong)", async () => {
    const client = makeClient("/echo");
    await client.connect();
    const rtts = [await client.ping(), await client.ping(), await client.ping()];
    for (const rtt of rtts) {
      expect(rtt).toBeGreaterThanOrEqual(0);
      expect(rtt).toBeLessThan(2_000);
    }
    // The connection is still usable after the pings.
    await client.send("after ping");
    expect(await nextMessage(client[Symbol.asyncIterator]())).toBe("after ping");
  });

  it.each([
    { code: 1000, reason: "", clean: true },
    { code: 1001, reason: "going away", clean: true },
    { code: 4001, reason: "custom reason é", clean: false },
  ])("reports the server's close $code in the close event", async ({ code, reason, clean }) => {
    const client = makeClient(`/close/${code}?reason=${encodeURIComponent(reason)}`);
    const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>((resolve) =>
      client.once("close", resolve),
    );
    const iterator = client[Symbol.asyncIterator]();
    await client.connect();
    const info = await closed;
    expect(info).toMatchObject({ code, reason, wasClean: true });
    // 1000 and 1001 end the iterator; any other code is an error that carries it.
    if (clean) {
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    } else {
      const error = await iterator.next().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(error).toMatchObject({ closeCode: code, reason });
    }
    const seen = await server.waitForClosed((event) => event.path.startsWith(`/close/${code}`));
    // The client echoed the server's close frame.
    expect(seen.code).toBe(code);
  });

  it.each([
    { code: 1000, reason: "" },
    { code: 4002, reason: "bye from tideway" },
  ])("sends its close code $code to the server", async ({ code, reason }) => {
    const path = `/echo/client-close-${code}`;
    const client = makeClient(path);
    await client.connect();
    await client.close(code, reason);
    const seen = await server.waitForClosed((event) => event.path === path);
    expect(seen).toMatchObject({ code, reason });
  });
});

describe("Python websockets server with TLS, untrusted certificate", () => {
  it("fails to connect instead of trusting a self-signed certificate", async () => {
    const certificate = createTestCertificate();
    const server = await startPythonServer({ tls: certificate });
    const client = new WebSocketClient(`${server.url}/echo`, { heartbeat: false, reconnect: false });
    try {
      await expect(client.connect()).rejects.toThrow();
      expect(server.closed).toEqual([]);
    } finally {
      await client.close().catch(() => {});
      await server.stop();
      certificate.cleanup();
    }
  });
});

describe.each([true, false])("Python websockets server, compression %s", (compression) => {
  let server: PythonServer;
  beforeAll(async () => {
    server = await startPythonServer({ compression });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("echoes 1 MiB of compressible text and reports the extensions both sides agreed on", async () => {
    const client = new WebSocketClient(`${server.url}/echo`, { heartbeat: false, reconnect: false });
    try {
      const response = await client.connect();
      const iterator = client[Symbol.asyncIterator]();
      await client.send(HEADERS_REQUEST);
      const info = JSON.parse((await nextMessage(iterator)) as string) as PythonHandshakeInfo;
      expect(response.extensions).toBe(info.extensions);
      const text = "a".repeat(MiB);
      await client.send(text);
      expect((await nextMessage(iterator)) === text).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("negotiates permessage-deflate with a client that offers it only when enabled (fixture check)", async () => {
    // Tideway's client offers no extension; the ws npm client does, which shows the mode is real.
    const ws = new WebSocket(`${server.url}/echo`, { perMessageDeflate: true });
    try {
      await new Promise((resolve, reject) => {
        ws.once("open", resolve);
        ws.once("error", reject);
      });
      expect(ws.extensions.includes("permessage-deflate")).toBe(compression);
    } finally {
      ws.terminate();
    }
  });
});

describe("startPythonServer", () => {
  it("fails loudly, naming the package to install, when websockets cannot be imported", async () => {
    await expect(startPythonServer({ python: "/nonexistent/python3" })).rejects.toThrow(
      /cannot import websockets.*apt-get install python3-websockets/,
    );
  });

  it("stops the process it started", async () => {
    const server = await startPythonServer();
    await server.stop();
    expect(() => process.kill(server.pid, 0)).toThrow();
    // A second stop is harmless.
    await server.stop();
  });
});
