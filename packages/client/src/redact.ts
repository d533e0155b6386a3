/**
 * The one rule for showing a URL: without its `user:pass@`. Every event, error message and log of
 * the client goes through it, so credentials given in a URL never leave the request that uses them.
 */

/** `scheme://` then the userinfo, up to the last `@` before the path (as the WHATWG URL parser splits it). */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

/**
 * `url` as text without its credentials (`ws://user:pass@host/` -> `ws://host/`). Works on text that
 * does not parse as a URL too, so an invalid URL can be quoted in an error message.
 */
export function redactUrl(url: string | URL): string {
  return String(url).replace(USERINFO, "$1");
}

/** Header names whose values are credentials (lower case): shown as {@link REDACTED}. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
]);

/** What a credential's value is replaced with. */
export const REDACTED = "[redacted]";

/**
 * Header pairs, in order, with the values of Authorization, Proxy-Authorization, Cookie and
 * Set-Cookie replaced by {@link REDACTED}; other values are kept as they are.
 */
export function redactHeaders(
  pairs: ReadonlyArray<readonly [string, string]>,
): ReadonlyArray<readonly [string, string]> {
  return pairs.map(([name, value]) => [name, CREDENTIAL_HEADERS.has(name.toLowerCase()) ? REDACTED : value]);
}
