/**
 * The browser build's node-options.ts (tsup.config.ts swaps them): the options a browser's WebSocket
 * cannot honour are refused by name rather than validated and then ignored. None of their checks
 * ship in a browser bundle.
 */
import type { WebSocketClientOptions } from "./options.js";

export type { NodeOptions } from "./node-options.js";

/**
 * The options a browser cannot honour. What to do instead of each is in docs/runtimes.md ("What a
 * browser cannot do"): one table there rather than a hint per option in every browser bundle.
 */
const UNSUPPORTED: ReadonlyArray<keyof WebSocketClientOptions> = [
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
];

/** The values of those options that are what a browser does anyway. */
const ACCEPTED: Partial<Record<keyof WebSocketClientOptions, unknown>> = {
  heartbeat: false,
  proxy: false,
  perMessageDeflate: true,
  followRedirects: false,
};

/** A TypeError naming the option (or its value) and where to read what to do instead. */
export function unsupported(name: string): TypeError {
  return new TypeError(`Option ${name} is not available in a browser (docs/runtimes.md: what instead)`);
}

/** Throws for any option a browser cannot honour; there is nothing left to resolve. */
export function resolveNodeOptions(o: WebSocketClientOptions): Record<string, never> {
  for (const name of UNSUPPORTED) {
    if (o[name] !== undefined && o[name] !== ACCEPTED[name]) throw unsupported(name);
  }
  return {};
}

/** A ws+unix: URL names a socket path, which a browser cannot open. */
export function parseUnixUrl(input: string | URL): undefined {
  if (/^wss?\+unix:/i.test(String(input))) throw unsupported("socketPath");
  return undefined;
}
