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

import { redactUrl } from "./redact.js";

/** The environment, as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  let value: string | undefined;
  try {
    value = env[name.toLowerCase()] || env[name.toUpperCase()];
  } catch {
    // A refused read (Deno without --allow-env throws NotCapable) is an unset variable.
    return undefined;
  }
  return value?.trim() || undefined;
}

/**
 * The proxy URL the environment gives for `target` (a ws:, wss:, http: or https: URL, as a string or
 * a URL), or undefined for a direct connection: no variable set, or `no_proxy` / `NO_PROXY` matches
 * the target. Throws TypeError when `target` is not such a URL.
 */
export function proxyFromEnv(target: string | URL, env: Env): string | undefined {
  const url = typeof target === "string" ? parseTarget(target) : target;
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  if (!secure && url.protocol !== "ws:" && url.protocol !== "http:") {
    throw new TypeError(`proxyFromEnv needs a ws:, wss:, http: or https: URL, got ${redactUrl(url)}`);
  }
  const names = secure ? ["wss_proxy", "https_proxy", "all_proxy"] : ["ws_proxy", "http_proxy", "all_proxy"];
  let proxy: string | undefined;
  for (const name of names) {
    proxy = envValue(env, name);
    if (proxy !== undefined) break;
  }
  if (proxy === undefined) return undefined;
  const noProxy = envValue(env, "no_proxy");
  if (noProxy !== undefined && matchesNoProxy(url, noProxy)) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function parseTarget(text: string): URL {
  try {
    return new URL(text);
  } catch (cause) {
    throw new TypeError(`proxyFromEnv needs a ws:, wss:, http: or https: URL, got ${redactUrl(text)}`, {
      cause,
    });
  }
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
 * "fe80::1" -> 128-bit number, or undefined when `s` is not an IPv6 address. An embedded IPv4 tail
 * (`::ffff:10.1.2.3`) counts as the last two groups.
 */
function ipv6(s: string): bigint | undefined {
  if (!s.includes(":")) return undefined;
  let text = s;
  const v4Tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const n = ipv4(v4Tail[2] as string);
    if (n === undefined) return undefined;
    text = `${v4Tail[1]}${Math.floor(n / 0x10000).toString(16)}:${(n % 0x10000).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string | undefined) => (half === undefined || half === "" ? [] : half.split(":"));
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill("0"), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return n;
}

/** Whether `host` lies in the CIDR range `base/bits` (IPv4 or IPv6); false for host names. */
function inCidr(host: string, base: string, bits: number): boolean {
  const hostV4 = ipv4(host);
  const baseV4 = ipv4(base);
  if (hostV4 !== undefined && baseV4 !== undefined) {
    if (bits > 32) return false;
    const size = 2 ** (32 - bits);
    return Math.floor(baseV4 / size) === Math.floor(hostV4 / size);
  }
  const hostV6 = ipv6(host);
  const baseV6 = ipv6(base);
  if (hostV6 === undefined || baseV6 === undefined || bits > 128) return false;
  const shift = BigInt(128 - bits);
  return hostV6 >> shift === baseV6 >> shift;
}

/**
 * Whether a `no_proxy` list excludes `target` from proxying. Entries are separated by commas (and
 * spaces), compared case-insensitively, as curl does:
 * - `*` alone matches every host;
 * - `example.com` and `.example.com` both match `example.com` and any subdomain (`a.example.com`),
 *   never `badexample.com`;
 * - an IP address matches that address exactly (IPv6 with or without brackets); `10.0.0.0/8`-style
 *   and `fe80::/10`-style CIDR ranges (IPv4 or IPv6) match the addresses in them (as curl 7.86+).
 *   Host names are not resolved;
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
    const cidr = /^([\d.a-f:]+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      if (inCidr(host, cidr[1] as string, Number(cidr[2]))) return true;
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
