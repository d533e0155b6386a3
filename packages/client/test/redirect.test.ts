import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { UnexpectedResponseError } from "@tideway/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { connect, WebSocketClient } from "../src/client.js";
import { InvalidRedirectError, TooManyRedirectsError } from "../src/errors.js";
import type { RedirectInfo } from "../src/events.js";
import { type Hop, nextHop, resolveLocation } from "../src/redirect.js";
import { type Cert, makeCert, startWssServer, type WsTestServer } from "./helpers/servers.js";

function redirectError(status: number, location?: string): UnexpectedResponseError {
  const headers: Record<string, string> = location === undefined ? {} : { location };
  return new UnexpectedResponseError(
    { status, statusText: "Redirect", headers, rawHeaders: Object.entries(headers) },
    new Uint8Array(),
  );
}

describe("resolveLocation", () => {
  const base = new URL("ws://a.test:8080/dir/page?q=1");
  it.each([
    ["/root", "ws://a.test:8080/root"],
    ["next", "ws://a.test:8080/dir/next"],
    ["?q=2", "ws://a.test:8080/dir/page?q=2"],
    ["//b.test/x", "ws://b.test/x"],
    ["http://b.test/x", "ws://b.test/x"],
    ["https://b.test/x", "wss://b.test/x"],
    ["HTTPS://b.test:444/x", "wss://b.test:444/x"],
    ["ws://b.test/x", "ws://b.test/x"],
    ["wss://b.test/x", "wss://b.test/x"],
    ["wss://b.test/x#frag", "wss://b.test/x"],
    ["  /trimmed  ", "ws://a.test:8080/trimmed"],
  ])("%s -> %s", (location, expected) => {
    expect(resolveLocation(base, 302, location).href).toBe(expected);
  });

  it("resolves against a wss: URL with https semantics", () => {
    expect(resolveLocation(new URL("wss://a.test/x"), 301, "//b.test/y").href).toBe("wss://b.test/y");
  });

  it.each([
    [undefined, /no Location header/],
    ["", /no Location header/],
    ["ftp://b.test/", /unsupported scheme/],
    ["mailto:x@y", /unsupported scheme/],
    ["http://[bad", /invalid Location/],
  ])("rejects %s with an InvalidRedirectError", (location, message) => {
    const err = (() => {
      try {
        resolveLocation(base, 302, location);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidRedirectError);
    expect(err).toMatchObject({ code: "WS_ERR_INVALID_REDIRECT", status: 302, location, message });
  });
});

describe("nextHop", () => {
  const hop: Hop = {
    url: new URL("ws://u:p@a.test/start"),
    headers: { Authorization: "Bearer t", cookie: "c=1", "Proxy-Authorization": "Basic x", "X-Keep": "1" },
    socketPath: "/tmp/s.sock",
  };

  it.each([301, 302, 303, 307, 308])("follows %i", (status) => {
    expect(nextHop(hop, redirectError(status, "/next"), 0, 10)?.url.pathname).toBe("/next");
  });

  it.each([300, 304, 305, 200, 401, 404, 500])("does not follow %i", (status) => {
    expect(nextHop(hop, redirectError(status, "/next"), 0, 10)).toBeUndefined();
  });

  it("ignores errors that are not an unexpected response", () => {
    expect(nextHop(hop, new Error("ECONNREFUSED"), 0, 10)).toBeUndefined();
    expect(nextHop(hop, { status: 302, headers: { location: "/x" } }, 0, 10)).toBeUndefined();
  });

  it("same origin: keeps headers, URL credentials and the socket path", () => {
    const next = nextHop(hop, redirectError(302, "/next"), 0, 10);
    expect(next?.url.href).toBe("ws://u:p@a.test/next");
    expect(next?.headers).toBe(hop.headers);
    expect(next?.socketPath).toBe("/tmp/s.sock");
  });

  it("same origin: credentials in the Location win", () => {
    expect(nextHop(hop, redirectError(302, "ws://v:q@a.test/x"), 0, 10)?.url.href).toBe("ws://v:q@a.test/x");
  });

  it.each([
    ["another host", "ws://b.test/next"],
    ["another port", "ws://a.test:81/next"],
    ["another scheme", "https://a.test/next"],
  ])("%s: drops every header, the URL credentials and the socket path", (_l, loc) => {
    const next = nextHop(hop, redirectError(307, loc), 0, 10);
    expect(next?.url.username).toBe("");
    expect(next?.url.password).toBe("");
    expect(next?.headers).toEqual([]);
    expect(next?.socketPath).toBeUndefined();
  });

  it("another origin: keeps the headers named in forwardHeaders, credentials included if named", () => {
    const next = nextHop(
      hop,
      redirectError(307, "ws://b.test/"),
      0,
      10,
      new Set(["x-keep", "authorization"]),
    );
    expect(next?.headers).toEqual([
      ["Authorization", "Bearer t"],
      ["X-Keep", "1"],
    ]);
  });

  it("filters header pairs given as an array, whatever their case", () => {
    const next = nextHop(
      {
        ...hop,
        headers: [
          ["AUTHORIZATION", "x"],
          ["Cookie", "y"],
          ["X-A", "1"],
          ["x-b", "2"],
        ],
      },
      redirectError(302, "ws://b.test/"),
      0,
      10,
      new Set(["x-a"]),
    );
    expect(next?.headers).toEqual([["X-A", "1"]]);
  });

  it("quotes a refused Location and the refused hop without credentials", () => {
    const refused = () => nextHop(hop, redirectError(302, "ftp://u:secret@b.test/"), 0, 10);
    expect(refused).toThrow(InvalidRedirectError);
    expect(refused).toThrow('unsupported scheme in Location "ftp://b.test/"');
    const tooMany = () => nextHop(hop, redirectError(302, "ws://u:secret@b.test/x"), 1, 1);
    expect(tooMany).toThrow(TooManyRedirectsError);
    expect(tooMany).toThrow("Too many redirects (maxRedirects is 1): ws://b.test/x");
  });

  it("throws TooManyRedirectsError once `max` redirects were followed", () => {
    expect(nextHop(hop, redirectError(302, "/x"), 9, 10)).toBeDefined();
    const err = (() => {
      try {
        nextHop(hop, redirectError(302, "/x"), 10, 10);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TooManyRedirectsError);
    expect(err).toMatchObject({
      code: "WS_ERR_TOO_MANY_REDIRECTS",
      maxRedirects: 10,
      to: "ws://a.test/x", // without the user:pass the hop carries
    });
  });
});

/**
 * A real HTTP server on loopback: `/ws` upgrades (a `ws` echo server), `/r/<status>/<n>` answers
 * `status` with Location `/r/<status>/<n-1>` down to `/ws`; other routes below.
 */
describe("redirects from a real HTTP server", () => {
  let server: Server;
  let port: number;
  let cert: Cert;
  let wss: WsTestServer;
  const wsServer = new WebSocketServer({ noServer: true });
  const upgrades: IncomingMessage[] = [];
  wsServer.on("connection", (ws: WebSocket) => ws.on("message", (d, binary) => ws.send(d, { binary })));

  function answer(socket: Duplex, status: number, location?: string) {
    socket.end(
      `HTTP/1.1 ${status} Redirect\r\n${location === undefined ? "" : `Location: ${location}\r\n`}` +
        "Content-Length: 0\r\nConnection: close\r\n\r\n",
    );
  }

  beforeAll(async () => {
    cert = makeCert();
    wss = await startWssServer(cert);
    server = createServer();
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgrades.push(req);
      const url = req.url ?? "/";
      const chain = /^\/r\/(\d+)\/(\d+)$/.exec(url);
      if (url === "/ws") {
        wsServer.handleUpgrade(req, socket, head, (ws) => wsServer.emit("connection", ws, req));
      } else if (chain) {
        const n = Number(chain[2]);
        answer(socket, Number(chain[1]), n > 1 ? `/r/${chain[1]}/${n - 1}` : "/ws");
      } else if (url === "/mixed") {
        answer(socket, 301, `http://127.0.0.1:${port}/r/308/1`); // http: Location -> ws:
      } else if (url === "/cross") {
        answer(socket, 302, `ws://localhost:${port}/ws`); // another origin: another host name
      } else if (url === "/to-wss") {
        answer(socket, 307, `https://localhost:${wss.port}/`);
      } else if (url === "/loop") {
        answer(socket, 302, "/loop");
      } else if (url === "/nowhere") {
        answer(socket, 302);
      } else {
        socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      }
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const c of wsServer.clients) c.terminate();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await wss.close();
  });

  const base = () => `ws://127.0.0.1:${port}`;

  async function follow(path: string, options: ConstructorParameters<typeof WebSocketClient>[1] = {}) {
    const client = new WebSocketClient(`${base()}${path}`, {
      reconnect: false,
      heartbeat: false,
      followRedirects: true,
      ...options,
    });
    const redirects: RedirectInfo[] = [];
    client.on("redirect", (info) => redirects.push(info));
    const errors: unknown[] = [];
    client.on("error", (e) => errors.push(e));
    const result: { echo?: unknown; error?: unknown } = await client.connect().then(
      async () => {
        const reply = new Promise((resolve) => client.once("message", resolve));
        await client.send("after redirects");
        return { echo: await reply };
      },
      (error: unknown) => ({ error }),
    );
    await client.close();
    return { ...result, redirects, errors };
  }

  it("without followRedirects a 302 stays an UnexpectedResponseError", async () => {
    const err = await connect(`${base()}/r/302/1`, { reconnect: false, heartbeat: false }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect(err).toMatchObject({ status: 302 });
  });

  it.each([301, 302, 303, 307, 308])("follows a chain of %i and reports each hop", async (status) => {
    const r = await follow(`/r/${status}/2`);
    expect(r.echo).toBe("after redirects");
    expect(r.redirects).toEqual([
      { from: `${base()}/r/${status}/2`, to: `${base()}/r/${status}/1`, status },
      { from: `${base()}/r/${status}/1`, to: `${base()}/ws`, status },
    ]);
    expect(r.errors).toEqual([]);
  });

  it("maps an http: Location to ws:", async () => {
    const r = await follow("/mixed");
    expect(r.echo).toBe("after redirects");
    expect(r.redirects.map((x) => x.to)).toEqual([`${base()}/r/308/1`, `${base()}/ws`]);
  });

  it("maps an https: Location to wss:", async () => {
    const r = await follow("/to-wss", { tls: { ca: cert.cert } });
    expect(r.echo).toBe("after redirects");
    expect(r.redirects).toEqual([
      { from: `${base()}/to-wss`, to: `wss://localhost:${wss.port}/`, status: 307 },
    ]);
  });

  it("keeps Authorization and Cookie on the same origin", async () => {
    upgrades.length = 0;
    await follow("/r/302/1", {
      headers: { Authorization: "Bearer secret", Cookie: "session=1", "X-Trace": "t" },
    });
    const last = upgrades.at(-1);
    expect(last?.url).toBe("/ws");
    expect(last?.headers).toMatchObject({
      authorization: "Bearer secret",
      cookie: "session=1",
      "x-trace": "t",
    });
  });

  it("keeps the URL's user:pass on the same origin", async () => {
    upgrades.length = 0;
    const client = await connect(`ws://u:p@127.0.0.1:${port}/r/301/1`, {
      reconnect: false,
      heartbeat: false,
      followRedirects: true,
    });
    await client.close();
    expect(upgrades.map((u) => u.headers.authorization)).toEqual([
      `Basic ${Buffer.from("u:p").toString("base64")}`,
      `Basic ${Buffer.from("u:p").toString("base64")}`,
    ]);
  });

  it("drops every header the user gave and user:pass when the origin changes", async () => {
    upgrades.length = 0;
    const r = await follow("/cross", {
      headers: {
        Authorization: "Bearer secret",
        Cookie: "session=1",
        "Proxy-Authorization": "x",
        "X-Api-Key": "key",
      },
    });
    expect(r.echo).toBe("after redirects");
    expect(upgrades.map((u) => [u.headers.host, u.headers.authorization, u.headers["x-api-key"]])).toEqual([
      [`127.0.0.1:${port}`, "Bearer secret", "key"],
      [`localhost:${port}`, undefined, undefined],
    ]);
    expect(upgrades[1]?.headers.cookie).toBeUndefined();
    expect(upgrades[1]?.headers["proxy-authorization"]).toBeUndefined();

    upgrades.length = 0;
    const client = await connect(`ws://u:p@127.0.0.1:${port}/cross`, {
      reconnect: false,
      heartbeat: false,
      followRedirects: true,
    });
    await client.close();
    expect(upgrades.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("forwards to another origin the headers named in forwardHeaders, and only those", async () => {
    upgrades.length = 0;
    const r = await follow("/cross", {
      headers: [
        ["X-Api-Key", "key"],
        ["X-Trace", "t"],
        ["Authorization", "Bearer secret"],
      ],
      forwardHeaders: ["x-trace", "X-API-KEY"],
    });
    expect(r.echo).toBe("after redirects");
    const last = upgrades.at(-1);
    expect(last?.headers.host).toBe(`localhost:${port}`);
    expect(last?.headers["x-api-key"]).toBe("key");
    expect(last?.headers["x-trace"]).toBe("t");
    expect(last?.headers.authorization).toBeUndefined();
  });

  it("reports redirects without the URL's user:pass", async () => {
    const client = new WebSocketClient(`ws://user:secret@127.0.0.1:${port}/r/302/1`, {
      reconnect: false,
      heartbeat: false,
      followRedirects: true,
    });
    const redirects: RedirectInfo[] = [];
    client.on("redirect", (info) => redirects.push(info));
    await client.connect();
    await client.close();
    expect(redirects).toEqual([{ from: `${base()}/r/302/1`, to: `${base()}/ws`, status: 302 }]);

    const looping = new WebSocketClient(`ws://user:secret@127.0.0.1:${port}/loop`, {
      reconnect: false,
      heartbeat: false,
      followRedirects: true,
      maxRedirects: 1,
    });
    const seen: RedirectInfo[] = [];
    looping.on("redirect", (info) => seen.push(info));
    looping.on("error", () => {});
    const err = await looping.connect().catch((e: unknown) => e);
    looping.terminate();
    expect(err).toBeInstanceOf(TooManyRedirectsError);
    expect(err).toMatchObject({ to: `${base()}/loop` });
    expect(JSON.stringify([seen, (err as Error).message])).not.toContain("secret");
  });

  it("stops after maxRedirects with a TooManyRedirectsError, not retried", async () => {
    const client = new WebSocketClient(`${base()}/loop`, {
      heartbeat: false,
      followRedirects: true,
      maxRedirects: 3,
      reconnect: { retries: 3, minTimeout: 1, maxTimeout: 1 },
    });
    let redirects = 0;
    let reconnecting = 0;
    client.on("redirect", () => redirects++);
    client.on("reconnecting", () => reconnecting++);
    client.on("error", () => {});
    const err = await client.connect().catch((e: unknown) => e);
    client.terminate();
    expect(err).toBeInstanceOf(TooManyRedirectsError);
    expect(err).toMatchObject({ code: "WS_ERR_TOO_MANY_REDIRECTS", maxRedirects: 3, to: `${base()}/loop` });
    expect(redirects).toBe(3);
    expect(reconnecting).toBe(0);
  });

  it("maxRedirects: 0 refuses the first redirect", async () => {
    const r = await follow("/r/302/1", { maxRedirects: 0 });
    expect(r.error).toBeInstanceOf(TooManyRedirectsError);
    expect(r.redirects).toEqual([]);
    expect(r.errors).toEqual([r.error]);
  });

  it("a redirect without Location is an InvalidRedirectError", async () => {
    const r = await follow("/nowhere");
    expect(r.error).toBeInstanceOf(InvalidRedirectError);
    expect(r.error).toMatchObject({ status: 302, location: undefined });
  });

  it("validates the options", () => {
    expect(() => new WebSocketClient("ws://x", { maxRedirects: -1 })).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://x", { maxRedirects: 1.5 })).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://x", { followRedirects: "yes" as unknown as boolean })).toThrow(
      TypeError,
    );
    expect(() => new WebSocketClient("ws://x", { forwardHeaders: ["bad name"] })).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://x", { forwardHeaders: "x-a" as unknown as string[] })).toThrow(
      TypeError,
    );
  });
});
