/**
 * The options only the Node build honours (request headers, the ping heartbeat, streamed receives,
 * networks, TLS, compression, limits of the core): their defaults and validation. The browser build
 * replaces this module with node-options-browser.ts, which refuses them by name, so that a browser
 * bundle carries none of these checks.
 */
import { DEFAULT_MAX_PAYLOAD } from "@tideway/core";
import { DEFAULT_DEFLATE, resolveDeflateOptions } from "./deflate-options.js";
import type { BinaryType, TextAs } from "./events.js";
import { DEFAULT_HEARTBEAT, type HeartbeatOptions } from "./heartbeat.js";
import { callable, checkKeys, finite, invalid, number, oneOf } from "./option-checks.js";
import type { HeaderList, ResolvedOptions, UrlInput, WebSocketClientOptions } from "./option-types.js";
import { parseProxy } from "./proxy-url.js";
import { redactUrl } from "./redact.js";
import { DEFAULT_MAX_REDIRECTS } from "./redirect.js";
import type { SocketOptions } from "./transport.js";

/** The names of the options resolved here: options.ts counts them among the known options. */
export const NODE_OPTION_NAMES = [
  "headers",
  "origin",
  "heartbeat",
  "tls",
  "proxy",
  "socketPath",
  "createConnection",
  "perMessageDeflate",
  "followRedirects",
  "maxRedirects",
  "forwardHeaders",
  "maxPayload",
  "maxHeadSize",
  "receive",
  "maxStreamedPayload",
  "localAddress",
  "family",
  "lookup",
] as const satisfies readonly (keyof WebSocketClientOptions)[];

/** The Node-only options as given: their documentation is `WebSocketClientOptions`'s (options.ts). */
export type NodeOptionsInput = Pick<
  WebSocketClientOptions<BinaryType, TextAs>,
  (typeof NODE_OPTION_NAMES)[number]
>;

/** The resolved options this module owns (`socket` holds `localAddress`, `family` and `lookup`). */
type NodeOptionKey =
  | Exclude<(typeof NODE_OPTION_NAMES)[number], "localAddress" | "family" | "lookup">
  | "socket";

/** What this module resolves; a key left undefined takes the default (NODE_DEFAULTS). */
export type NodeOptions = { readonly [K in NodeOptionKey]?: ResolvedOptions[K] | undefined };

/** `forwardHeaders` by default: a cross-origin redirect keeps none of the user's headers. */
const FORWARD_NONE: ReadonlySet<string> = new Set();

/**
 * The defaults of the Node-only options that have one, for options.ts's prototype of defaults. Free of
 * side effects (`Infinity`, pure defaults), so that a browser bundle, which never reads it, drops it.
 */
export const NODE_DEFAULTS: NodeOptions = {
  heartbeat: DEFAULT_HEARTBEAT,
  receive: "message",
  maxStreamedPayload: Infinity,
  maxPayload: DEFAULT_MAX_PAYLOAD,
  followRedirects: false,
  maxRedirects: DEFAULT_MAX_REDIRECTS,
  forwardHeaders: FORWARD_NONE,
  perMessageDeflate: DEFAULT_DEFLATE,
};

/** The Node-only options, validated; `unixSocketPath` is the socket path of a ws+unix: URL. */
export function resolveNodeOptions(o: NodeOptionsInput, unixSocketPath: string | undefined): NodeOptions {
  return {
    // A `headers` function is a provider (options.ts), called per attempt.
    headers: typeof o.headers === "function" ? undefined : o.headers,
    origin: o.origin,
    heartbeat: resolveHeartbeat(o.heartbeat),
    receive: oneOf("receive", o.receive, ["message", "stream"]),
    maxStreamedPayload: streamedLimit(o.maxStreamedPayload),
    tls: o.tls,
    maxPayload: finite("maxPayload", o.maxPayload, DEFAULT_MAX_PAYLOAD, 1),
    maxHeadSize: o.maxHeadSize === undefined ? undefined : finite("maxHeadSize", o.maxHeadSize, 0, 1),
    ...resolveNetworkOptions(o, unixSocketPath),
    perMessageDeflate: resolveDeflateOptions(o.perMessageDeflate),
  };
}

