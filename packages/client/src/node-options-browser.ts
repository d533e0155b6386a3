/**
 * The browser build's node-options.ts (tsup.config.ts swaps them): the options a browser's WebSocket
 * cannot honour are refused by name rather than validated and then ignored. None of their checks
 * ship in a browser bundle.
 */
import type { NodeOptions, NodeOptionsInput } from "./node-options.js";

export type { NodeOptions } from "./node-options.js";

/**
 * Each Node-only option with the value of it that is what a browser does anyway, if any; every other
 * value is refused. The type keeps it in step with node-options.ts's NODE_OPTION_NAMES.
 */
const ACCEPTED: Record<keyof NodeOptionsInput, unknown> = {
  headers: undefined,
  origin: undefined,
  heartbeat: false,
  tls: undefined,
  proxy: false,
  socketPath: undefined,
  createConnection: undefined,
  perMessageDeflate: true,
  followRedirects: false,
  maxRedirects: undefined,
  forwardHeaders: undefined,
  maxPayload: undefined,
  maxHeadSize: undefined,
  receive: undefined,
  maxStreamedPayload: undefined,
  localAddress: undefined,
  family: undefined,
  lookup: undefined,
};

/** Known in a browser too, so that they are refused by name rather than as unknown options. */
export const NODE_OPTION_NAMES = Object.keys(ACCEPTED) as (keyof NodeOptionsInput)[];

/** None: a browser refuses these options, so they are never set. */
export const NODE_DEFAULTS: NodeOptions = {};

/**
 * A TypeError naming the option (or its value) and where to read what to do instead: docs/runtimes.md
 * ("What a browser cannot do") has one table rather than a hint per option in every browser bundle.
 */
export function unsupported(name: string): TypeError {
  return new TypeError(`Option ${name} is not available in a browser (docs/runtimes.md: what instead)`);
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

/** A ws+unix: URL names a socket path, which a browser cannot open. */
export function parseUnixUrl(input: string | URL): undefined {
  if (/^wss?\+unix:/i.test(String(input))) throw unsupported("socketPath");
  return undefined;
}
