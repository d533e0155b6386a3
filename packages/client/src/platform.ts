/**
 * The platform of the Node build (Node, Deno, Bun): connections over net/tls and the core. The
 * browser build replaces this module with platform-browser.ts (tsup.config.ts).
 */
import { ClientProtocol } from "@tideway/core";
import type { Platform } from "./client-connection.js";
import { Connection, protocolOptions } from "./connection.js";
import { ProviderError } from "./errors.js";
import { checkHeaders, normalizeProtocols, parseUrl, type ResolvedOptions } from "./options.js";

/** Options only the browser build takes, with what Node does instead. */
const BROWSER_ONLY: ReadonlyArray<readonly [keyof ResolvedOptions, string]> = [
  ["appHeartbeat", "the Node build sends ping frames (the heartbeat option)"],
  ["maxBufferedBytes", "the Node build stops reading past highWaterMark"],
];

/** The protocol prepare() built from these very options, kept for their first connection (its key unused). */
const spares = new WeakMap<ResolvedOptions, ClientProtocol>();

export const platform: Platform = {
  prepare(o) {
    for (const [name, instead] of BROWSER_ONLY) {
      if (o[name] !== undefined)
        throw new TypeError(`Option ${name} is for browsers and workers: ${instead}`);
    }
    let protocol: ClientProtocol;
    try {
      // Validates what the core owns (headers it forbids, subprotocol tokens, limits) now, not at connect.
      protocol = new ClientProtocol(protocolOptions(o));
    } catch (err) {
      if (err instanceof TypeError) throw err;
      throw new TypeError(err instanceof Error ? err.message : String(err), { cause: err });
    }
    // With option functions, every attempt has options of its own: none would take it.
    if (o.providers === undefined) spares.set(o, protocol);
  },
  provided: { url: parseUrl, headers: checkHeaders, protocols: normalizeProtocols },
  newConnection(o, handlers) {
    const spare = spares.get(o);
    spares.delete(o);
    try {
      return new Connection(o, handlers, spare);
    } catch (err) {
      // What the core refuses in a provided value (a forbidden header, a bad subprotocol token).
      const p = o.providers;
      if (p === undefined) throw err;
      throw new ProviderError(p.protocols !== undefined ? "protocols" : "headers", err);
    }
  },
};
