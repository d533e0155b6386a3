import { DEFAULT_MAX_PAYLOAD, type UpgradeResponse } from "@tideway/core";
import { type AppHeartbeatOptions, type ResolvedAppHeartbeat, resolveAppHeartbeat } from "./app-heartbeat.js";
import {
  DEFAULT_DEFLATE,
  type PerMessageDeflateClientOptions,
  type ResolvedDeflateOptions,
} from "./deflate-options.js";
import type { BinaryType, OpenSession, TextAs } from "./events.js";
import type { HeartbeatOptions } from "./heartbeat.js";
import { parseUnixUrl, resolveNodeOptions } from "./node-options.js";
import { checkLogger, type Logger } from "./observe.js";
import { finite, number } from "./option-checks.js";
import { DEFAULT_RECONNECT, type Jitter, type ReconnectOptions, type RetryContext } from "./reconnect.js";
import { redactUrl } from "./redact.js";
import type { CreateConnection, SocketOptions, TlsOptions } from "./transport.js";

export type { BinaryType } from "./events.js";

/** Headers as a record or as name-value pairs (repeated names allowed). */
export type HeaderList = Record<string, string> | ReadonlyArray<readonly [string, string]>;

/** A value, or a function (sync or async) called before every attempt for a fresh one. */
export type PerAttempt<T> = T | (() => T | Promise<T>);

/** The URL a client connects to: `ws:`, `wss:`, `http:`, `https:`, `ws+unix:`; or a function giving one per attempt. */
export type UrlInput = PerAttempt<string | URL>;

/** The client's options; `B` is the `binaryType` given and `T` the `textAs`, which type the messages. */
export interface WebSocketClientOptions<B extends BinaryType = BinaryType, T extends TextAs = "string"> {
  /**
   * Extra headers on the upgrade request (Cookie, Authorization...). Handshake-owned names are
   * rejected. A function is called before every attempt (a fresh token on each reconnect); what it
   * throws fails the attempt with a `ProviderError`.
   */
  headers?: PerAttempt<HeaderList>;
  /** Subprotocols offered, in order of preference; or a function called before every attempt. */
  protocols?: PerAttempt<string | readonly string[]>;
  /** `Origin` header, if any. */
  origin?: string;
  /** Keepalive pings; `false` disables them. Default {@link DEFAULT_HEARTBEAT}. */
  heartbeat?: Partial<HeartbeatOptions> | false;
  /** Automatic reconnection; `false` disables it. Default: `DEFAULT_RECONNECT` of reconnect.ts. */
  reconnect?: Partial<ReconnectOptions> | false;
  /**
   * Decides whether a failure (an error, or a {@link CloseInfo}-like close event) is worth a
   * reconnect. Default: `isRetryable` of reconnect.ts (no retry on 400/401/403/404, ...).
   */
  shouldReconnect?: (reason: unknown, context: RetryContext) => boolean;
  /**
   * Runs after every successful handshake, before the sends queued while disconnected are flushed
   * and before `connect()` resolves. What it sends through `session` goes first (authenticate,
   * resubscribe); `client.send()` calls made meanwhile wait in the queue. If it throws, the
   * connection is failed with 1011 and the error goes through the reconnect policy.
   */
  onOpen?: (session: OpenSession, response: UpgradeResponse) => void | Promise<void>;
  /** Type of binary messages. Default "uint8array". */
  binaryType?: B;
  /**
   * Type of text messages: `"string"` (default) decodes them; `"bytes"` hands them over as
   * {@link TextBytes}, their UTF-8 bytes, validated by the core but not decoded (a relay forwarding
   * text as it came). Validation is never skipped.
   */
  textAs?: T;
  /** Bound on the WHOLE opening handshake: DNS, TCP, TLS and the HTTP upgrade. Default 10 s. */
  handshakeTimeout?: number;
  /** After a close frame, how long to wait for the server to close TCP before destroying. Default 5 s. */
  closeTimeout?: number;
  /** Largest message accepted, in bytes. Default 100 MiB (the core's DEFAULT_MAX_PAYLOAD). */
  maxPayload?: number;
  /** Bytes `send()` may queue while disconnected before it rejects. Default 4 MiB. */
  maxQueuedBytes?: number;
  /**
   * How messages are received. `"message"` (default): whole messages, to "message" listeners and
   * `for await (const msg of client)`. `"stream"`: each message as a {@link MessageStream} from
   * `client.streams()`, its payload pulled chunk by chunk as it arrives (constant memory); then
   * "message" events are not emitted and iterating the client itself throws a TypeError.
   */
  receive?: "message" | "stream";
  /**
   * With `receive: "stream"`: the largest message accepted, in bytes (inflated bytes when
   * compressed); beyond, the connection fails with 1009. Default `Infinity`; `maxPayload` then
   * bounds each frame and what `text()` / `bytes()` collect.
   */
  maxStreamedPayload?: number;
  /**
   * Received messages waiting for the iterator, in BYTES (binary byteLength; text: string length):
   * past highWaterMark the socket stops reading; it resumes at or under lowWaterMark.
   * Default 1 MiB / highWaterMark / 4.
   */
  highWaterMark?: number;
  lowWaterMark?: number;
  /** Options for `tls.connect` (ca, cert, key, rejectUnauthorized...). `servername` defaults to the URL host unless it is an IP. */
  tls?: TlsOptions;
  /** Aborts connecting and closes the client. */
  signal?: AbortSignal;
  /** Limit on the HTTP response head. Default: the core's 16 KiB. */
  maxHeadSize?: number;

