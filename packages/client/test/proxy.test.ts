import { lookup } from "node:dns/promises";
import { type AddressInfo, createServer, type LookupFunction } from "node:net";
import { Duplex } from "node:stream";
import { HandshakeError } from "@tideway/core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { connect, WebSocketClient } from "../src/client.js";
import { AbortedError, HandshakeTimeoutError, ProxyError } from "../src/errors.js";
import { httpConnect } from "../src/proxy.js";
import { type ProxyConfig, parseProxy } from "../src/proxy-url.js";
import { isRetryable } from "../src/reconnect.js";
import {
  freePort,
  type Socks5Server,
  startHttpsConnectProxy,
  startSocks5Server,
  startTinyproxy,
  type Tinyproxy,
} from "./helpers/proxies.js";
import {
  type Cert,
  makeCert,
  type RawServer,
  startRawServer,
  startWsServer,
  startWssServer,
  type WsTestServer,
} from "./helpers/servers.js";

/** Connects, sends one text message, returns the echo, closes. */
async function echoThrough(url: string, options: ConstructorParameters<typeof WebSocketClient>[1]) {
  const client = await connect(url, { reconnect: false, heartbeat: false, ...options });
  try {
    const reply = new Promise((resolve) => client.once("message", resolve));
    await client.send("hello through the proxy");
    return await reply;
  } finally {
    await client.close();
  }
}

/** Connects with the default reconnect policy and returns the rejection, counting "reconnecting". */
async function failure(url: string, options: ConstructorParameters<typeof WebSocketClient>[1]) {
  const client = new WebSocketClient(url, {
    heartbeat: false,
    reconnect: { retries: 2, minTimeout: 1, maxTimeout: 1 },
    ...options,
  });
  let reconnecting = 0;
  client.on("reconnecting", () => reconnecting++);
  client.on("error", () => {});
  const error = await client.connect().then(
    () => undefined,
    (err: unknown) => err,
  );
  client.terminate();
  return { error, reconnecting };
}

