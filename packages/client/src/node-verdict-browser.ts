/**
 * The browser build's node-verdict.ts (tsup.config.ts swaps them): a browser's WebSocket reports no
 * HTTP status or Retry-After, no proxy, redirect, system or TLS error, so none of those rules
 * applies and reconnect.ts's shared rules decide alone.
 */
import type * as node from "./node-verdict.js";

/** No error here is one of the Node transport's. */
export const decideNodeError: typeof node.decideNodeError = () => undefined;

/** No foreign error here carries a Node system code. */
export const decideSystemCode: typeof node.decideSystemCode = () => undefined;

/** No answer here carries a Retry-After. */
export const serverRetryAfter: typeof node.serverRetryAfter = () => undefined;
