/**
 * The platform of the browser build (browsers, Web Workers, edge workers): connections over the
 * runtime's own `WebSocket` (browser-connection.ts). tsup.config.ts puts this module in place of
 * platform.ts, so the browser bundle holds no Node transport and imports no `node:` module.
 */
import { BrowserConnection } from "./browser-connection.js";
import type { Platform } from "./client-connection.js";
import { unsupported } from "./node-options-browser.js";
import { normalizeProtocols, parseUrl, type ResolvedOptions } from "./options.js";

export const platform: Platform = {
  prepare(o: ResolvedOptions): void {
    // The other options a browser cannot honour are refused as they are resolved (node-options-browser.ts).
    if (o.providers?.headers !== undefined) throw unsupported("headers");
    if (o.binaryType === "buffer") throw unsupported('binaryType "buffer"');
  },
  // No headers: prepare() refuses a headers function.
  provided: { url: parseUrl, protocols: normalizeProtocols },
  newConnection: (o, handlers) => new BrowserConnection(o, handlers),
};