  // --- Networks (the Networks section of docs/client.md) ---
  /**
   * Proxy: "http://user:pass@host:port", "https://..." (TLS to the proxy), "socks5://..." (local DNS),
   * "socks5h://..." (the proxy resolves the host), "socks4://...", "socks4a://...". `false`: never.
   * Default: from the environment, as curl (`wss_proxy`/`https_proxy`/`all_proxy` for wss:,
   * `ws_proxy`/`http_proxy`/`all_proxy` for ws:, `no_proxy` honoured; see proxy-env.ts).
   */
  proxy?: string | URL | false;
  /** Follow 301/302/303/307/308 answers to the upgrade. Default false, as `ws`. */
  followRedirects?: boolean;
  /** Redirects followed per connection attempt before a TooManyRedirectsError. Default {@link DEFAULT_MAX_REDIRECTS}. */
  maxRedirects?: number;
  /**
   * Names of `headers` a redirect to another origin keeps (case-insensitive). Default none: a
   * cross-origin redirect drops every header given in `headers`, as any of them may be a credential.
   */
  forwardHeaders?: readonly string[];
  /** Connect to this Unix domain socket; the URL gives the request path and Host. Also `ws+unix:` URLs. */
  socketPath?: string;
  /** Custom transport: returns the stream to run on (TLS already, for wss:). Proxy and socketPath are then ignored. */
  createConnection?: CreateConnection;
  /**
   * Local IP address to connect from (`net.connect`'s `localAddress`), for ws: and wss:, to the
   * server or to the proxy. Default: the OS chooses.
   */
  localAddress?: string;
  /**
   * IP version of the address the host name is resolved to: 4 or 6 (`net.connect`'s `family`).
   * Applies to the server's host, or to the proxy's (and to the server's for socks5/socks4, which
   * resolve it locally). Default: either.
   */
  family?: 4 | 6;
  /**
   * Resolves host names instead of `dns.lookup` (`net.connect`'s `lookup`, same signature): the
   * server's host, or the proxy's (and the server's for socks5/socks4). Default `dns.lookup`.
   */
  lookup?: NonNullable<SocketOptions["lookup"]>;

  // --- Compression (docs/client.md, "Compression") ---
  /**
   * permessage-deflate (RFC 7692). Default `true`: offered with the defaults of deflate.ts
   * (`threshold` 1024 bytes, zlib level 6); `false`: not offered; an object tunes it.
   */
  perMessageDeflate?: boolean | PerMessageDeflateClientOptions;

