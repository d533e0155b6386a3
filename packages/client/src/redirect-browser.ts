/**
 * The browser build's redirect.ts (tsup.config.ts swaps them): a browser's WebSocket follows no
 * redirect (the option is refused, node-options-browser.ts), so there is never a next hop.
 */
import type { Hop } from "./redirect.js";

export { DEFAULT_MAX_REDIRECTS, type Hop, redirectInfo } from "./redirect.js";

/** Never a hop to follow: the failure stands. */
export function nextHop(_hop: Hop, _error: unknown): undefined {
  return undefined;
}
