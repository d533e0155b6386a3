/**
 * The platform of the browser build (browsers, Web Workers, edge workers): connections over the
 * runtime's own `WebSocket` (browser-connection.ts). tsup.config.ts puts this module in place of
 * platform.ts, so the browser bundle holds no Node transport and imports no `node:` module.
 */
import { BrowserConnection } from "./browser-connection.js";
import type { Platform } from "./client-connection.js";
import type { ResolvedOptions } from "./options.js";

/**
 * Options a browser's WebSocket cannot honour, each with what to do instead: given, they throw a
 * TypeError at construction rather than be ignored. A resolved options object owns exactly the
 * options that differ from the defaults (options.ts), so "given" is an own property.
 */
const UNSUPPORTED: ReadonlyArray<readonly [keyof ResolvedOptions, string]> = [
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
  ["receive", "a browser's WebSocket delivers whole messages: use for await"],
  ["maxStreamedPayload", "a browser's WebSocket delivers whole messages: use for await"],
];

/** The values of those options that a browser does honour. */
function accepted(name: keyof ResolvedOptions, o: ResolvedOptions): boolean {
  return (name === "heartbeat" || name === "proxy") && o[name] === false;
}

export const platform: Platform = {
  streamedSends: false,
  prepare(o: ResolvedOptions): undefined {
    for (const [name, instead] of UNSUPPORTED) {
      if (Object.hasOwn(o, name) && !accepted(name, o)) {
        throw new TypeError(`Option ${name} is not available in a browser: ${instead}`);
      }
    }
    if (o.providers?.headers !== undefined) {
      throw new TypeError(`Option headers is not available in a browser: ${UNSUPPORTED[0]?.[1]}`);
    }
    if (o.binaryType === "buffer") {
      throw new TypeError(
        'Option binaryType "buffer" is not available in a browser: use "uint8array" or "arraybuffer"',
      );
    }
    return undefined;
  },
  newConnection: (o, handlers) => new BrowserConnection(o, handlers),
};
