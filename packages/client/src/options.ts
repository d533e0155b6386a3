import type { UpgradeResponse } from "@tideway/core";
import { type AppHeartbeatOptions, type ResolvedAppHeartbeat, resolveAppHeartbeat } from "./app-heartbeat.js";
import type { PerMessageDeflateClientOptions, ResolvedDeflateOptions } from "./deflate-options.js";
import type { BinaryType, OpenSession, TextAs } from "./events.js";
import { DEFAULT_HEARTBEAT, type HeartbeatOptions } from "./heartbeat.js";
import {
  checkHeaders,
  NODE_DEFAULTS,
  NODE_OPTION_NAMES,
  parseUnixUrl,
  resolveNodeOptions,
} from "./node-options.js";
import { checkLogger, type Logger } from "./observe.js";
import { callable, checkKeys, finite, invalid, number, oneOf } from "./option-checks.js";
import { DEFAULT_RECONNECT, type ReconnectOptions, type RetryContext } from "./reconnect.js";
import { redactUrl } from "./redact.js";
import { DEFAULT_MAX_REDIRECTS } from "./redirect.js";
import type { CreateConnection, SocketOptions, TlsOptions } from "./transport.js";

export type { BinaryType } from "./events.js";
// Their homes are the modules that apply them; exported from here too.
export { checkHeaders, DEFAULT_HEARTBEAT, DEFAULT_MAX_REDIRECTS };

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

/** Functions called before every attempt. */
export interface Providers {
  readonly url?: () => string | URL | Promise<string | URL>;
  readonly headers?: () => HeaderList | Promise<HeaderList>;
  readonly protocols?: () => string | readonly string[] | Promise<string | readonly string[]>;
}

/**
 * Options after validation and defaults. The Node-only ones (node-options.ts) stay undefined in the
 * browser build, which refuses them.
 */
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

/**
 * The prototype of every resolved options object: the defaults, so that a client holds only the
 * options that differ from them, not a full object per idle connection. Shared objects among them
 * (heartbeat, reconnect, deflate settings) are frozen. Not frozen itself: an own property could not
 * be assigned over a read-only inherited one. An option whose default is undefined has no entry.
 *
 * `url` is parsed again from `href` on each read, a few times per connect, instead of a URL object
 * (with its URLContext) kept by every idle client.
 */
const RESOLVED_DEFAULTS: Partial<ResolvedOptions> = {
  get url(): URL {
    return new URL((this as unknown as ResolvedOptions).href);
  },
  protocols: NO_PROTOCOLS,
  reconnect: DEFAULT_RECONNECT,
  binaryType: "uint8array",
  textAs: "string",
  handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT,
  closeTimeout: DEFAULT_CLOSE_TIMEOUT,
  maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  lowWaterMark: Math.floor(DEFAULT_HIGH_WATER_MARK / 4),
  ...NODE_DEFAULTS,
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
      ? undefined
      : normalizeProtocols(o.protocols);
  // `null` counts as not given for these two.
  const binaryType = oneOf("binaryType", o.binaryType ?? undefined, ["uint8array", "arraybuffer", "buffer"]);
  const textAs = oneOf("textAs", o.textAs ?? undefined, ["string", "bytes"]);
  const reconnect = resolveReconnect(o.reconnect);
  callable("shouldReconnect", o.shouldReconnect);
  callable("onOpen", o.onOpen);
  const highWaterMark = finite("highWaterMark", o.highWaterMark, DEFAULT_HIGH_WATER_MARK, 1);
  const lowWaterMark = finite("lowWaterMark", o.lowWaterMark, Math.floor(highWaterMark / 4));
  if (lowWaterMark > highWaterMark) throw invalid("lowWaterMark", "<= highWaterMark");
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalid("signal", "an AbortSignal");
  const values: Partial<Omit<ResolvedOptions, "href" | "url">> = {
    protocols,
    providers,
    reconnect,
    shouldReconnect: o.shouldReconnect,
    onOpen: o.onOpen,
    binaryType,
    textAs,
    handshakeTimeout: finite("handshakeTimeout", o.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT, 1),
    closeTimeout: finite("closeTimeout", o.closeTimeout, DEFAULT_CLOSE_TIMEOUT),
    maxQueuedBytes: number("maxQueuedBytes", o.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
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
  const defaults = RESOLVED_DEFAULTS as Record<string, unknown>;
  const own = values as Record<string, unknown>;
  for (const key in own) {
    // An option left undefined (not given) takes the default.
    if (own[key] !== undefined && own[key] !== defaults[key]) resolved[key] = own[key];
  }
  return resolved as unknown as ResolvedOptions;
}

/**
 * Every option name: a misspelt one is a TypeError, not a silently ignored setting. The Node-only
 * ones are node-options.ts's, so that the browser build knows them too (and refuses them by name).
 */
const OPTION_NAMES: readonly string[] = [
  "protocols",
  "reconnect",
  "shouldReconnect",
  "onOpen",
  "binaryType",
  "textAs",
  "handshakeTimeout",
  "closeTimeout",
  "maxQueuedBytes",
  "highWaterMark",
  "lowWaterMark",
  "signal",
  "appHeartbeat",
  "maxBufferedBytes",
  "logger",
  ...NODE_OPTION_NAMES,
] satisfies (keyof WebSocketClientOptions)[];

/** The numeric fields of `reconnect`: the least value each takes, and whether it must be finite. */
const RECONNECT_NUMBERS: ReadonlyArray<
  readonly [Exclude<keyof ReconnectOptions, "jitter">, number, boolean]
> = [
  ["retries", 0, false],
  ["initialRetries", 0, false],
  ["minTimeout", 0, true],
  ["maxTimeout", 0, false],
  ["factor", 1, true],
  ["stableAfter", 0, false],
];

/** The `reconnect` option, validated: undefined (the default), `false`, or every field set. */
function resolveReconnect(
  option: Partial<ReconnectOptions> | false | undefined,
): ReconnectOptions | false | undefined {
  if (option === undefined || option === false) return option;
  const r = option ?? {};
  // The fields of the defaults are the known ones.
  checkKeys("reconnect", r, Object.keys(DEFAULT_RECONNECT));
  const jitter = oneOf("reconnect.jitter", r.jitter ?? DEFAULT_RECONNECT.jitter, [
    "full",
    "decorrelated",
    "none",
  ]);
  const reconnect: ReconnectOptions = { ...DEFAULT_RECONNECT, jitter };
  for (const [key, min, mustBeFinite] of RECONNECT_NUMBERS) {
    reconnect[key] = (mustBeFinite ? finite : number)(
      `reconnect.${key}`,
      r[key],
      DEFAULT_RECONNECT[key],
      min,
    );
  }
  if (reconnect.maxTimeout < reconnect.minTimeout) {
    throw invalid("reconnect.maxTimeout", ">= reconnect.minTimeout");
  }
  return reconnect;
}

/** `protocols` as a list: a string is one subprotocol. Tokens are checked by the core. */
export function normalizeProtocols(value: string | readonly string[]): readonly string[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) throw invalid("protocols", "a string or an array of strings");
  return [...value];
}

/** The per-attempt functions among the URL, `headers` and `protocols`, or undefined if none. */
function resolveProviders(
  input: UrlInput,
  o: WebSocketClientOptions<BinaryType, TextAs>,
): Providers | undefined {
  let providers: Record<string, unknown> | undefined;
  for (const [name, value] of [
    ["url", input],
    ["headers", o.headers],
    ["protocols", o.protocols],
  ] as const) {
    if (typeof value === "function") (providers ??= {})[name] = value;
  }
  return providers as Providers | undefined;
}
