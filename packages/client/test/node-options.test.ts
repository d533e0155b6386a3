import { describe, expect, it } from "vitest";
import { WebSocketClient } from "../src/index.js";
import { parseUnixUrl } from "../src/node-options.js";

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