describe("httpConnect (the CONNECT exchange, fed in pieces)", () => {
  const proxy: ProxyConfig = parseProxy("http://zed:p%C3%A4ss@proxy:8080");
  const OK = "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n";
  const DENIED = 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="x"\r\n\r\n';

  function fakeSocket() {
    const written: Buffer[] = [];
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        callback();
      },
    });
    return { socket, written };
  }
  /** Pushes each piece in its own macrotask, so each is read separately. */
  async function feed(socket: Duplex, pieces: string[]) {
    for (const piece of pieces) {
      socket.push(Buffer.from(piece, "latin1"));
      await new Promise((r) => setImmediate(r));
    }
  }
  const splits = (s: string) => [
    ["whole", [s]],
    ["byte by byte", [...s]],
    ...Array.from({ length: s.length - 1 }, (_, i) => [
      `split at ${i + 1}`,
      [s.slice(0, i + 1), s.slice(i + 1)],
    ]),
  ];

  it("sends CONNECT with the authority, Host and Basic Proxy-Authorization (UTF-8)", async () => {
    const { socket, written } = fakeSocket();
    const done = httpConnect(socket, proxy, "::1", 9000);
    await feed(socket, [OK]);
    await done;
    expect(Buffer.concat(written).toString("latin1")).toBe(
      "CONNECT [::1]:9000 HTTP/1.1\r\nHost: [::1]:9000\r\n" +
        `Proxy-Authorization: Basic ${Buffer.from("zed:päss", "utf8").toString("base64")}\r\n\r\n`,
    );
  });

  it("sends no Proxy-Authorization without credentials", async () => {
    const { socket, written } = fakeSocket();
    const done = httpConnect(socket, parseProxy("http://proxy"), "example.com", 443);
    await feed(socket, [OK]);
    await done;
    expect(Buffer.concat(written).toString()).not.toMatch(/authorization/i);
  });

  it.each(splits(OK))("resolves on a 2xx fed %s", async (_label, pieces) => {
    const { socket } = fakeSocket();
    const done = httpConnect(socket, proxy, "example.com", 443);
    await feed(socket, pieces as string[]);
    await expect(done).resolves.toBeUndefined();
  });

  it.each(splits(DENIED))(
    "rejects a 407 fed %s with a ProxyError carrying the status",
    async (_label, pieces) => {
      const { socket } = fakeSocket();
      const done = httpConnect(socket, proxy, "example.com", 443);
      done.catch(() => {});
      await feed(socket, pieces as string[]);
      const err = await done.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProxyError);
      expect(err).toMatchObject({
        code: "WS_ERR_PROXY",
        status: 407,
        proxy: "http://proxy:8080",
        message: expect.stringMatching(/refused CONNECT example\.com:443: 407 Proxy Authentication Required/),
      });
      expect((err as Error).message).not.toMatch(/zed|päss/);
    },
  );

  it("puts bytes that follow the reply head back into the stream", async () => {
    const { socket } = fakeSocket();
    const done = httpConnect(socket, proxy, "example.com", 443);
    await feed(socket, [`${OK}early bytes`]);
    await done;
    const received: Buffer[] = [];
    socket.on("data", (c: Buffer) => received.push(c));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(received).toString()).toBe("early bytes");
  });

  it("rejects a reply that is not HTTP with a ProxyError caused by the parser's error", async () => {
    const { socket } = fakeSocket();
    const done = httpConnect(socket, proxy, "example.com", 443);
    done.catch(() => {});
    await feed(socket, ["SSH-2.0-OpenSSH\r\n\r\n"]);
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBeUndefined();
    expect((err as Error).cause).toBeInstanceOf(HandshakeError);
  });

  it("rejects when the proxy closes before answering", async () => {
    const { socket } = fakeSocket();
    const done = httpConnect(socket, proxy, "example.com", 443);
    done.catch(() => {});
    await feed(socket, ["HTTP/1.1 200 OK\r\n"]);
    socket.destroy();
    await expect(done).rejects.toThrow(/closed the connection before answering CONNECT/);
  });
});

