/**
 * What both sides of the RFC 6455 opening handshake share: the accept key, the header names the
 * handshake owns, and the checks and encoding of the headers a caller adds.
 */
import { encodeBase64 } from "./base64.js";
import { WEBSOCKET_GUID } from "./constants.js";
import { validateHeaderName, validateHeaderValue } from "./headers.js";
import { sha1 } from "./sha1.js";

/** `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2, step 5.4). */
export function computeAccept(key: string): string {
  return encodeBase64(sha1(latin1Bytes(key + WEBSOCKET_GUID)));
}

export type HeaderInit = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

/**
 * Headers the handshake writes itself; a user value would break or fake the negotiation. `Host` is
 * not among them: overriding it is useful (a virtual host reached by IP, a tunnel), so a user `Host`
 * replaces the one derived from the URL.
 */
export const HANDSHAKE_HEADERS = new Set([
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

export function headerPairs(headers: HeaderInit | undefined): Array<readonly [string, string]> {
  if (headers === undefined) return [];
  const pairs = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [string, string]>)
    : Object.entries(headers as Record<string, string>);
  for (const [name, value] of pairs) {
    validateHeaderName(name);
    validateHeaderValue(value);
  }
  return [...pairs];
}

/** Writes an HTTP head; every char was validated to be <= U+00FF, so Latin-1 is lossless. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
