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