describe("through tinyproxy (HTTP CONNECT)", () => {
  let ws: WsTestServer;
  let wss: Awaited<ReturnType<typeof startWssServer>>;
  let cert: Cert;
  let open: Tinyproxy;
  let authed: Tinyproxy;

  beforeAll(async () => {
    cert = makeCert();
    ws = await startWsServer();
    wss = await startWssServer(cert);
    [open, authed] = await Promise.all([
      startTinyproxy({ connectPorts: [ws.port, wss.port] }),
      startTinyproxy({ connectPorts: [ws.port, wss.port], auth: { user: "alice", pass: "s3cret" } }),
    ]);
  }, 20_000);
  afterAll(async () => {
    await Promise.all([open?.stop(), authed?.stop(), ws?.close(), wss?.close()]);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("tunnels ws: through a proxy without authentication", async () => {
    const before = ws.requests.length;
    expect(await echoThrough(ws.url, { proxy: open.url })).toBe("hello through the proxy");
    expect(ws.requests.length).toBe(before + 1);
    expect(open.log()).toContain(`CONNECT 127.0.0.1:${ws.port}`);
  });

  it("tunnels wss: with TLS end to end inside the tunnel (SNI is the server's name)", async () => {
    const sni = wss.servernames.length;
    expect(await echoThrough(wss.url, { proxy: open.url, tls: { ca: cert.cert } })).toBe(
      "hello through the proxy",
    );
    expect(wss.servernames.slice(sni)).toEqual(["localhost"]);
    expect(open.log()).toContain(`CONNECT localhost:${wss.port}`);
  });

  it("authenticates with the user:pass of the proxy URL", async () => {
    expect(await echoThrough(ws.url, { proxy: authed.url.replace("//", "//alice:s3cret@") })).toBe(
      "hello through the proxy",
    );
  });

  it("gives a ProxyError 407 without credentials, and does not retry it", async () => {
    const { error, reconnecting } = await failure(ws.url, { proxy: authed.url });
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: "WS_ERR_PROXY", status: 407, proxy: authed.url });
    expect(isRetryable(error)).toBe(false);
    expect(reconnecting).toBe(0);
  });

  it("gives a ProxyError with a wrong password, without echoing the password", async () => {
    const { error, reconnecting } = await failure(ws.url, {
      proxy: authed.url.replace("//", "//alice:wrong@"),
    });
    // tinyproxy 1.11 answers wrong credentials with 401 (RFC 9110 says 407; both are refusals).
    expect(error).toMatchObject({ code: "WS_ERR_PROXY", status: 401 });
    expect(reconnecting).toBe(0);
    expect((error as Error).message).not.toContain("wrong");
  });

  it("gives a ProxyError 403 when the proxy forbids the port", async () => {
    const other = await startWsServer();
    try {
      const { error, reconnecting } = await failure(other.url, { proxy: open.url });
      expect(error).toMatchObject({ code: "WS_ERR_PROXY", status: 403 });
      expect(reconnecting).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("takes the proxy from ws_proxy / http_proxy, and honours no_proxy and proxy: false", async () => {
    const count = () => open.log().split(`CONNECT 127.0.0.1:${ws.port}`).length;
    vi.stubEnv("http_proxy", open.url);
    let n = count();
    await echoThrough(ws.url, {});
    expect(count()).toBe(n + 1);

    vi.stubEnv("no_proxy", "example.com, 127.0.0.1");
    n = count();
    await echoThrough(ws.url, {});
    expect(count()).toBe(n);

    vi.stubEnv("no_proxy", "");
    n = count();
    await echoThrough(ws.url, { proxy: false });
    expect(count()).toBe(n);

    // wss: reads https_proxy (either case), never http_proxy.
    const countTls = () => open.log().split(`CONNECT localhost:${wss.port}`).length;
    n = countTls();
    await echoThrough(wss.url, { tls: { ca: cert.cert } });
    expect(countTls()).toBe(n);
    vi.stubEnv("HTTPS_PROXY", open.url);
    await echoThrough(wss.url, { tls: { ca: cert.cert } });
    expect(countTls()).toBe(n + 1);
  });
});

describe("proxy failures", () => {
  let ws: WsTestServer;
  let silent: RawServer;
  beforeAll(async () => {
    ws = await startWsServer();
    // Reads (and so notices the client's FIN) but never answers.
    silent = await startRawServer((s) => s.resume());
  });
  afterAll(async () => {
    await Promise.all([ws.close(), silent.close()]);
  });

  it("a proxy that refuses TCP gives a ProxyError caused by ECONNREFUSED (retried)", async () => {
    const port = await freePort();
    const { error, reconnecting } = await failure(ws.url, { proxy: `http://127.0.0.1:${port}` });
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: "WS_ERR_PROXY", status: undefined, cause: { code: "ECONNREFUSED" } });
    expect((error as Error).message).toMatch(/Could not connect to proxy http:\/\/127\.0\.0\.1:\d+/);
    expect(reconnecting).toBe(2);
  });

  it("the tunnel counts within handshakeTimeout", async () => {
    const start = Date.now();
    const { error } = await failure(ws.url, {
      proxy: `http://127.0.0.1:${silent.port}`,
      handshakeTimeout: 150,
      reconnect: false,
    });
    expect(error).toBeInstanceOf(HandshakeTimeoutError);
    expect(Date.now() - start).toBeLessThan(2000);
    // The socket to the proxy was destroyed.
    await vi.waitFor(() =>
      expect(silent.sockets.at(-1)?.destroyed || silent.sockets.at(-1)?.readableEnded).toBe(true),
    );
  });

  it("the signal aborts a tunnel in progress", async () => {
    const controller = new AbortController();
    const client = new WebSocketClient(ws.url, {
      proxy: `http://127.0.0.1:${silent.port}`,
      reconnect: false,
      heartbeat: false,
      signal: controller.signal,
    });
    client.on("error", () => {});
    const before = silent.sockets.length;
    const result = client.connect().catch((e: unknown) => e);
    await vi.waitFor(() => expect(silent.sockets.length).toBe(before + 1));
    controller.abort(new Error("stop"));
    expect(await result).toBeInstanceOf(AbortedError);
  });
});

describe("through an https: proxy (TLS to the proxy)", () => {
  let cert: Cert;
  let ws: WsTestServer;
  let wss: WsTestServer;
  beforeAll(async () => {
    cert = makeCert();
    ws = await startWsServer();
    wss = await startWssServer(cert);
  });
  afterAll(async () => {
    await Promise.all([ws.close(), wss.close()]);
  });

  it("tunnels ws: and wss: (TLS inside TLS), with Basic credentials", async () => {
    const proxy = await startHttpsConnectProxy(cert);
    try {
      const url = `https://bob:pw@localhost:${proxy.port}`;
      expect(await echoThrough(ws.url, { proxy: url, tls: { ca: cert.cert } })).toBe(
        "hello through the proxy",
      );
      expect(await echoThrough(wss.url, { proxy: url, tls: { ca: cert.cert } })).toBe(
        "hello through the proxy",
      );
      expect(proxy.connects).toEqual([
        { target: `127.0.0.1:${ws.port}`, auth: `Basic ${Buffer.from("bob:pw").toString("base64")}` },
        { target: `localhost:${wss.port}`, auth: `Basic ${Buffer.from("bob:pw").toString("base64")}` },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("checks the proxy's certificate", async () => {
    const proxy = await startHttpsConnectProxy(cert);
    try {
      const { error } = await failure(ws.url, { proxy: `https://localhost:${proxy.port}`, reconnect: false });
      expect(error).toMatchObject({ code: "WS_ERR_PROXY", cause: { code: "DEPTH_ZERO_SELF_SIGNED_CERT" } });
      expect(isRetryable(error)).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});

describe("through SOCKS5", () => {
  let ws: WsTestServer;
  let cert: Cert;
  let wss: WsTestServer;
  let socks: Socks5Server;
  let authed: Socks5Server;
  beforeAll(async () => {
    cert = makeCert();
    ws = await startWsServer({ host: "127.0.0.1" });
    wss = await startWssServer(cert);
    socks = await startSocks5Server();
    authed = await startSocks5Server({ auth: { user: "carol", pass: "pw" } });
  });
  afterAll(async () => {
    await Promise.all([ws.close(), wss.close(), socks.close(), authed.close()]);
  });

  it("socks5h: sends the host name for the proxy to resolve (remote DNS)", async () => {
    const before = socks.requests.length;
    const url = `ws://localhost:${ws.port}`;
    expect(await echoThrough(url, { proxy: `socks5h://127.0.0.1:${socks.port}` })).toBe(
      "hello through the proxy",
    );
    expect(socks.requests.slice(before)).toEqual([
      { addressType: 3, host: "localhost", port: ws.port, username: undefined },
    ]);
  });

  it("socks5: resolves the host here and sends an address", async () => {
    const before = socks.requests.length;
    const local = await lookup("localhost");
    // A server on the address this machine gives first for "localhost" (127.0.0.1 or ::1).
    const server = await startWsServer({ host: local.address });
    try {
      const url = `ws://localhost:${server.port}`;
      expect(await echoThrough(url, { proxy: `socks5://127.0.0.1:${socks.port}` })).toBe(
        "hello through the proxy",
      );
    } finally {
      await server.close();
    }
    expect(socks.requests.slice(before)).toEqual([
      {
        addressType: local.family === 4 ? 1 : 4,
        host: local.address,
        port: server.port,
        username: undefined,
      },
    ]);
  });

  it("socks5 with lookup: the user's lookup resolves the proxy's host and the server's", async () => {
    const before = socks.requests.length;
    const looked: string[] = [];
    const byName: LookupFunction = (hostname, options, callback) => {
      looked.push(hostname);
      if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
      else callback(null, "127.0.0.1", 4);
    };
    const url = `ws://server.test:${ws.port}`;
    expect(await echoThrough(url, { proxy: `socks5://proxy.test:${socks.port}`, lookup: byName })).toBe(
      "hello through the proxy",
    );
    expect(looked).toEqual(["proxy.test", "server.test"]);
    expect(socks.requests.slice(before)).toMatchObject([
      { addressType: 1, host: "127.0.0.1", port: ws.port },
    ]);
  });

  it("sends an IPv4 address as an IPv4 address type", async () => {
    const before = socks.requests.length;
    await echoThrough(ws.url, { proxy: `socks5h://127.0.0.1:${socks.port}` });
    expect(socks.requests.slice(before)).toMatchObject([{ addressType: 1, host: "127.0.0.1" }]);
  });

  it("socks4a sends the host name, socks4 an IPv4 address resolved here", async () => {
    const before = socks.requests.length;
    const local = await lookup("localhost", { family: 4 });
    await echoThrough(`ws://localhost:${ws.port}`, { proxy: `socks4a://dave@127.0.0.1:${socks.port}` });
    await echoThrough(`ws://localhost:${ws.port}`, { proxy: `socks4://127.0.0.1:${socks.port}` });
    expect(socks.requests.slice(before)).toEqual([
      { addressType: 3, host: "localhost", port: ws.port, username: "dave" },
      { addressType: 1, host: local.address, port: ws.port, username: undefined },
    ]);
  });

  it("authenticates with username/password (RFC 1929) and tunnels wss:", async () => {
    const before = authed.requests.length;
    expect(
      await echoThrough(wss.url, {
        proxy: `socks5h://carol:pw@127.0.0.1:${authed.port}`,
        tls: { ca: cert.cert },
      }),
    ).toBe("hello through the proxy");
    expect(authed.requests.slice(before)).toEqual([
      { addressType: 3, host: "localhost", port: wss.port, username: "carol" },
    ]);
  });

  it("bad credentials: a ProxyError with authFailed, not retried", async () => {
    const { error, reconnecting } = await failure(ws.url, {
      proxy: `socks5h://carol:nope@127.0.0.1:${authed.port}`,
    });
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: "WS_ERR_PROXY", authFailed: true, socksReply: undefined });
    expect(reconnecting).toBe(0);
  });

  it("no credentials for a proxy that requires them: authFailed", async () => {
    const { error } = await failure(ws.url, {
      proxy: `socks5h://127.0.0.1:${authed.port}`,
      reconnect: false,
    });
    expect(error).toMatchObject({ code: "WS_ERR_PROXY", authFailed: true });
  });

  it.each([
    [2, false],
    [5, true],
  ])("SOCKS reply %i: a ProxyError with socksReply (retryable: %s)", async (reply, retryable) => {
    const failing = await startSocks5Server({ reply });
    try {
      const { error } = await failure(ws.url, {
        proxy: `socks5://127.0.0.1:${failing.port}`,
        reconnect: false,
      });
      expect(error).toBeInstanceOf(ProxyError);
      expect(error).toMatchObject({ code: "WS_ERR_PROXY", socksReply: reply, authFailed: false });
      expect(isRetryable(error)).toBe(retryable);
    } finally {
      await failing.close();
    }
  });

  it("SOCKS4 reply 91 (the proxy could not reach the server): a ProxyError with socksReply 91, retryable", async () => {
    // A port nothing listens on: the proxy's own connection is refused and it answers 0x5b (91).
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { error } = await failure(`ws://127.0.0.1:${deadPort}/`, {
      proxy: `socks4a://127.0.0.1:${socks.port}`,
      reconnect: false,
    });
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ code: "WS_ERR_PROXY", socksReply: 91, authFailed: false });
    expect(isRetryable(error)).toBe(true);
  });
});
