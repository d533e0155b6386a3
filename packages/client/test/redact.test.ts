import { describe, expect, it } from "vitest";
import { WebSocketClient } from "../src/client.js";
import { REDACTED, redactHeaders, redactUrl } from "../src/redact.js";

describe("redactUrl", () => {
  it.each<[string, string | URL, string]>([
    ["user and password", "ws://user:pass@h:1/p?q", "ws://h:1/p?q"],
    ["a user alone (a token)", "wss://TOKEN@h/", "wss://h/"],
    ["an empty password", new URL("ws://u:@h/"), "ws://h/"],
    ["an @ in the password, up to the last @", "ws://u:p@ss@h/x", "ws://h/x"],
    ["percent-encoded credentials", new URL("ws://u%40x:p%3Aw@h/"), "ws://h/"],
    ["a proxy URL", "socks5h://u:p@proxy:1080", "socks5h://proxy:1080"],
    ["text that is not a URL", "ws://u:p@bad host/", "ws://bad host/"],
  ])("drops %s", (_label, input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each([
    ["no credentials", "ws://h/path"],
    ["an @ in the path", "ws://h/a@b"],
    ["an @ in the query", "ws://h/?mail=a@b"],
    ["no scheme", "user:pass@h"],
  ])("keeps a URL with %s as it is", (_label, input) => {
    expect(redactUrl(input)).toBe(input);
  });
});

describe("redactHeaders", () => {
  it("replaces the values of credential headers, whatever their case, and keeps the rest in order", () => {
    const pairs: [string, string][] = [
      ["Host", "h"],
      ["authorization", "Bearer secret"],
      ["Proxy-Authorization", "Basic c2VjcmV0"],
      ["COOKIE", "sid=secret"],
      ["Set-Cookie", "sid=secret; HttpOnly"],
      ["X-Trace", "abc"],
    ];
    expect(redactHeaders(pairs)).toEqual([
      ["Host", "h"],
      ["authorization", REDACTED],
      ["Proxy-Authorization", REDACTED],
      ["COOKIE", REDACTED],
      ["Set-Cookie", REDACTED],
      ["X-Trace", "abc"],
    ]);
    expect(pairs[1]).toEqual(["authorization", "Bearer secret"]); // the input is left alone
  });
});

describe("credentials in the client's error messages", () => {
  it.each([
    ["an invalid URL", "ws://user:secret@bad host/"],
    ["a URL with a fragment", "ws://user:secret@h/#frag"],
    ["a ws+unix: URL with a fragment", "ws+unix://user:secret@/tmp/s.sock#x"],
  ])("are left out for %s", (_label, url) => {
    let message = "";
    try {
      new WebSocketClient(url);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toBe("");
    expect(message).not.toContain("secret");
  });

  it("are left out for an invalid proxy URL", () => {
    expect(() => new WebSocketClient("ws://h/", { proxy: "http://user:secret@" })).toThrow(TypeError);
    expect(() => new WebSocketClient("ws://h/", { proxy: "http://user:secret@" })).not.toThrow(/secret/);
  });
});
