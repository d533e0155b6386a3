/**
 * The browser build's control-payload.ts (browser-modules.mjs puts it in place): a browser sends no
 * ping or pong payload, and its connection (browser-connection.ts) refuses any `data` with a
 * TypeError, so the data goes to that refusal as it is, unchecked and uncopied.
 */
import type { ControlData } from "./events.js";

/** `data` as given, for the browser connection's refusal. */
export function controlPayload(data: ControlData | undefined): Uint8Array | undefined {
  return data as Uint8Array | undefined;
}
