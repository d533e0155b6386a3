/**
 * The browser build's redirect.ts (browser-modules.mjs swaps them): a browser's WebSocket follows no
 * redirect (the option is refused, node-options-browser.ts), so the attempt's failure stands.
 */
import type { followRedirects as follow, Hop } from "./redirect.js";

export { DEFAULT_MAX_REDIRECTS, type Hop } from "./redirect.js";

/** The one attempt, on the first hop: there is never a next one. */
export const followRedirects = (<H extends Hop, T>(
  hop: H,
  _o: unknown,
  _signal: unknown,
  attempt: (hop: H, redirects: number) => Promise<T>,
): Promise<T> => attempt(hop, 0)) as typeof follow;
