/**
 * Which proxy the environment asks for, as curl reads it. Pure: the environment is a parameter, so
 * every rule below has a table test (test/proxy-env.test.ts).
 *
 * Variables, first non-empty wins, for each one the lower-case name before the upper-case one:
 * - `wss:` targets: `wss_proxy`, `https_proxy`, `all_proxy`;
 * - `ws:` targets: `ws_proxy`, `http_proxy`, `all_proxy`.
 * (curl picks `<scheme>_proxy` by the URL scheme, then `all_proxy`; a WebSocket is HTTP underneath, so
 * the HTTP variable of the same security is the natural next choice, as in Python's `websockets`.)
 * Unlike curl, `HTTP_PROXY` is read too: the "httpoxy" attack it avoids needs a CGI server that turns a
 * request's `Proxy:` header into that variable, which is not where a WebSocket client runs.
 *
 * A value without a scheme ("proxy:3128") means `http://`, as in curl.
 */

/** The environment, as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const value = env[name.toLowerCase()] || env[name.toUpperCase()];
  return value?.trim() || undefined;
}

/**
 * The proxy URL the environment gives for `target` (a ws: or wss: URL), or undefined for a direct
 * connection: no variable set, or `no_proxy` / `NO_PROXY` matches the target.
 */
export function proxyFromEnv(target: URL, env: Env): string | undefined {
  const names =
    target.protocol === "wss:"
      ? ["wss_proxy", "https_proxy", "all_proxy"]
      : ["ws_proxy", "http_proxy", "all_proxy"];
  let proxy: string | undefined;
  for (const name of names) {
    proxy = envValue(env, name);
    if (proxy !== undefined) break;
  }
  if (proxy === undefined) return undefined;
  const noProxy = envValue(env, "no_proxy");
  if (noProxy !== undefined && matchesNoProxy(target, noProxy)) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/** Default port of a ws:/wss: (or http:/https:) URL. */
function defaultPort(url: URL): number {
  return url.protocol === "wss:" || url.protocol === "https:" ? 443 : 80;
}

/** "1.2.3.4" -> 32-bit number, or undefined when `s` is not a dotted-quad IPv4 address. */
function ipv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/**
 * Whether a `no_proxy` list excludes `target` from proxying. Entries are separated by commas (and
 * spaces), compared case-insensitively, as curl does:
 * - `*` alone matches every host;
 * - `example.com` and `.example.com` both match `example.com` and any subdomain (`a.example.com`),
 *   never `badexample.com`;
 * - an IP address matches that address exactly (IPv6 with or without brackets); `10.0.0.0/8`-style
 *   IPv4 CIDR ranges match the addresses in them (as curl 7.86+). Host names are not resolved;
 * - `host:port` (`[v6]:port`) matches that host only on that port (the URL's default port counts).
 */
export function matchesNoProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "")
    .toLowerCase();
  const port = target.port === "" ? defaultPort(target) : Number(target.port);
  const hostIp = ipv4(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    let entryPort: number | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
    if (bracketed) {
      entry = bracketed[1] as string;
      if (bracketed[2] !== undefined) entryPort = Number(bracketed[2]);
    } else {
      const withPort = /^([^:]+):(\d+)$/.exec(entry);
      if (withPort) {
        entry = withPort[1] as string;
        entryPort = Number(withPort[2]);
      }
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(entry);
    if (cidr) {
      const base = ipv4(cidr[1] as string);
      const bits = Number(cidr[2]);
      if (base !== undefined && hostIp !== undefined && bits <= 32) {
        const size = 2 ** (32 - bits);
        if (Math.floor(base / size) === Math.floor(hostIp / size)) return true;
      }
      continue;
    }
    entry = entry.replace(/^\./, "").replace(/\.$/, "");
    if (entry === "") continue;
    if (host === entry) return true;
    // A suffix only at a label boundary, and never for IP literals ("1.2.3.4" is not under "3.4").
    if (hostIp === undefined && !host.includes(":") && host.endsWith(`.${entry}`)) return true;
  }
  return false;
}
