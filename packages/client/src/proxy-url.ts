/**
 * Proxy URLs: the schemes, default ports and the parsed form. Node-free, so that option validation
 * (options.ts) runs in every build; the tunnels themselves are proxy.ts's.
 */
import { redactUrl } from "./redact.js";

export type ProxyKind = "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h";

/** A validated proxy URL. */
export interface ProxyConfig {
  readonly kind: ProxyKind;
  /** Host name or IP (IPv6 without brackets). */
  readonly host: string;
  readonly port: number;
  /** Decoded userinfo, if any. */
  readonly username: string;
  readonly password: string;
  /** The URL without credentials, for messages and {@link ProxyError.proxy}. */
  readonly display: string;
}

/**
 * Default ports. Note that a URL parser cannot tell "http://proxy" from "http://proxy:80", so the
 * http: and https: defaults are the scheme's (80, 443), not curl's 1080; SOCKS uses 1080.
 */
const KINDS: Record<string, { kind: ProxyKind; port: number }> = {
  "http:": { kind: "http", port: 80 },
  "https:": { kind: "https", port: 443 },
  "socks:": { kind: "socks5h", port: 1080 },
  "socks4:": { kind: "socks4", port: 1080 },
  "socks4a:": { kind: "socks4a", port: 1080 },
  "socks5:": { kind: "socks5", port: 1080 },
  "socks5h:": { kind: "socks5h", port: 1080 },
};

/** Parses a proxy URL (`socks:` means `socks5h:`, as in Python's websockets). Throws TypeError. */
export function parseProxy(input: string | URL): ProxyConfig {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new TypeError(`Invalid proxy URL: ${redactUrl(input)}`, { cause });
  }
  const scheme = KINDS[url.protocol];
  if (scheme === undefined) {
    throw new TypeError(
      `Unsupported proxy scheme "${url.protocol}": expected http:, https:, socks4:, socks4a:, socks5: or socks5h:`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new TypeError(`A proxy URL needs a host: ${redactUrl(input)}`);
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = "";
  url.password = "";
  return {
    kind: scheme.kind,
    host,
    port: url.port === "" ? scheme.port : Number(url.port),
    username,
    password,
    display: `${url.protocol}//${url.host}`,
  };
}
