/**
 * Following redirects of the upgrade request, as pure functions: where a 3xx points, and what of the
 * request survives the hop, and the loop that follows them (`followRedirects`): one connection per hop.
 */
import { UnexpectedResponseError } from "@tideway/core";
import { InvalidRedirectError, TooManyRedirectsError } from "./errors.js";
import type { RedirectInfo } from "./events.js";
import type { ResolvedOptions } from "./option-types.js";
import { redactUrl } from "./redact.js";

/** 301, 302, 303, 307, 308: the statuses with a `Location` to follow (RFC 9110 section 15.4). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** 10 redirects, as `ws` and browsers' fetch (20 there): a longer chain is a loop or a misconfiguration. */
export const DEFAULT_MAX_REDIRECTS = 10;

/** The "redirect" event of a hop from `from` to `to`; credentials in either URL are left out. */
export function redirectInfo(from: URL, to: URL, status: number): RedirectInfo {
  return { from: redactUrl(from), to: redactUrl(to), status };
}

/** The part of the options that changes from hop to hop. */
export interface Hop {
  readonly url: URL;
  readonly headers: ResolvedOptions["headers"];
  readonly socketPath: string | undefined;
}

const SCHEMES: Record<string, string> = { "ws:": "ws:", "wss:": "wss:", "http:": "ws:", "https:": "wss:" };

/** Same scheme, host and port (default ports count as given): what an "origin" is, RFC 6454. */
export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

/**
 * Resolves a `Location` against the current URL and maps http:/https: to ws:/wss:. Drops a
 * fragment (meaningless in a WebSocket URL, RFC 6455 section 3). Throws InvalidRedirectError.
 */
export function resolveLocation(current: URL, status: number, location: string | undefined): URL {
  if (location === undefined || location.trim() === "") {
    throw new InvalidRedirectError(status, location, "no Location header");
  }
  const shown = redactUrl(location);
  let url: URL;
  try {
    url = new URL(location.trim(), current);
  } catch {
    throw new InvalidRedirectError(status, shown, `invalid Location ${JSON.stringify(shown)}`);
  }
  const scheme = SCHEMES[url.protocol];
  if (scheme === undefined) {
    throw new InvalidRedirectError(status, shown, `unsupported scheme in Location ${JSON.stringify(shown)}`);
  }
  url.hash = "";
  return scheme === url.protocol ? url : new URL(scheme + url.href.slice(url.protocol.length));
}

/**
 * The headers a hop to another origin keeps: only those the user named in `forwardHeaders`. Any
 * other header may be a credential meant for the first origin (an API key, a session token).
 */
function crossOriginHeaders(
  headers: ResolvedOptions["headers"],
  forwardHeaders: ReadonlySet<string>,
): ResolvedOptions["headers"] {
  if (headers === undefined) return undefined;
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  return pairs.filter(([name]) => forwardHeaders.has(name.toLowerCase()));
}

const NONE: ReadonlySet<string> = new Set();

/**
 * The next hop after a failed handshake, or undefined when `error` is not a redirect to follow.
 * Same origin: headers and URL credentials carry over, and so does the Unix socket. Other origin:
 * every header of `hop.headers` is dropped except those named in `forwardHeaders` (lower case), and
 * so are the URL's user:pass and the socket path. Throws TooManyRedirectsError once `redirects`
 * (already followed) reached `max`, and InvalidRedirectError for a missing or unusable Location.
 */
export function nextHop(
  hop: Hop,
  error: unknown,
  redirects: number,
  max: number,
  forwardHeaders: ReadonlySet<string> = NONE,
): Hop | undefined {
  if (!(error instanceof UnexpectedResponseError) || !REDIRECT_STATUSES.has(error.status)) return undefined;
  const url = resolveLocation(hop.url, error.status, error.headers.location);
  if (redirects >= max) throw new TooManyRedirectsError(max, redactUrl(url));
  if (!sameOrigin(hop.url, url)) {
    return { url, headers: crossOriginHeaders(hop.headers, forwardHeaders), socketPath: undefined };
  }
  if (url.username === "" && url.password === "") {
    url.username = hop.url.username;
    url.password = hop.url.password;
  }
  return { url, headers: hop.headers, socketPath: hop.socketPath };
}

/**
 * Runs `attempt` on `hop`, then, while `o.followRedirects` allows, on each hop a redirect answer
 * points to (reported first as `host`'s "redirect" event). What ends the chain is thrown: the
 * attempt's failure, or a TooManyRedirectsError or InvalidRedirectError.
 */
export async function followRedirects<H extends Hop, T>(
  hop: H,
  o: ResolvedOptions,
  signal: AbortSignal,
  attempt: (hop: H, redirects: number) => Promise<T>,
  host: { emit(event: "redirect", info: RedirectInfo): void },
): Promise<T> {
  const first = hop;
  for (let redirects = 0; ; redirects++) {
    try {
      return await attempt(hop, redirects);
    } catch (err) {
      let next: Hop | undefined;
      let failure = err;
      if (o.followRedirects && !signal.aborted) {
        try {
          next = nextHop(hop, err, redirects, o.maxRedirects, o.forwardHeaders);
        } catch (redirectError) {
          failure = redirectError;
        }
      }
      if (next === undefined) throw failure;
      host.emit("redirect", redirectInfo(hop.url, next.url, (err as UnexpectedResponseError).status));
      // A hop sets url, headers and socketPath: the rest is the first hop's (the attempt's options), inherited.
      hop = { __proto__: first, ...next } as unknown as H;
    }
  }
}