  // --- Browsers and workers (docs/runtimes.md, "What a browser cannot do") ---
  /**
   * Browser build only: a heartbeat of your own protocol's messages, where ping frames cannot be sent.
   * Default none. The Node build throws a TypeError for it (it sends ping frames: `heartbeat`).
   */
  appHeartbeat?: AppHeartbeatOptions;
  /**
   * Browser build only: bytes of received messages a slow consumer may fall behind beyond
   * `highWaterMark` (a browser socket cannot stop reading) before the connection fails with a
   * `ReceiveBufferFullError`. Default {@link DEFAULT_MAX_BUFFERED_BYTES}. The Node build throws a
   * TypeError for it (it stops reading instead).
   */
  maxBufferedBytes?: number;
  // --- Diagnostics (docs/client.md, "Diagnostics") ---
  /**
   * Logs the lifecycle (connecting, open, closed with its codes, reconnect delays), the upgrade request
   * and response (credentials redacted) and errors: any object with `debug`, `info`, `warn` and
   * `error` methods, such as `console`. Default none: nothing is logged.
   */
  logger?: Logger;
}

/**
 * Heartbeat defaults: a ping every 30 s when idle is below the usual 60 s idle timeouts of proxies and
 * load balancers (nginx `proxy_read_timeout`, AWS ALB); 10 s to answer tolerates a busy server while
 * still noticing a dead peer within 40 s.
 */
export const DEFAULT_HEARTBEAT: HeartbeatOptions = Object.freeze({ interval: 30_000, timeout: 10_000 });
/** 10 s: a connect + TLS + upgrade that takes longer is better retried elsewhere. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
/** 5 s: a server that answered our close frame closes TCP in milliseconds; past that it is gone. */
export const DEFAULT_CLOSE_TIMEOUT = 5_000;
/** 4 MiB of sends while disconnected: enough for a burst, bounded so an outage cannot exhaust memory. */
export const DEFAULT_MAX_QUEUED_BYTES = 4 * 2 ** 20;
/** 1 MiB of received messages waiting for the iterator before the socket is paused. */
export const DEFAULT_HIGH_WATER_MARK = 2 ** 20;

/**
 * Browser build: 16 MiB of received messages beyond `highWaterMark` before a slow consumer fails the
 * connection. Enough for bursts of large messages; bounded, since the browser keeps reading.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 2 ** 20;

/** 10 redirects, as `ws` and browsers' fetch (20 there): a longer chain is a loop or a misconfiguration. */
export const DEFAULT_MAX_REDIRECTS = 10;

/** Functions called before every attempt. */
export interface Providers {
  readonly url?: () => string | URL | Promise<string | URL>;
  readonly headers?: () => HeaderList | Promise<HeaderList>;
  readonly protocols?: () => string | readonly string[] | Promise<string | readonly string[]>;
}

/** Options after validation and defaults. */
export interface ResolvedOptions {
  /** A new URL object on every read (see RESOLVED_PROTOTYPE): read `href` for the text. */
  readonly url: URL;
  readonly href: string;
  readonly headers: HeaderList | undefined;
  readonly protocols: readonly string[];
  /** The per-attempt functions given for url, headers and protocols, if any. */
  readonly providers: Providers | undefined;
  readonly origin: string | undefined;
  readonly heartbeat: HeartbeatOptions | false;
  readonly reconnect: ReconnectOptions | false;
  readonly shouldReconnect: ((reason: unknown, context: RetryContext) => boolean) | undefined;
  readonly onOpen: WebSocketClientOptions["onOpen"];
  readonly binaryType: BinaryType;
  readonly textAs: TextAs;
  readonly handshakeTimeout: number;
  readonly closeTimeout: number;
  readonly maxPayload: number;
  readonly maxQueuedBytes: number;
  readonly receive: "message" | "stream";
  readonly maxStreamedPayload: number;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly tls: TlsOptions | undefined;
  readonly signal: AbortSignal | undefined;
  readonly maxHeadSize: number | undefined;
  // Networks.
  readonly proxy: string | URL | false | undefined;
  readonly followRedirects: boolean;
  readonly maxRedirects: number;
  /** `forwardHeaders` in lower case. */
  readonly forwardHeaders: ReadonlySet<string>;
  readonly socketPath: string | undefined;
  readonly createConnection: CreateConnection | undefined;
  /** `localAddress`, `family` and `lookup`, or undefined when none is set. */
  readonly socket: SocketOptions | undefined;
  // Compression.
  readonly perMessageDeflate: ResolvedDeflateOptions;
  // Browsers and workers.
  readonly appHeartbeat: ResolvedAppHeartbeat | undefined;
  /** Undefined when not given (the browser build then applies DEFAULT_MAX_BUFFERED_BYTES). */
  readonly maxBufferedBytes: number | undefined;
  // Diagnostics.
  readonly logger: Logger | undefined;
}

