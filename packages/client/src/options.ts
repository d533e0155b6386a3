import type { AppHeartbeat } from "./app-heartbeat.js";
import type { BinaryType, TextAs } from "./events.js";
import { DEFAULT_HEARTBEAT } from "./heartbeat.js";
import { checkLogger } from "./logger.js";
import {
  checkHeaders,
  NODE_DEFAULTS,
  NODE_OPTION_NAMES,
  type NodeOptionsInput,
  parseUnixUrl,
  resolveNodeOptions,
} from "./node-options.js";
import { callable, checkKeys, invalid, number, oneOf } from "./option-checks.js";
import type { PerAttempt, ResolvedOptions, UrlInput, WebSocketClientOptions } from "./option-types.js";
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

/**
 * Parses a ws:, wss:, http: or https: URL (http(s) mapped to ws(s)). Throws one TypeError, which
 * names the URL (without credentials) and what is expected, for a URL that does not parse, another
 * scheme, or a fragment (RFC 6455 section 3: "Fragment identifiers are meaningless" there).
 */
export function parseUrl(input: string | URL): URL {
  let url: URL | undefined;
  try {
    url = new URL(input);
  } catch {}
  if (!url || !/^(ws|http)s?:$/.test(url.protocol) || url.hash) {
    throw new TypeError(
      `Invalid URL ${redactUrl(input)}: expected ws:, wss:, http: or https:, without #fragment`,
    );
  }
  // http: -> ws:, https: -> wss:
  return url.protocol[0] === "h" ? new URL(`ws${url.href.slice(4)}`) : url;
}

/** `protocols` when none is offered: shared, as the defaults below, rather than one array per client. */
const NO_PROTOCOLS: readonly string[] = Object.freeze([]);

/**
 * How an option is checked: a function of the value given (never undefined) and the option's name;
 * the allowed strings, the first of them the default; or for a number, the least value, 1 if it may
 * be Infinity, and the default.
 */
type Check =
  | ((value: never, name: string) => unknown)
  | readonly string[]
  | readonly [min: number, infinite?: 0 | 1, fallback?: number];

/**
 * The options of both builds, checked in this order (`highWaterMark` before `lowWaterMark`, whose
 * default it gives). The Node-only ones are node-options.ts's.
 */
const CHECKS = {
  protocols: (value: PerAttempt<string | readonly string[]>) =>
    typeof value === "function" ? undefined : normalizeProtocols(value),
  binaryType: ["uint8array", "arraybuffer", "buffer"],
  textAs: ["string", "bytes"],
  reconnect: resolveReconnect,
  shouldReconnect: callable,
  onOpen: callable,
  highWaterMark: [1, 0, DEFAULT_HIGH_WATER_MARK],
  // By default a quarter of highWaterMark.
  lowWaterMark: [0, 0, Math.floor(DEFAULT_HIGH_WATER_MARK / 4)],
  signal: (value: unknown) => {
    if (!(value instanceof AbortSignal)) throw invalid("signal", "an AbortSignal");
    return value;
  },
  handshakeTimeout: [1, 0, DEFAULT_HANDSHAKE_TIMEOUT],
  closeTimeout: [0, 0, DEFAULT_CLOSE_TIMEOUT],
  maxQueuedBytes: [0, 1, DEFAULT_MAX_QUEUED_BYTES],
  // What appHeartbeat() made: a bundle that never calls it carries none of the heartbeat.
  appHeartbeat: (value: AppHeartbeat, name: string) => callable(value, name, "made by appHeartbeat()"),
  maxBufferedBytes: [1],
  logger: checkLogger,
} satisfies { [K in Exclude<keyof WebSocketClientOptions, keyof NodeOptionsInput>]-?: Check };

/**
 * The options given (not undefined) in `given`, each checked as `checks` says and named `prefix` and
 * its key in the TypeError of a refused value.
 */
function checkGiven(
  checks: Record<string, Check>,
  given: Record<string, unknown>,
  prefix = "",
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(checks)) {
    const value = given[key];
    const name = prefix + key;
    if (value !== undefined) {
      values[key] =
        typeof check === "function"
          ? check(value as never, name)
          : typeof check[0] === "string"
            ? oneOf(name, value as string, check as readonly string[])
            : number(name, value as number, 0, check[0] as number, check[1] as 0 | 1);
    }
  }
  return values;
}

