/**
 * The options only the Node build honours (networks, TLS, compression, limits of the core): their
 * validation. The browser build replaces this module with node-options-browser.ts, which refuses
 * them by name, so that a browser bundle carries none of these checks.
 */
import { DEFAULT_MAX_PAYLOAD } from "@tideway/core";
import {
  type PerMessageDeflateClientOptions,
  type ResolvedDeflateOptions,
  resolveDeflateOptions,
} from "./deflate-options.js";
import { finite, number } from "./option-checks.js";
import { parseProxy } from "./proxy-url.js";
import { redactUrl } from "./redact.js";
import type { CreateConnection, SocketOptions, TlsOptions } from "./transport.js";

/**
 * The Node-only options as given: their documentation is `WebSocketClientOptions`'s (options.ts),
 * which the compiler keeps in step with these (options.ts passes its options here).
 */
export interface NodeOptionsInput {
  readonly origin?: string;
  readonly tls?: TlsOptions;
  readonly maxPayload?: number;
  readonly maxHeadSize?: number;
  readonly proxy?: string | URL | false;
  readonly followRedirects?: boolean;
  readonly maxRedirects?: number;
  readonly forwardHeaders?: readonly string[];
  readonly socketPath?: string;
  readonly createConnection?: CreateConnection;
  readonly perMessageDeflate?: boolean | PerMessageDeflateClientOptions;
  readonly localAddress?: string;
  readonly family?: 4 | 6;
  readonly lookup?: SocketOptions["lookup"];
}

/** What this module resolves; a key left undefined takes the default (options.ts). */
export interface NodeOptions {
  readonly origin?: string | undefined;
  readonly tls?: TlsOptions | undefined;
  readonly maxPayload?: number;
  readonly maxHeadSize?: number | undefined;
  readonly proxy?: string | URL | false | undefined;
  readonly followRedirects?: boolean;
  readonly maxRedirects?: number | undefined;
  readonly forwardHeaders?: ReadonlySet<string> | undefined;
  readonly socketPath?: string | undefined;
  readonly createConnection?: CreateConnection | undefined;
  readonly perMessageDeflate?: ResolvedDeflateOptions;
  readonly socket?: SocketOptions | undefined;
}

/** The Node-only options, validated; `unixSocketPath` is the socket path of a ws+unix: URL. */
export function resolveNodeOptions(o: NodeOptionsInput, unixSocketPath: string | undefined): NodeOptions {
  return {
    origin: o.origin,
    tls: o.tls,
    maxPayload: finite("maxPayload", o.maxPayload, DEFAULT_MAX_PAYLOAD, 1),
    maxHeadSize: o.maxHeadSize === undefined ? undefined : finite("maxHeadSize", o.maxHeadSize, 0, 1),
    ...resolveNetworkOptions(o, unixSocketPath),
    perMessageDeflate: resolveDeflateOptions(o.perMessageDeflate),
  };
}

/**
 * `ws+unix:///path/to.sock:/request/path?query` (the `ws` convention; `wss+unix:` for TLS): the
 * socket path, and the ws:/wss: URL the request is built from, with Host "localhost". A URL without
 * ":/request/path" requests "/". Returns undefined for other schemes.
 */
export function parseUnixUrl(input: string | URL): { url: URL; socketPath: string } | undefined {
  const text = String(input);
  const scheme = /^(wss?)\+unix:/i.exec(text);
  if (scheme === null) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new TypeError(`Invalid URL: ${redactUrl(text)}`, { cause });
  }
  if (url.hash !== "") throw new TypeError(`A WebSocket URL cannot have a fragment: ${redactUrl(text)}`);
  const pathname = decodeURIComponent(url.pathname);
  const colon = pathname.indexOf(":");
  const socketPath = colon < 0 ? pathname : pathname.slice(0, colon);
  const requestPath = colon < 0 ? "/" : pathname.slice(colon + 1) || "/";
  if (socketPath === "") throw new TypeError(`A ws+unix: URL needs a socket path: ${redactUrl(text)}`);
  const base = `${(scheme[1] as string).toLowerCase()}://localhost`;
  return {
    url: new URL(`${requestPath.startsWith("/") ? "" : "/"}${requestPath}${url.search}`, base),
    socketPath,
  };
}

/** An HTTP field name: a token (RFC 9110 section 5.1). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The network options (docs/client.md, Networks), validated. */
function resolveNetworkOptions(o: NodeOptionsInput, unixSocketPath: string | undefined): NodeOptions {
  if (o.proxy !== undefined && o.proxy !== false) parseProxy(o.proxy); // throws TypeError
  if (o.followRedirects !== undefined && typeof o.followRedirects !== "boolean") {
    throw new TypeError("Option followRedirects must be a boolean");
  }
  const maxRedirects = o.maxRedirects === undefined ? undefined : number("maxRedirects", o.maxRedirects, 0);
  if (maxRedirects !== undefined && !Number.isInteger(maxRedirects))
    throw new TypeError("Option maxRedirects must be an integer");
  const forwardHeaders = o.forwardHeaders ?? [];
  if (
    !Array.isArray(forwardHeaders) ||
    !forwardHeaders.every((h) => typeof h === "string" && HEADER_NAME.test(h))
  ) {
    throw new TypeError("Option forwardHeaders must be an array of header names");
  }
  if (o.socketPath !== undefined && (typeof o.socketPath !== "string" || o.socketPath === "")) {
    throw new TypeError("Option socketPath must be a non-empty string");
  }
  if (o.socketPath !== undefined && unixSocketPath !== undefined) {
    throw new TypeError("Give the socket path either in a ws+unix: URL or as socketPath, not both");
  }
  if (o.createConnection !== undefined && typeof o.createConnection !== "function") {
    throw new TypeError("Option createConnection must be a function");
  }
  return {
    proxy: o.proxy,
    followRedirects: o.followRedirects ?? false,
    maxRedirects,
    // The shared default (options.ts) unless given: no Set per client.
    forwardHeaders:
      forwardHeaders.length === 0 ? undefined : new Set(forwardHeaders.map((h) => h.toLowerCase())),
    socketPath: unixSocketPath ?? o.socketPath,
    createConnection: o.createConnection,
    socket: resolveSocketOptions(o),
  };
}

/** `localAddress`, `family`, `lookup`, validated; undefined when none is given (the common case). */
function resolveSocketOptions(o: NodeOptionsInput): SocketOptions | undefined {
  const { localAddress, family, lookup } = o;
  if (localAddress === undefined && family === undefined && lookup === undefined) return undefined;
  if (localAddress !== undefined && (typeof localAddress !== "string" || localAddress === "")) {
    throw new TypeError("Option localAddress must be a non-empty string (an IP address)");
  }
  if (family !== undefined && family !== 4 && family !== 6) {
    throw new TypeError(`Option family must be 4 or 6, got ${String(family)}`);
  }
  if (lookup !== undefined && typeof lookup !== "function") {
    throw new TypeError("Option lookup must be a function, as dns.lookup");
  }
  return { localAddress, family, lookup };
}
