import { describe, expect, it } from "vitest";
import { type Env, matchesNoProxy, proxyFromEnv } from "../src/proxy-env.js";

describe("proxyFromEnv: which variable, by target scheme", () => {
  const ALL = {
    wss_proxy: "http://wss",
    ws_proxy: "http://ws",
    https_proxy: "http://https",
    http_proxy: "http://http",
    all_proxy: "http://all",
  };
  it.each<[string, string, Record<string, string>, string | undefined]>([
    ["wss: prefers wss_proxy", "wss://h/", ALL, "http://wss"],
    ["ws: prefers ws_proxy", "ws://h/", ALL, "http://ws"],
    [
      "wss: then https_proxy",
      "wss://h/",
      { https_proxy: "http://https", http_proxy: "http://http" },
      "http://https",
    ],
    [
      "ws: then http_proxy",
      "ws://h/",
      { https_proxy: "http://https", http_proxy: "http://http" },
      "http://http",
    ],
    ["wss: never http_proxy", "wss://h/", { http_proxy: "http://http", ws_proxy: "http://ws" }, undefined],
    ["ws: never https_proxy", "ws://h/", { https_proxy: "http://https", wss_proxy: "http://wss" }, undefined],
    ["wss: then all_proxy", "wss://h/", { all_proxy: "socks5h://all" }, "socks5h://all"],
    ["ws: then all_proxy", "ws://h/", { ALL_PROXY: "socks5h://all" }, "socks5h://all"],
    ["upper case names", "wss://h/", { WSS_PROXY: "http://W", HTTPS_PROXY: "http://H" }, "http://W"],
    [
      "lower case wins over upper case",
      "ws://h/",
      { http_proxy: "http://lower", HTTP_PROXY: "http://upper" },
      "http://lower",
    ],
    ["an empty variable is unset", "ws://h/", { ws_proxy: "", http_proxy: "http://http" }, "http://http"],
    ["blank is unset too", "ws://h/", { ws_proxy: "  " }, undefined],
    ["no scheme means http://", "ws://h/", { http_proxy: "proxy.local:3128" }, "http://proxy.local:3128"],
    ["surrounding spaces are trimmed", "ws://h/", { http_proxy: " http://p:1 " }, "http://p:1"],
    ["nothing set", "ws://h/", {}, undefined],
  ])("%s", (_label, target, env, expected) => {
    expect(proxyFromEnv(new URL(target), env)).toBe(expected);
  });

  it.each<[string, Record<string, string>, string | undefined]>([
    ["no_proxy matches: direct", { http_proxy: "http://p", no_proxy: "h" }, undefined],
    ["NO_PROXY works too", { http_proxy: "http://p", NO_PROXY: "h" }, undefined],
    ["no_proxy does not match: proxied", { http_proxy: "http://p", no_proxy: "other" }, "http://p"],
    ["no_proxy=* : direct", { http_proxy: "http://p", no_proxy: "*" }, undefined],
  ])("%s", (_label, env, expected) => {
    expect(proxyFromEnv(new URL("ws://h:8080/"), env)).toBe(expected);
  });

  /** An environment that refuses to read the named variables, as Deno's without --allow-env does. */
  function refusing(names: readonly string[], env: Record<string, string>): Env {
    return new Proxy(env, {
      get(target, name) {
        if (typeof name === "string" && names.includes(name)) {
          throw new Error(`NotCapable: Requires env access to "${name}"`);
        }
        return Reflect.get(target, name);
      },
    });
  }

  it("an environment that refuses every read means no proxy", () => {
    const env = refusing(["ws_proxy", "WS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"], {});
    expect(proxyFromEnv(new URL("ws://h/"), env)).toBeUndefined();
  });

  it("a variable whose read is refused counts as unset: the next one is read", () => {
    const env = refusing(["ws_proxy", "WS_PROXY"], { http_proxy: "http://p:1" });
    expect(proxyFromEnv(new URL("ws://h/"), env)).toBe("http://p:1");
  });
});

describe("proxyFromEnv: the target", () => {
  const env = { ws_proxy: "http://ws", wss_proxy: "http://wss", no_proxy: "direct.test" };

  it.each<[string, string | URL, string | undefined]>([
    ["a ws: string", "ws://h/", "http://ws"],
    ["a wss: string", "wss://h/", "http://wss"],
    ["an http: string, as ws:", "http://h/", "http://ws"],
    ["an https: string, as wss:", "https://h/", "http://wss"],
    ["an https: URL, as wss:", new URL("https://h/"), "http://wss"],
    ["a string no_proxy matches", "ws://direct.test:9000/", undefined],
  ])("takes %s", (_label, target, expected) => {
    expect(proxyFromEnv(target, env)).toBe(expected);
  });

  it.each([
    ["not a URL", "h:80 with spaces"],
    ["another scheme", "ftp://h/"],
    ["another scheme, as a URL", new URL("file:///tmp/x")],
  ])("refuses %s with a TypeError", (_label, target) => {
    expect(() => proxyFromEnv(target, env)).toThrow(TypeError);
    expect(() => proxyFromEnv(target, env)).toThrow(/ws:, wss:, http: or https:/);
  });

  it("quotes a refused target without its credentials", () => {
    expect(() => proxyFromEnv("ftp://user:secret@h/", env)).toThrow("got ftp://h/");
    expect(() => proxyFromEnv("ws://user:secret@h :1/", env)).toThrow("got ws://h :1/");
  });
});