/**
 * Every option name: a misspelt one is a TypeError, not a silently ignored setting. The Node-only
 * ones are node-options.ts's, so that the browser build knows them too (and refuses them by name).
 */
const OPTION_NAMES: readonly string[] = [...Object.keys(CHECKS), ...NODE_OPTION_NAMES];

/**
 * The prototype of every resolved options object: the defaults, so that a client holds only the
 * options that differ from them, not a full object per idle connection. Shared objects among them
 * (heartbeat, reconnect, deflate settings) are frozen. Not frozen itself: an own property could not
 * be assigned over a read-only inherited one. A table option without a default has an undefined entry.
 *
 * `url` is parsed again from `href` on each read, a few times per connect, instead of a URL object
 * (with its URLContext) kept by every idle client.
 */
const RESOLVED_DEFAULTS: Record<string, unknown> = {
  get url(): URL {
    return new URL((this as unknown as ResolvedOptions).href);
  },
  protocols: NO_PROTOCOLS,
  reconnect: DEFAULT_RECONNECT,
  ...NODE_DEFAULTS,
};
for (const [name, check] of Object.entries(CHECKS) as [string, Check][]) {
  if (typeof check !== "function")
    RESOLVED_DEFAULTS[name] = typeof check[0] === "string" ? check[0] : check[2];
}

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
  // A provided URL is known only per attempt; the protocol built to validate the options uses a stand-in.
  const unix = parseUnixUrl(input);
  const resolved: Record<string, unknown> = Object.create(RESOLVED_DEFAULTS);
  resolved.href = unix?.url.href ?? (typeof input === "function" ? "ws://localhost/" : parseUrl(input).href);
  // An option left undefined (not given) takes the default.
  const values = checkGiven(CHECKS, o as Record<string, unknown>);
  const highWaterMark = (values.highWaterMark ?? DEFAULT_HIGH_WATER_MARK) as number;
  const lowWaterMark = (values.lowWaterMark ??= Math.floor(highWaterMark / 4)) as number;
  if (lowWaterMark > highWaterMark) throw invalid("lowWaterMark", "<= highWaterMark");
  Object.assign(values, resolveNodeOptions(o, unix?.socketPath));
  // The per-attempt functions among the URL, `headers` and `protocols`.
  for (const [name, value] of Object.entries({ url: input, headers: o.headers, protocols: o.protocols })) {
    if (typeof value === "function") ((values.providers ??= {}) as Record<string, unknown>)[name] = value;
  }
  for (const name in values) {
    if (values[name] !== undefined && values[name] !== resolved[name]) resolved[name] = values[name];
  }
  return resolved as unknown as ResolvedOptions;
}

/** How the fields of `reconnect` are checked; their defaults are DEFAULT_RECONNECT's ("full" is jitter's). */
const RECONNECT_CHECKS = {
  retries: [0, 1],
  initialRetries: [0, 1],
  minTimeout: [0],
  maxTimeout: [0, 1],
  factor: [1],
  jitter: ["full", "decorrelated", "none"],
  stableAfter: [0, 1],
} satisfies Record<keyof ReconnectOptions, Check>;

/** The `reconnect` option, validated: `false`, or every field set. */
function resolveReconnect(option: Partial<ReconnectOptions> | false): ReconnectOptions | false {
  if (option === false) return option;
  const r: Record<string, unknown> = option ?? {};
  checkKeys("reconnect", r, Object.keys(RECONNECT_CHECKS));
  const reconnect = { ...DEFAULT_RECONNECT, ...checkGiven(RECONNECT_CHECKS, r, "reconnect.") };
  if (reconnect.maxTimeout < reconnect.minTimeout)
    throw invalid("reconnect.maxTimeout", ">= reconnect.minTimeout");
  return reconnect;
}

/** `protocols` as a list: a string is one subprotocol. Tokens are checked by the core. */
export function normalizeProtocols(value: string | readonly string[]): readonly string[] {
  if (typeof value === "string") return [value];
  if (!Array.isArray(value)) throw invalid("protocols", "a string or an array of strings");
  return [...value];
}
