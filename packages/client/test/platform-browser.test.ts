import { describe, expect, it, vi } from "vitest";
import type { WebSocket as WsWebSocket } from "ws";
import { appHeartbeat } from "../src/app-heartbeat.js";
import { WebSocketClient } from "../src/client.js";
import { resolveOptions, type WebSocketClientOptions } from "../src/options.js";
import { platform } from "../src/platform-browser.js";
import { take, useBrowserWebSocket, useCleanups, within, wsServer } from "./helpers/harness.js";

// The whole client as the browser build assembles it: platform-browser.ts, node-options-browser.ts and
// stream-send-browser.ts in place of their Node modules (redirect-browser.ts only ends what followRedirects would start).
vi.mock("../src/platform.js", () => import("../src/platform-browser.js"));
vi.mock("../src/node-options.js", () => import("../src/node-options-browser.js"));
vi.mock("../src/stream-send.js", () => import("../src/stream-send-browser.js"));

useCleanups();

useBrowserWebSocket();

const prepare = (o: WebSocketClientOptions, url = "wss://example.test/") =>
  platform.prepare(resolveOptions(url, o));

describe("the browser platform's option check", () => {
  it.each([
    ["headers", { headers: { authorization: "x" } }],
    ["headers", { headers: () => ({ authorization: "x" }) }],
    ["origin", { origin: "https://a.test" }],
    ["heartbeat", { heartbeat: { interval: 1000 } }],
    ["tls", { tls: { rejectUnauthorized: false } }],
    ["proxy", { proxy: "http://proxy.test:3128" }],
    ["socketPath", { socketPath: "/tmp/s.sock" }],
    ["createConnection", { createConnection: () => ({}) as never }],
    ["perMessageDeflate", { perMessageDeflate: false }],
    ["perMessageDeflate", { perMessageDeflate: { level: 1 } }],
    ["followRedirects", { followRedirects: true }],
    ["maxRedirects", { maxRedirects: 3 }],
    ["forwardHeaders", { forwardHeaders: ["cookie"] }],
    ["maxPayload", { maxPayload: 1024 }],
    ["receive", { receive: "stream" }],
    ["maxStreamedPayload", { maxStreamedPayload: 1024 }],
    ["maxHeadSize", { maxHeadSize: 1024 }],
    ["binaryType", { binaryType: "buffer" }],
  ] as const)("throws a TypeError naming %s, which a browser cannot honour", (name, o) => {
    expect(() => prepare(o as WebSocketClientOptions)).toThrow(TypeError);
    expect(() => prepare(o as WebSocketClientOptions)).toThrow(new RegExp(`Option ${name}`));
  });

  it("throws for a ws+unix: URL (a socket path), as for any URL not ws:, wss:, http: or https:", () => {
    expect(() => prepare({}, "ws+unix:///tmp/s.sock")).toThrow(
      new TypeError(
        "Invalid URL ws+unix:///tmp/s.sock: expected ws:, wss:, http: or https:, without #fragment",
      ),
    );
  });

  it("accepts the defaults, what a browser does anyway, and the browser-only options", () => {
    expect(prepare({})).toBeUndefined();
    expect(() =>
      prepare({
        heartbeat: false,
        proxy: false,
        perMessageDeflate: true,
        binaryType: "arraybuffer",
        protocols: ["chat"],
        appHeartbeat: appHeartbeat({ message: "ping", isReply: (m) => m === "pong" }),
        maxBufferedBytes: 1024,
      }),
    ).not.toThrow();
  });

  it("refuses appHeartbeat given as plain options, naming appHeartbeat() that makes it", () => {
    expect(() => prepare({ appHeartbeat: { message: "ping", isReply: () => true } as never })).toThrow(
      new TypeError("Option appHeartbeat must be made by appHeartbeat()"),
    );
    expect(() => prepare({ appHeartbeat: null as never })).toThrow(/made by appHeartbeat\(\)/);
  });

  it("rejects a send() from a stream with a TypeError: a browser's WebSocket sends whole messages", async () => {
    const client = new WebSocketClient("wss://example.test/", { reconnect: false });
    async function* source() {
      yield "never sent";
    }
    await expect(client.send(source())).rejects.toThrow(/not available in a browser/);
  });

  it("makes the WebSocketClient constructor throw, not a later connect()", () => {
    expect(() => new WebSocketClient("ws://127.0.0.1:1", { headers: { a: "b" } })).toThrow(
      /not available in a browser/,
    );
  });
});

describe("WebSocketClient over the browser platform", () => {
  it("connects, iterates, sends with the queue flushed after onOpen, reconnects after a drop, and closes", async () => {
    const server = await wsServer();
    const c = new WebSocketClient(server.url, {
      heartbeat: false,
      reconnect: { minTimeout: 10, maxTimeout: 50 },
      onOpen: (session) => session.send("hello from onOpen"),
    });
    const queued = c.send("queued before open");
    const it = c[Symbol.asyncIterator]();
    await within(c.connect(), 3000, "connect");
    await queued;
    expect(await within(take(it, 2), 3000, "onOpen's message, then the queued one")).toEqual([
      "hello from onOpen",
      "queued before open",
    ]);
    (server.clients[0] as WsWebSocket).terminate();
    const reopened = new Promise((resolve) => c.once("open", resolve));
    await within(reopened, 3000, "reconnect");
    await c.send(new Uint8Array([7]));
    expect(await within(take(it, 2), 3000, "after the reconnect")).toEqual([
      "hello from onOpen",
      new Uint8Array([7]),
    ]);
    await within(c.close(), 3000, "close");
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it("connects to the URL and with the protocols the option functions return", async () => {
    const server = await wsServer();
    const c = new WebSocketClient(async () => server.url, { heartbeat: false, protocols: () => ["chat"] });
    const response = await within(c.connect(), 3000, "connect");
    expect(response.protocol).toBe("chat");
    expect(c.url).toBe(`${server.url}/`);
    await within(c.close(), 3000, "close");
  });
});
