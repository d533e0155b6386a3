import { resolveAppHeartbeat } from "./app-heartbeat.js";
import type { BinaryType, TextAs } from "./events.js";
import { DEFAULT_HEARTBEAT } from "./heartbeat.js";
import {
  checkHeaders,
  NODE_DEFAULTS,
  NODE_OPTION_NAMES,
  parseUnixUrl,
  resolveNodeOptions,
} from "./node-options.js";
import { checkLogger } from "./observe.js";
import { callable, checkKeys, finite, invalid, number, oneOf } from "./option-checks.js";
import type { Providers, ResolvedOptions, UrlInput, WebSocketClientOptions } from "./option-types.js";
import { DEFAULT_RECONNECT, type ReconnectOptions } from "./reconnect.js";
import { redactUrl } from "./redact.js";
import { DEFAULT_MAX_REDIRECTS } from "./redirect.js";

export type { BinaryType } from "./events.js";
export type {
  HeaderList,
  PerAttempt,
  Providers,
  ResolvedOptions,
  UrlInput,
  WebSocketClientOptions,
} from "./option-types.js";
// Their homes are the modules that apply them; exported from here too.
export { checkHeaders, DEFAULT_HEARTBEAT, DEFAULT_MAX_REDIRECTS };

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
