/**
 * The browser build's diagnostics-channels.ts (tsup.config.ts puts it in place): a browser has no
 * `node:diagnostics_channel`, so no channel ever has a subscriber and nothing is published.
 */
import type { ChannelMessages } from "./diagnostics.js";

/** Always false: no channel exists in a browser. */
export function hasSubscribers(_name: keyof ChannelMessages): boolean {
  return false;
}

/** Never called (nothing has subscribers). */
export function publish<K extends keyof ChannelMessages>(_name: K, _message: ChannelMessages[K]): void {}
