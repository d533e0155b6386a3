/**
 * What the client reports to observers at each step of its lifecycle and handshake: the diagnostics
 * channels (diagnostics-channels.ts publishes) and the `logger` option (logger.ts). The lifecycle and
 * the connection call one function per step; each builds its message or log line only when a channel
 * has a subscriber or a logger is set, so a client nobody observes pays a check per step and nothing
 * per message. The browser build puts observe-browser.ts in its place.
 */
import type { HttpResponse, UpgradeResponse } from "@tideway/core";
import { RequestHeadParser } from "@tideway/core/internals";
import type { Source } from "./diagnostics-channels.js";
import * as channels from "./diagnostics-channels.js";
import type { CloseInfo } from "./errors.js";
import type { ReconnectingInfo } from "./events.js";
import { type Logger, log } from "./logger.js";
import { redactHeaders, redactUrl } from "./redact.js";

/** A connection's options: the attempt's URL and the logger. */
interface Target {
  readonly url: URL;
  readonly logger: Logger | undefined;
}

/**
 * An error as one line: its stable code (a string `code`) and its message, or else as it prints itself
 * ("TypeError: message").
 */
function describe(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? `${code}: ${(error as Error).message}` : String(error);
}

function logHeaders(logger: Logger, direction: ">" | "<", headers: ReadonlyArray<readonly [string, string]>) {
  for (const [name, value] of headers) log(logger, "debug", `${direction} %s: %s`, name, value);
}

/** An attempt starts (idle/waiting -> connecting). Logged only. */
export function connecting(logger: Logger | undefined, url: string): void {
  if (logger) log(logger, "debug", "connecting to %s", redactUrl(url));
}

/** TCP (or TLS) is up and `request` (the core's upgrade request bytes) is being written. */
export function upgradeRequest(source: Source, o: Target, request: Uint8Array | undefined): void {
  const logger = o.logger;
  if ((!logger && !channels.hasSubscribers("upgrade-request")) || request === undefined) return;
  const head = new RequestHeadParser({ maxHeadSize: request.length }).push(request)?.request;
  if (head === undefined) return;
  channels.upgradeRequest(source, o.url, head);
  if (logger) {
    log(logger, "debug", "> %s %s %s", head.method, head.target, head.version);
    logHeaders(logger, ">", redactHeaders(head.rawHeaders));
  }
}

/** The server answered the upgrade request: a 101, or a refusal (a handshake error's response). */
export function upgradeResponse(source: Source, o: Target, response: HttpResponse): void {
  channels.upgradeResponse(source, o.url, response);
  const logger = o.logger;
  if (logger) {
    log(logger, "debug", "< HTTP/1.1 %d %s", response.status, response.statusText);
    logHeaders(logger, "<", redactHeaders(response.rawHeaders));
  }
}

/** connecting -> opening: the handshake completed. */
export function open(
  source: Source,
  logger: Logger | undefined,
  url: string,
  response: UpgradeResponse,
): void {
  channels.open(source, url, response);
  if (logger) log(logger, "info", "connection open: %s", redactUrl(url));
}

/** A connection that had opened is gone. */
export function close(source: Source, logger: Logger | undefined, info: CloseInfo): void {
  channels.close(source, info);
  if (logger)
    log(
      logger,
      "info",
      "connection closed: code %d, reason %s, %s",
      info.code,
      JSON.stringify(info.reason),
      info.wasClean ? "clean" : "not clean",
    );
}

/** The client emits an "error" event. */
export function error(source: Source, logger: Logger | undefined, err: Error): void {
  channels.error(source, err);
  if (logger) log(logger, "error", "failed: %s", describe(err));
}

/** connecting/open -> waiting: the backoff before the next attempt. */
export function reconnecting(source: Source, logger: Logger | undefined, info: ReconnectingInfo): void {
  channels.reconnecting(source, info);
  if (logger)
    log(
      logger,
      "warn",
      "reconnecting in %d ms (attempt %d) after %s",
      info.delay,
      info.attempt,
      describe(info.error),
    );
}

/** A ping frame from the server (the core already queued the pong). */
export function ping(source: Source, logger: Logger | undefined, data: Uint8Array): void {
  channels.ping(source, data);
  log(logger, "debug", "< ping (%d bytes)", data.length);
}

/** A pong frame from the server. */
export function pong(source: Source, logger: Logger | undefined, data: Uint8Array): void {
  channels.pong(source, data);
  log(logger, "debug", "< pong (%d bytes)", data.length);
}

/** any -> closing: `close()` was called. Logged only. */
export function closing(logger: Logger | undefined, code: number, reason: string): void {
  if (logger) log(logger, "debug", "closing: code %d, reason %s", code, JSON.stringify(reason));
}

/** -> closed: the run is over, cleanly or with the error the iterator throws. Logged only. */
export function closed(logger: Logger | undefined, err: unknown): void {
  if (logger) log(logger, "debug", "client closed%s", err === undefined ? "" : ` after ${describe(err)}`);
}