/** Headers given by a `headers` function, after checking their shape (the core checks names and values). */
export function checkHeaders(value: HeaderList): HeaderList {
  if (typeof value !== "object" || value === null) {
    throw invalid("headers", "a record or a list of [name, value] pairs");
  }
  return value;
}

/** The `heartbeat` option, validated: undefined (the default), `false`, or both fields set. */
function resolveHeartbeat(
  option: Partial<HeartbeatOptions> | false | undefined,
): HeartbeatOptions | false | undefined {
  if (option === undefined || option === false) return option;
  // The fields of the defaults are the known ones.
  checkKeys("heartbeat", option, Object.keys(DEFAULT_HEARTBEAT));
  return {
    interval: finite("heartbeat.interval", option.interval, DEFAULT_HEARTBEAT.interval, 1),
    timeout: finite("heartbeat.timeout", option.timeout, DEFAULT_HEARTBEAT.timeout, 1),
  };
}

/** `maxStreamedPayload`, validated; undefined for the default, `Infinity`. */
function streamedLimit(value: unknown): number | undefined {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw invalid("maxStreamedPayload", "a positive integer or Infinity", value);
  }
  return value;
}

/**
 * `ws+unix:///path/to.sock:/request/path?query` (the `ws` convention; `wss+unix:` for TLS): the
 * socket path, and the ws:/wss: URL the request is built from, with Host "localhost". A URL without
 * ":/request/path" requests "/". Returns undefined for other schemes and for a provided URL (a function).
 */
export function parseUnixUrl(input: UrlInput): { url: URL; socketPath: string } | undefined {
  if (typeof input === "function") return undefined;
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
    throw invalid("followRedirects", "a boolean");
  }
  const maxRedirects = o.maxRedirects === undefined ? undefined : number("maxRedirects", o.maxRedirects, 0);
  if (maxRedirects !== undefined && !Number.isInteger(maxRedirects))
    throw invalid("maxRedirects", "an integer");
  const forwardHeaders = o.forwardHeaders ?? [];
  if (
    !Array.isArray(forwardHeaders) ||
    !forwardHeaders.every((h) => typeof h === "string" && HEADER_NAME.test(h))
  ) {
    throw invalid("forwardHeaders", "an array of header names");
  }
  if (o.socketPath !== undefined && (typeof o.socketPath !== "string" || o.socketPath === "")) {
    throw invalid("socketPath", "a non-empty string");
  }
  if (o.socketPath !== undefined && unixSocketPath !== undefined) {
    throw new TypeError("Give the socket path either in a ws+unix: URL or as socketPath, not both");
  }
  return {
    proxy: o.proxy,
    followRedirects: o.followRedirects,
    maxRedirects,
    // The shared default unless given: no Set per client.
    forwardHeaders:
      forwardHeaders.length === 0 ? undefined : new Set(forwardHeaders.map((h) => h.toLowerCase())),
    socketPath: unixSocketPath ?? o.socketPath,
    createConnection: callable(o.createConnection, "createConnection"),
    socket: resolveSocketOptions(o),
  };
}

/** `localAddress`, `family`, `lookup`, validated; undefined when none is given (the common case). */
function resolveSocketOptions(o: NodeOptionsInput): SocketOptions | undefined {
  const { localAddress, family, lookup } = o;
  if (localAddress === undefined && family === undefined && lookup === undefined) return undefined;
  if (localAddress !== undefined && (typeof localAddress !== "string" || localAddress === "")) {
    throw invalid("localAddress", "a non-empty string (an IP address)");
  }
  oneOf("family", family, [4, 6]);
  callable(lookup, "lookup", "a function, as dns.lookup");
  return { localAddress, family, lookup };
}
