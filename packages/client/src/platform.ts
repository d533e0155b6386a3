/**
 * The platform of the Node build (Node, Deno, Bun): connections over net/tls and the core. The
 * browser build replaces this module with platform-browser.ts (tsup.config.ts).
 */
import { ClientProtocol } from "@tideway/core";
import type { Platform } from "./client-connection.js";
import { Connection, protocolOptions } from "./connection.js";
import type { ResolvedOptions } from "./options.js";

/** Options only the browser build takes, with what Node does instead. */
const BROWSER_ONLY: ReadonlyArray<readonly [keyof ResolvedOptions, string]> = [
  ["appHeartbeat", "the Node build sends ping frames (the heartbeat option)"],
  ["maxBufferedBytes", "the Node build stops reading past highWaterMark"],
];

export const platform: Platform = {
  prepare(o: ResolvedOptions): ClientProtocol | undefined {
    for (const [name, instead] of BROWSER_ONLY) {
      if (o[name] !== undefined)
        throw new TypeError(`Option ${name} is for browsers and workers: ${instead}`);
    }
    try {
      // Validates what the core owns (headers it forbids, subprotocol tokens, limits) now, not at connect.
      return new ClientProtocol(protocolOptions(o));
    } catch (err) {
      if (err instanceof TypeError) throw err;
      throw new TypeError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  },
  newConnection: (o, handlers, spare) => new Connection(o, handlers, spare),
};
