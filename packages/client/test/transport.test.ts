// Opening streams (transport.ts): Unix domain sockets and custom transports (`createConnection`).
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Duplex } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocketServer } from "ws";
import { connect, WebSocketClient } from "../src/client.js";
import { ConnectError, HandshakeTimeoutError } from "../src/errors.js";
import type { WebSocketClientOptions } from "../src/options.js";
import type { CreateConnectionOptions } from "../src/transport.js";
import { startWsServer, type WsTestServer } from "./helpers/servers.js";

describe("Unix domain sockets", () => {
  let dir: string;
  let socketPath: string;
  let server: Server;
  const requests: IncomingMessage[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tideway-unix-"));
    socketPath = join(dir, "ws.sock");
    server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on("connection", (ws, req) => {
      requests.push(req);
      ws.on("message", (d, binary) => ws.send(d, { binary }));
    });
    server.listen(socketPath);
    await once(server, "listening");
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function echo(client: WebSocketClient): Promise<unknown> {
    const reply = new Promise((resolve) => client.once("message", resolve));
    await client.send("over a unix socket");
    const data = await reply;
    await client.close();
    return data;
  }

  it("connects to ws+unix:///path/to.sock:/request/path with Host: localhost", async () => {
    const client = await connect(`ws+unix://${socketPath}:/chat?room=7`, {
      reconnect: false,
      heartbeat: false,
    });
    expect(await echo(client)).toBe("over a unix socket");
    expect(requests.at(-1)?.url).toBe("/chat?room=7");
    expect(requests.at(-1)?.headers.host).toBe("localhost");
  });

  it("connects with the socketPath option, the URL giving path and Host", async () => {
    const client = await connect("ws://api.internal/v1", { socketPath, reconnect: false, heartbeat: false });
    expect(await echo(client)).toBe("over a unix socket");
    expect(requests.at(-1)?.url).toBe("/v1");
    expect(requests.at(-1)?.headers.host).toBe("api.internal");
  });

  it("ignores the proxy environment for a Unix socket", async () => {
    const saved = process.env.ws_proxy;
    process.env.ws_proxy = "http://127.0.0.1:1"; // would fail if used
    try {
      const client = await connect(`ws+unix://${socketPath}:/`, { reconnect: false, heartbeat: false });
      expect(await echo(client)).toBe("over a unix socket");
    } finally {
      if (saved === undefined) delete process.env.ws_proxy;
      else process.env.ws_proxy = saved;
    }
  });

  it("a missing socket is a ConnectError caused by ENOENT", async () => {
    const err = await connect(`ws+unix://${join(dir, "missing.sock")}:/`, { reconnect: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: "WS_ERR_CONNECT", cause: { code: "ENOENT" } });
  });
});

describe("createConnection", () => {
  let ws: WsTestServer;
  beforeAll(async () => {
    ws = await startWsServer();
  });
  afterAll(async () => {
    await ws.close();
  });

  it("runs on the stream it returns, and is told what to connect to", async () => {
    const calls: CreateConnectionOptions[] = [];
    const client = await connect("ws://service.invalid:1234/x", {
      reconnect: false,
      heartbeat: false,
      proxy: "http://127.0.0.1:1", // ignored: the custom transport takes over
      createConnection: (o) => {
        calls.push(o);
        return net.connect({ host: "127.0.0.1", port: ws.port });
      },
    });
    const reply = new Promise((resolve) => client.once("message", resolve));
    await client.send("custom");
    expect(await reply).toBe("custom");
    await client.close();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      host: "service.invalid",
      port: 1234,
      secure: false,
      socketPath: undefined,
    });
    expect(calls[0]?.url.href).toBe("ws://service.invalid:1234/x");
    expect(calls[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(ws.requests.at(-1)?.headers.host).toBe("service.invalid:1234");
  });

  it("accepts a promise of any Duplex (here: a hand-made one bridging to a socket)", async () => {
    const client = await connect("ws://bridge/", {
      reconnect: false,
      heartbeat: false,
      createConnection: async () => {
        const socket = net.connect({ host: "127.0.0.1", port: ws.port });
        await once(socket, "connect");
        const bridge: Duplex = new Duplex({
          read() {
            socket.resume();
          },
          write(chunk, _encoding, callback) {
            socket.write(chunk, callback);
          },
          destroy(err, callback) {
            socket.destroy();
            callback(err);
          },
        });
        socket.on("data", (d) => {
          if (!bridge.push(d)) socket.pause();
        });
        socket.on("end", () => bridge.push(null));
        socket.on("close", () => bridge.destroy());
        return bridge;
      },
    });
    const reply = new Promise((resolve) => client.once("message", resolve));
    await client.send("bridged");
    expect(await reply).toBe("bridged");
    await client.close();
  });

  it("handshakeTimeout bounds a createConnection that does not settle; a late stream is destroyed", async () => {
    let deliver: (d: Duplex) => void = () => {};
    let signal: AbortSignal | undefined;
    const err = await connect("ws://x/", {
      reconnect: false,
      handshakeTimeout: 50,
      createConnection: (o) => {
        signal = o.signal;
        return new Promise<Duplex>((resolve) => {
          deliver = resolve;
        });
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HandshakeTimeoutError);
    expect(signal?.aborted).toBe(true);
    const late = net.connect({ host: "127.0.0.1", port: ws.port });
    deliver(late);
    await vi.waitFor(() => expect(late.destroyed).toBe(true));
  });

  it("a throwing createConnection is a ConnectError", async () => {
    const err = await connect("ws://x/", {
      reconnect: false,
      createConnection: () => {
        throw new Error("no route");
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toMatch(/no route/);
  });

  it("validates the option", () => {
    expect(
      () => new WebSocketClient("ws://x", { createConnection: "net" as unknown as () => Duplex }),
    ).toThrow(TypeError);
  });
});

describe("socket options: localAddress, family, lookup", () => {
  let ws: WsTestServer;
  let ws6: WsTestServer;
  beforeAll(async () => {
    ws = await startWsServer();
    ws6 = await startWsServer({ host: "::1" });
  });
  afterAll(async () => {
    await ws.close();
    await ws6.close();
  });

  /** Connects, checks one echo, closes; resolves with the server-side remote address. */
  async function echoFrom(server: WsTestServer, url: string, o: WebSocketClientOptions) {
    const client = await connect(url, { reconnect: false, heartbeat: false, proxy: false, ...o });
    const reply = new Promise((resolve) => client.once("message", resolve));
    await client.send("hi");
    expect(await reply).toBe("hi");
    const remoteAddress = server.requests.at(-1)?.socket.remoteAddress;
    await client.close();
    return remoteAddress;
  }

  it("connects from localAddress: the server sees it", async () => {
    // All of 127.0.0.0/8 is loopback on Linux: 127.0.0.2 differs from what the OS would choose.
    expect(await echoFrom(ws, ws.url, { localAddress: "127.0.0.2" })).toBe("127.0.0.2");
    expect(await echoFrom(ws, ws.url, { localAddress: "127.0.0.1" })).toBe("127.0.0.1");
  });

  it("resolves the host with lookup, called with the host name and the family", async () => {
    const calls: { hostname: string; family: unknown }[] = [];
    const lookup: net.LookupFunction = (hostname, options, callback) => {
      calls.push({ hostname, family: options.family });
      // Answers by family: 6 gets the IPv6 loopback, where only ws6 listens on this port.
      const address = options.family === 6 ? "::1" : "127.0.0.1";
      const family = options.family === 6 ? 6 : 4;
      if (options.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const url = `ws://tideway.test:${ws.port}/`;
    expect(await echoFrom(ws, url, { lookup })).toBe("127.0.0.1");
    expect(calls[0]?.hostname).toBe("tideway.test");
    const url6 = `ws://tideway.test:${ws6.port}/`;
    expect(await echoFrom(ws6, url6, { lookup, family: 6 })).toBe("::1");
    expect(calls.at(-1)).toEqual({ hostname: "tideway.test", family: 6 });
    expect(ws6.requests.at(-1)?.headers.host).toBe(`tideway.test:${ws6.port}`);
  });

  it("connects to ::1 with family: 6", async () => {
    expect(await echoFrom(ws6, ws6.url, { family: 6 })).toBe("::1");
  });

  it("validates the options", () => {
    expect(() => new WebSocketClient("ws://h/", { localAddress: "" })).toThrow(/localAddress/);
    expect(() => new WebSocketClient("ws://h/", { family: 5 as 4 })).toThrow(/family must be one of \[4,6\]/);
    expect(() => new WebSocketClient("ws://h/", { lookup: "dns" as never })).toThrow(
      /lookup must be a function/,
    );
  });
});