describe("matchesNoProxy", () => {
  it.each<[string, string, string, boolean]>([
    // "*" alone matches everything; inside a list it does too (curl: "the only wildcard").
    ["*", "ws://anything.example/", "*", true],
    ["* in a list", "ws://a/", "foo, *", true],
    // Host names: exact, and every subdomain, with or without a leading dot; never a mere suffix.
    ["exact host", "ws://example.com/", "example.com", true],
    ["subdomain of a host entry", "ws://api.example.com/", "example.com", true],
    ["deep subdomain", "wss://a.b.example.com/", "example.com", true],
    ["leading dot: subdomain", "ws://api.example.com/", ".example.com", true],
    ["leading dot: the domain itself", "ws://example.com/", ".example.com", true],
    ["not a label boundary", "ws://badexample.com/", "example.com", false],
    ["not a label boundary (dot entry)", "ws://badexample.com/", ".example.com", false],
    ["a parent is not matched by a child entry", "ws://example.com/", "api.example.com", false],
    ["case-insensitive", "ws://API.Example.COM/", "example.com", true],
    ["entry case-insensitive", "ws://api.example.com/", "EXAMPLE.com", true],
    ["trailing dot of the host", "ws://example.com./", "example.com", true],
    ["trailing dot of the entry", "ws://example.com/", "example.com.", true],
    // Lists: commas, spaces, empty entries.
    ["comma list", "ws://b.test/", "a.test,b.test", true],
    ["comma and space list", "ws://b.test/", "a.test, b.test", true],
    ["space list", "ws://b.test/", "a.test b.test", true],
    ["empty entries", "ws://b.test/", ",, ,b.test,", true],
    ["no match in the list", "ws://c.test/", "a.test,b.test", false],
    ["empty list", "ws://c.test/", "", false],
    // IP addresses: exact only; no suffix matching on numbers.
    ["exact IPv4", "ws://127.0.0.1:9000/", "127.0.0.1", true],
    ["other IPv4", "ws://127.0.0.2/", "127.0.0.1", false],
    ["IPv4 is not suffix-matched", "ws://10.0.0.1/", "0.0.1", false],
    ["IPv6 without brackets", "ws://[::1]:9000/", "::1", true],
    ["IPv6 with brackets", "ws://[::1]/", "[::1]", true],
    ["IPv6 expanded form normalized by URL", "ws://[0:0:0:0:0:0:0:1]/", "::1", true],
    ["other IPv6", "ws://[::2]/", "::1", false],
    ["IPv4 CIDR /8", "ws://10.1.2.3/", "10.0.0.0/8", true],
    ["IPv4 CIDR /24 miss", "ws://192.168.2.1/", "192.168.1.0/24", false],
    ["IPv4 CIDR /32", "ws://192.168.1.7/", "192.168.1.7/32", true],
    ["CIDR does not match a host name", "ws://localhost/", "127.0.0.0/8", false],
    ["IPv6 CIDR /10", "ws://[fe80::1:2]/", "fe80::/10", true],
    ["IPv6 CIDR /10 miss", "ws://[2001:db8::1]/", "fe80::/10", false],
    ["IPv6 CIDR /128", "ws://[::1]/", "::1/128", true],
    ["IPv6 CIDR /128 miss", "ws://[::2]/", "::1/128", false],
    ["IPv6 CIDR /32 on a full address", "ws://[2001:db8:aaaa:1:2:3:4:5]/", "2001:db8::/32", true],
    ["IPv6 CIDR with an embedded IPv4 base", "ws://[::ffff:10.1.2.3]/", "::ffff:10.0.0.0/104", true],
    ["IPv6 CIDR never matches an IPv4 host", "ws://10.1.2.3/", "::/0", false],
    ["IPv4 CIDR never matches an IPv6 host", "ws://[::1]/", "0.0.0.0/0", false],
    ["malformed IPv6 CIDR matches nothing", "ws://[::1]/", "1::2::3/64", false],
    // Ports: host:port only on that port; the default port counts.
    ["host:port, same port", "ws://example.com:8080/", "example.com:8080", true],
    ["host:port, other port", "ws://example.com:8081/", "example.com:8080", false],
    ["host:port, default ws port", "ws://example.com/", "example.com:80", true],
    ["host:port, default wss port", "wss://example.com/", "example.com:443", true],
    ["host:port, wss default is not 80", "wss://example.com/", "example.com:80", false],
    ["host:port with subdomain", "ws://a.example.com:8080/", ".example.com:8080", true],
    ["IPv4:port", "ws://127.0.0.1:9000/", "127.0.0.1:9000", true],
    ["IPv4:port other", "ws://127.0.0.1:9001/", "127.0.0.1:9000", false],
    ["[IPv6]:port", "ws://[::1]:9000/", "[::1]:9000", true],
    ["[IPv6]:port other", "ws://[::1]:9001/", "[::1]:9000", false],
    ["host entry without port: any port", "ws://example.com:1234/", "example.com", true],
  ])("%s: %s vs %s -> %s", (_label, target, noProxy, expected) => {
    expect(matchesNoProxy(new URL(target), noProxy)).toBe(expected);
  });
});
