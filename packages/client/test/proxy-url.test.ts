import { describe, expect, it } from "vitest";
import { WebSocketClient } from "../src/client.js";
import { parseProxy } from "../src/proxy-url.js";

describe("parseProxy", () => {
  it.each([
    [
      "http://user:pass@proxy.example:3128",
      "http",
      "proxy.example",
      3128,
      "user",
      "pass",
      "http://proxy.example:3128",
    ],
    ["http://proxy.example", "http", "proxy.example", 80, "", "", "http://proxy.example"],
    ["https://proxy.example", "https", "proxy.example", 443, "", "", "https://proxy.example"],
    ["socks5://p:1081", "socks5", "p", 1081, "", "", "socks5://p:1081"],
    ["socks5h://u%40x:p%3Aw@p", "socks5h", "p", 1080, "u@x", "p:w", "socks5h://p"],
    ["socks://p", "socks5h", "p", 1080, "", "", "socks://p"],
    ["socks4://p", "socks4", "p", 1080, "", "", "socks4://p"],
    ["socks4a://p", "socks4a", "p", 1080, "", "", "socks4a://p"],
    ["http://[::1]:8080", "http", "::1", 8080, "", "", "http://[::1]:8080"],
  ])("%s", (input, kind, host, port, username, password, display) => {
    expect(parseProxy(input)).toEqual({ kind, host, port, username, password, display });
  });

  it.each(["ftp://proxy", "proxy:3128", "not a url", "socks5://"])("rejects %s with a TypeError", (input) => {
    expect(() => parseProxy(input)).toThrow(TypeError);
  });

  it("is checked when the client is made", () => {
    expect(() => new WebSocketClient("ws://x", { proxy: "ftp://p" })).toThrow(/Unsupported proxy scheme/);
  });
});