const SCHEMES: Record<string, string> = { "ws:": "ws:", "wss:": "wss:", "http:": "ws:", "https:": "wss:" };

/** Parses a ws:, wss:, http: or https: URL (http(s) mapped to ws(s)). Throws TypeError. */
export function parseUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new TypeError(`Invalid URL: ${redactUrl(input)}`, { cause });
  }
  const scheme = SCHEMES[url.protocol];
  if (scheme === undefined) {
    throw new TypeError(`Unsupported URL scheme "${url.protocol}": expected ws:, wss:, http: or https:`);
  }
  // RFC 6455 section 3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
  if (url.hash !== "") throw new TypeError(`A WebSocket URL cannot have a fragment: ${redactUrl(url)}`);
  if (scheme !== url.protocol) url = new URL(scheme + url.href.slice(url.protocol.length));
  return url;
}

/** `protocols` when none is offered: shared, as the defaults below, rather than one array per client. */
const NO_PROTOCOLS: readonly string[] = Object.freeze([]);

/** `forwardHeaders` by default: a cross-origin redirect keeps none of the user's headers. */
const FORWARD_NONE: ReadonlySet<string> = new Set();

/**
 * The prototype of every resolved options object: the defaults, so that a client holds only the
 * options that differ from them, not a full object per idle connection. Shared objects among them (heartbeat, reconnect, deflate settings) are frozen. Not frozen itself: an own
 * property could not be assigned over a read-only inherited one.
 *
 * `url` is parsed again from `href` on each read, a few times per connect, instead of a URL object
 * (with its URLContext) kept by every idle client.
 */
const RESOLVED_DEFAULTS: Omit<ResolvedOptions, "href"> = {
  get url(): URL {
    return new URL((this as unknown as ResolvedOptions).href);
  },
  headers: undefined,
  protocols: NO_PROTOCOLS,
  providers: undefined,
  origin: undefined,
  heartbeat: DEFAULT_HEARTBEAT,
  reconnect: DEFAULT_RECONNECT,
  shouldReconnect: undefined,
  onOpen: undefined,
  binaryType: "uint8array",
  textAs: "string",
  handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT,
  closeTimeout: DEFAULT_CLOSE_TIMEOUT,
  maxPayload: DEFAULT_MAX_PAYLOAD,
  maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
  receive: "message",
  maxStreamedPayload: Number.POSITIVE_INFINITY,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  lowWaterMark: Math.floor(DEFAULT_HIGH_WATER_MARK / 4),
  tls: undefined,
  signal: undefined,
  maxHeadSize: undefined,
  proxy: undefined,
  followRedirects: false,
  maxRedirects: DEFAULT_MAX_REDIRECTS,
  forwardHeaders: FORWARD_NONE,
  socketPath: undefined,
  createConnection: undefined,
  socket: undefined,
  perMessageDeflate: DEFAULT_DEFLATE,
  appHeartbeat: undefined,
  maxBufferedBytes: undefined,
  logger: undefined,
};

/**
 * Validates options and applies defaults. Every problem is a TypeError, thrown at once. The result
 * inherits the defaults from RESOLVED_DEFAULTS and owns only `href` and the options that differ.
 */
