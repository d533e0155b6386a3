/**
 * The browser build's node-options.ts (tsup.config.ts swaps them): the options a browser's WebSocket
 * cannot honour are refused by name, each with what to do instead, rather than validated and then
 * ignored. None of their checks ship in a browser bundle.
 */
import type { WebSocketClientOptions } from "./options.js";

export type { NodeOptions } from "./node-options.js";

/** Each option a browser cannot honour, with what to do instead. */
const UNSUPPORTED: ReadonlyArray<readonly [keyof WebSocketClientOptions, string]> = [
  ["headers", "send credentials in the URL's query or in a first message (onOpen)"],
  ["origin", "the browser sends the page's origin"],
  ["heartbeat", "a browser cannot send ping frames: use appHeartbeat (or heartbeat: false)"],
  ["tls", "the browser verifies certificates itself"],
  ["proxy", "the browser uses the system's proxy settings (proxy: false is accepted)"],
  ["socketPath", "a browser cannot open a Unix socket"],
  ["createConnection", "a browser opens its own connection"],
  ["perMessageDeflate", "the browser negotiates compression itself"],
  ["followRedirects", "a browser's WebSocket does not follow redirects"],
  ["maxRedirects", "a browser's WebSocket does not follow redirects"],
  ["forwardHeaders", "a browser's WebSocket does not follow redirects"],
  ["maxPayload", "a browser receives whole messages; maxBufferedBytes bounds a slow consumer"],
  ["maxHeadSize", "the browser reads the handshake"],
];

/** The values of those options that are what a browser does anyway. */
const ACCEPTED: Partial<Record<keyof WebSocketClientOptions, unknown>> = {
  heartbeat: false,
  proxy: false,
  perMessageDeflate: true,
  followRedirects: false,
};

/** A TypeError naming the option, with what to do instead. */
export function unsupported(name: keyof WebSocketClientOptions): TypeError {
  const instead = UNSUPPORTED.find(([n]) => n === name)?.[1];
  return new TypeError(`Option ${name} is not available in a browser: ${instead}`);
}

/** Throws for any option a browser cannot honour; there is nothing left to resolve. */
export function resolveNodeOptions(o: WebSocketClientOptions): Record<string, never> {
  for (const [name] of UNSUPPORTED) {
    if (o[name] !== undefined && o[name] !== ACCEPTED[name]) throw unsupported(name);
  }
  return {};
}

/** A ws+unix: URL names a socket path, which a browser cannot open. */
export function parseUnixUrl(input: string | URL): undefined {
  if (/^wss?\+unix:/i.test(String(input))) throw unsupported("socketPath");
  return undefined;
}
