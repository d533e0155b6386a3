import { describe, expect, it } from "vitest";
import { DEFAULT_HEARTBEAT, DEFAULT_MAX_REDIRECTS, WebSocketClient } from "../src/index.js";
import {
  checkHeaders,
  NODE_DEFAULTS,
  NODE_OPTION_NAMES,
  parseUnixUrl,
  resolveNodeOptions,
} from "../src/node-options.js";
import { resolveOptions } from "../src/options.js";

const resolve = (o: Parameters<typeof resolveNodeOptions>[0]) => resolveNodeOptions(o, undefined);

describe("resolveNodeOptions", () => {
  it("gives every option not given as undefined or its default, so that the defaults (NODE_DEFAULTS) apply", () => {
    const defaults: Record<string, unknown> = NODE_DEFAULTS;
    for (const [key, value] of Object.entries(resolve({})))
      expect([undefined, defaults[key]]).toContain(value);
    const o = resolveOptions("ws://127.0.0.1:1/");
    expect(o).toMatchObject(NODE_DEFAULTS);
    expect(o.heartbeat).toBe(DEFAULT_HEARTBEAT);
    expect(o.maxRedirects).toBe(DEFAULT_MAX_REDIRECTS);
    expect(o.receive).toBe("message");
    expect(o.maxStreamedPayload).toBe(Number.POSITIVE_INFINITY);
    expect(o.forwardHeaders.size).toBe(0);
    expect(Object.keys(o)).toEqual(["href"]);
  });

  it("keeps what is given: a headers value (a function is a provider), heartbeat, receive, limits", () => {
    const headers = { a: "b" };
    expect(resolve({ headers }).headers).toBe(headers);
    expect(resolve({ headers: () => headers }).headers).toBeUndefined();
    expect(resolve({ heartbeat: false }).heartbeat).toBe(false);
    expect(resolve({ heartbeat: { interval: 5 } }).heartbeat).toEqual({ interval: 5, timeout: 10_000 });
    expect(resolve({ receive: "stream", maxStreamedPayload: 9 })).toMatchObject({
      receive: "stream",
      maxStreamedPayload: 9,
    });
    expect(resolve({ maxStreamedPayload: Number.POSITIVE_INFINITY }).maxStreamedPayload).toBeUndefined();
    expect(resolve({ forwardHeaders: ["Cookie"] }).forwardHeaders).toEqual(new Set(["cookie"]));
    expect(resolve({ family: 6 }).socket).toEqual({ localAddress: undefined, family: 6, lookup: undefined });
  });

  it.each([
    [{ heartbeat: { interval: 0 } }, "Option heartbeat.interval must be a finite number >= 1, got 0"],
    [
      { heartbeat: { timeout: Number.POSITIVE_INFINITY } },
      "Option heartbeat.timeout must be a finite number >= 1, got Infinity",
    ],
    [{ heartbeat: { interval: 1, beat: 2 } }, "Unknown option: heartbeat.beat"],
    [{ receive: "all" }, 'Option receive must be one of ["message","stream"], got all'],
    [{ maxStreamedPayload: 0 }, "Option maxStreamedPayload must be a positive integer or Infinity, got 0"],
    [{ maxPayload: 0 }, "Option maxPayload must be a finite number >= 1, got 0"],
    [{ maxHeadSize: Number.NaN }, "Option maxHeadSize must be a finite number >= 1, got NaN"],
    [{ followRedirects: 1 }, "Option followRedirects must be a boolean"],
    [{ maxRedirects: 1.5 }, "Option maxRedirects must be an integer"],
    [{ forwardHeaders: ["bad name"] }, "Option forwardHeaders must be an array of header names"],
    [{ socketPath: "" }, "Option socketPath must be a non-empty string"],
    [{ createConnection: {} }, "Option createConnection must be a function"],
    [{ localAddress: "" }, "Option localAddress must be a non-empty string (an IP address)"],
    [{ family: 5 }, "Option family must be one of [4,6], got 5"],
    [{ lookup: "dns" }, "Option lookup must be a function, as dns.lookup"],
    [{ perMessageDeflate: "yes" }, "Option perMessageDeflate must be a boolean or an object"],
  ])("refuses %o: %s", (o, message) => {
    expect(() => resolve(o as never)).toThrow(new TypeError(message));
  });

  it("names only options of WebSocketClientOptions, each once", () => {
    expect(new Set(NODE_OPTION_NAMES).size).toBe(NODE_OPTION_NAMES.length);
    expect(() =>
      resolveOptions("ws://127.0.0.1:1/", Object.fromEntries(NODE_OPTION_NAMES.map((n) => [n, undefined]))),
    ).not.toThrow();
  });
});

describe("checkHeaders", () => {
  it("passes a record or a list of pairs as given, and refuses anything else", () => {
    const pairs = [["a", "b"]] as const;
    expect(checkHeaders(pairs)).toBe(pairs);
    expect(() => checkHeaders(null as never)).toThrow(
      new TypeError("Option headers must be a record or a list of [name, value] pairs"),
    );
  });
});

describe("parseUnixUrl", () => {
  it.each([
    ["ws+unix:///tmp/app.sock:/chat", "/tmp/app.sock", "ws://localhost/chat"],
    ["ws+unix:///tmp/app.sock:/chat?room=1", "/tmp/app.sock", "ws://localhost/chat?room=1"],
    ["ws+unix:///tmp/app.sock", "/tmp/app.sock", "ws://localhost/"],
    ["ws+unix:///tmp/app.sock:", "/tmp/app.sock", "ws://localhost/"],
    ["ws+unix:/tmp/app.sock:/chat", "/tmp/app.sock", "ws://localhost/chat"],
    ["wss+unix:///run/a%20b.sock:/x", "/run/a b.sock", "wss://localhost/x"],
    ["WS+UNIX:///tmp/app.sock:/y", "/tmp/app.sock", "ws://localhost/y"],
  ])("%s -> socket %s, request %s", (input, socketPath, url) => {
    const parsed = parseUnixUrl(input);
    expect(parsed?.socketPath).toBe(socketPath);
    expect(parsed?.url.href).toBe(url);
  });

  it("returns undefined for other schemes", () => {
    expect(parseUnixUrl("ws://localhost/")).toBeUndefined();
  });

  it.each(["ws+unix://", "ws+unix:///tmp/a.sock:/x#frag"])("rejects %s", (input) => {
    expect(() => parseUnixUrl(input)).toThrow(TypeError);
  });

  it("refuses a socket path given twice", () => {
    expect(() => new WebSocketClient("ws+unix:///tmp/a.sock:/", { socketPath: "/tmp/b.sock" })).toThrow(
      /either in a ws\+unix: URL or as socketPath/,
    );
  });
});