export function resolveOptions(
  input: UrlInput,
  o: WebSocketClientOptions<BinaryType, TextAs> = {},
): ResolvedOptions {
  if (typeof o !== "object" || o === null) throw new TypeError("options must be an object");
  checkKeys("options", o, OPTION_NAMES);
  const providers = resolveProviders(input, o);
  // A provided URL is known only per attempt; the protocol built to validate the options uses a stand-in.
  const unix = typeof input === "function" ? undefined : parseUnixUrl(input);
  const url = typeof input === "function" ? new URL("ws://localhost/") : (unix?.url ?? parseUrl(input));
  const protocols =
    o.protocols === undefined || typeof o.protocols === "function"
      ? NO_PROTOCOLS
      : normalizeProtocols(o.protocols);
  const binaryType = o.binaryType ?? "uint8array";
  if (binaryType !== "uint8array" && binaryType !== "arraybuffer" && binaryType !== "buffer") {
    throw new TypeError(
      `Option binaryType must be "uint8array", "arraybuffer" or "buffer", got ${String(binaryType)}`,
    );
  }
  const textAs = o.textAs ?? "string";
  if (textAs !== "string" && textAs !== "bytes") {
    throw new TypeError(`Option textAs must be "string" or "bytes", got ${String(textAs)}`);
  }
  let heartbeat: HeartbeatOptions | false = false;
  if (o.heartbeat === undefined) heartbeat = DEFAULT_HEARTBEAT;
  else if (o.heartbeat !== false) {
    checkKeys("heartbeat", o.heartbeat, HEARTBEAT_NAMES);
    heartbeat = {
      interval: finite("heartbeat.interval", o.heartbeat?.interval, DEFAULT_HEARTBEAT.interval, 1),
      timeout: finite("heartbeat.timeout", o.heartbeat?.timeout, DEFAULT_HEARTBEAT.timeout, 1),
    };
  }
  let reconnect: ReconnectOptions | false = false;
  if (o.reconnect === undefined) reconnect = DEFAULT_RECONNECT;
  else if (o.reconnect !== false) {
    const r = o.reconnect ?? {};
    checkKeys("reconnect", r, RECONNECT_NAMES);
    const jitter: Jitter = r.jitter ?? DEFAULT_RECONNECT.jitter;
    if (jitter !== "full" && jitter !== "decorrelated" && jitter !== "none") {
      throw new TypeError(
        `Option reconnect.jitter must be "full", "decorrelated" or "none", got ${String(jitter)}`,
      );
    }
    reconnect = {
      retries: number("reconnect.retries", r.retries, DEFAULT_RECONNECT.retries),
      initialRetries: number("reconnect.initialRetries", r.initialRetries, DEFAULT_RECONNECT.initialRetries),
      minTimeout: finite("reconnect.minTimeout", r.minTimeout, DEFAULT_RECONNECT.minTimeout),
      maxTimeout: number("reconnect.maxTimeout", r.maxTimeout, DEFAULT_RECONNECT.maxTimeout),
      factor: finite("reconnect.factor", r.factor, DEFAULT_RECONNECT.factor, 1),
      jitter,
      stableAfter: number("reconnect.stableAfter", r.stableAfter, DEFAULT_RECONNECT.stableAfter),
    };
    if (reconnect.maxTimeout < reconnect.minTimeout) {
      throw new TypeError("Option reconnect.maxTimeout must be >= reconnect.minTimeout");
    }
  }
  for (const [name, fn] of [
    ["shouldReconnect", o.shouldReconnect],
    ["onOpen", o.onOpen],
  ] as const) {
    if (fn !== undefined && typeof fn !== "function")
      throw new TypeError(`Option ${name} must be a function`);
  }
  const highWaterMark = finite("highWaterMark", o.highWaterMark, DEFAULT_HIGH_WATER_MARK, 1);
  const lowWaterMark = finite("lowWaterMark", o.lowWaterMark, Math.floor(highWaterMark / 4));
  if (lowWaterMark > highWaterMark) throw new TypeError("Option lowWaterMark must be <= highWaterMark");
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new TypeError("Option signal must be an AbortSignal");
  }
  const values: Partial<Omit<ResolvedOptions, "href" | "url">> = {
    headers: typeof o.headers === "function" ? undefined : o.headers,
    protocols,
    providers,
    heartbeat,
    reconnect,
    shouldReconnect: o.shouldReconnect,
    onOpen: o.onOpen,
    binaryType,
    textAs,
    handshakeTimeout: finite("handshakeTimeout", o.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, 1),
    closeTimeout: finite("closeTimeout", o.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    maxQueuedBytes: number("maxQueuedBytes", o.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
    receive: receiveMode(o.receive),
    maxStreamedPayload: streamedLimit(o.maxStreamedPayload),
    highWaterMark,
    lowWaterMark,
    signal: o.signal,
    ...resolveNodeOptions(o, unix?.socketPath),
    appHeartbeat: resolveAppHeartbeat(o.appHeartbeat),
    maxBufferedBytes:
      o.maxBufferedBytes === undefined ? undefined : finite("maxBufferedBytes", o.maxBufferedBytes, 0, 1),
    logger: o.logger === undefined ? undefined : checkLogger(o.logger),
  };
  const resolved: Record<string, unknown> = Object.create(RESOLVED_DEFAULTS);
  resolved.href = url.href;
  const defaults = RESOLVED_DEFAULTS as unknown as Record<string, unknown>;
  const own = values as unknown as Record<string, unknown>;
  for (const key in own) {
    // An option left undefined (not given) takes the default.
    if (own[key] !== undefined && own[key] !== defaults[key]) resolved[key] = own[key];
  }
  return resolved as unknown as ResolvedOptions;
}

function receiveMode(value: unknown): "message" | "stream" {
  if (value === undefined || value === "message" || value === "stream") return value ?? "message";
  throw new TypeError(`Option receive must be "message" or "stream", got ${String(value)}`);
}

function streamedLimit(value: unknown): number {
  if (value === undefined || value === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(
      `Option maxStreamedPayload must be a positive integer or Infinity, got ${String(value)}`,
    );
  }
  return value;
}

/** Every option name: a misspelt one is a TypeError, not a silently ignored setting. */
const OPTION_NAMES: ReadonlySet<string> = new Set([
  "headers",
  "protocols",
  "origin",
  "heartbeat",
  "reconnect",
  "shouldReconnect",
  "onOpen",
  "binaryType",
  "textAs",
  "handshakeTimeout",
  "closeTimeout",
  "maxPayload",
  "maxQueuedBytes",
  "receive",
  "maxStreamedPayload",
  "highWaterMark",
  "lowWaterMark",
  "tls",
  "signal",
  "maxHeadSize",
  "proxy",
  "followRedirects",
  "maxRedirects",
  "socketPath",
  "createConnection",
  "forwardHeaders",
  "perMessageDeflate",
  "appHeartbeat",
  "maxBufferedBytes",
  "logger",
  "localAddress",
  "family",
  "lookup",
] satisfies (keyof WebSocketClientOptions)[]);
const HEARTBEAT_NAMES: ReadonlySet<string> = new Set([
  "interval",
  "timeout",
] satisfies (keyof HeartbeatOptions)[]);
const RECONNECT_NAMES: ReadonlySet<string> = new Set([
  "retries",
  "initialRetries",
  "minTimeout",
  "maxTimeout",
  "factor",
  "jitter",
  "stableAfter",
] satisfies (keyof ReconnectOptions)[]);

/** Throws a TypeError naming every key of `o` not in `known` (`undefined` values count too). */
function checkKeys(where: string, o: object, known: ReadonlySet<string>): void {
  const unknown = Object.keys(o).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    const names = unknown.map((key) => (where === "options" ? key : `${where}.${key}`)).join(", ");
    throw new TypeError(`Unknown option${unknown.length > 1 ? "s" : ""}: ${names}`);
  }
}

/** `protocols` as a list: a string is one subprotocol. Tokens are checked by the core. */
export function normalizeProtocols(value: string | readonly string[]): readonly string[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) throw new TypeError("Option protocols must be a string or an array of strings");
  return [...value];
}

/** Headers as given, after checking their shape (the core checks names and values). */
export function checkHeaders(value: HeaderList): HeaderList {
  if (typeof value !== "object" || value === null) {
    throw new TypeError("Option headers must be a record or a list of [name, value] pairs");
  }
  return value;
}

/** The per-attempt functions among the URL, `headers` and `protocols`, or undefined if none. */
function resolveProviders(
  input: UrlInput,
  o: WebSocketClientOptions<BinaryType, TextAs>,
): Providers | undefined {
  const url = typeof input === "function" ? input : undefined;
  const headers = typeof o.headers === "function" ? o.headers : undefined;
  const protocols = typeof o.protocols === "function" ? o.protocols : undefined;
  if (url === undefined && headers === undefined && protocols === undefined) return undefined;
  return {
    ...(url !== undefined ? { url } : {}),
    ...(headers !== undefined ? { headers } : {}),
    ...(protocols !== undefined ? { protocols } : {}),
  };
}
