/**
 * The browser build's node-verdict.ts (tsup.config.ts swaps them): a browser's WebSocket reports no
 * handshake or protocol error of the core, no HTTP status or Retry-After, no proxy, redirect, system
 * or TLS error, no happy eyeballs' AggregateError, so none of those rules applies and reconnect.ts's
 * shared rules decide alone. Each function is declared with an empty body (not as an arrow, nor with
 * rest parameters), so that a bundler drops its calls from the bundle.
 */

/** No error here is one of the Node transport's, nor carries a Node system code, nor gathers several. */
export function decideNodeError(
  _reason: object,
  _context: { readonly everOpened?: boolean },
  _decideOther: (other: unknown) => boolean | undefined,
  _retryableCloseCodes: ReadonlySet<number>,
): undefined {}

/** No answer here carries a Retry-After. */
export function serverRetryAfter(_reason: unknown): undefined {}
