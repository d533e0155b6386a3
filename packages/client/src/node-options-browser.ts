/**
 * The browser build's node-options.ts (tsup.config.ts swaps them): the options a browser's WebSocket
 * cannot honour are refused by name rather than validated and then ignored. None of their checks
 * ship in a browser bundle.
 */
import type { NodeOptions, NodeOptionsInput } from "./node-options.js";
import type { UrlInput } from "./option-types.js";

export type { NodeOptions } from "./node-options.js";

/**
 * Known in a browser too, so that they are refused by name rather than as unknown options. Text,
 * split once: node-options-browser.test.ts keeps it in step with node-options.ts's NODE_OPTION_NAMES.
 */
export const NODE_OPTION_NAMES = (
  "headers origin heartbeat tls proxy socketPath createConnection perMessageDeflate followRedirects " +
  "maxRedirects forwardHeaders maxPayload maxHeadSize receive maxStreamedPayload localAddress family lookup"
).split(" ") as (keyof NodeOptionsInput)[];

/** The Node-only options a browser accepts with the value that is what it does anyway; no other value. */
const ACCEPTED: Partial<NodeOptionsInput> = {
  heartbeat: false,
  proxy: false,
  perMessageDeflate: true,
  followRedirects: false,
};

/** None: a browser refuses these options, so they are never set. */
export const NODE_DEFAULTS: NodeOptions = {};

/**
 * A TypeError naming the option. What to do instead is in docs/runtimes.md ("What a browser cannot
 * do"), one table rather than a hint per option in every browser bundle.
 */
export function unsupported(name: string): TypeError {
  return new TypeError(`Option ${name} is not available in a browser`);
}

/** Throws for any option a browser cannot honour; there is nothing left to resolve. */
export function resolveNodeOptions(o: NodeOptionsInput): NodeOptions {
  for (const name of NODE_OPTION_NAMES) {
    if (o[name] !== undefined && o[name] !== ACCEPTED[name]) throw unsupported(name);
  }
  return NODE_DEFAULTS;
}

/** Never reached: a `headers` function is refused with the options. */
export function checkHeaders(): never {
  throw unsupported("headers");
}

/**
 * No ws+unix: URL here: options.ts parses every URL as ws:, wss:, http: or https:, and refuses a
 * ws+unix: one so. An empty body, whose calls a bundler drops.
 */
export function parseUnixUrl(_input: UrlInput): undefined {}
