/**
 * The browser build's observe.ts (browser-modules.mjs puts it in place): no diagnostics channel, and
 * the `logger` gets the same lifecycle steps at the same levels as a step's name and its values, not
 * printf lines: a browser's console shows an object (a close's fields, an error with its stack)
 * expandable, where a line would flatten it. The Node connection's steps (the upgrade's head, pings
 * and pongs) never run here: empty bodies, whose calls a bundler drops.
 */
import type { HttpResponse, UpgradeResponse } from "@tideway/core";
import type { Source } from "./diagnostics-channels.js";
import type { CloseInfo } from "./errors.js";
import type { ReconnectingInfo } from "./events.js";
import { type Logger, log } from "./logger.js";
import { redactUrl } from "./redact.js";

/** A connection's options, as observe.ts's Node-only steps read them. */
interface Target {
  readonly url: URL;
  readonly logger: Logger | undefined;
}

export function connecting(logger: Logger | undefined, url: string): void {
  log(logger, "debug", "tideway: connecting", redactUrl(url));
}

export function upgradeRequest(_source: Source, _o: Target, _request: Uint8Array | undefined): void {}

export function upgradeResponse(_source: Source, _o: Target, _response: HttpResponse): void {}

export function open(
  _source: Source,
  logger: Logger | undefined,
  url: string,
  _response: UpgradeResponse,
): void {
  log(logger, "info", "tideway: open", redactUrl(url));
}

export function close(_source: Source, logger: Logger | undefined, info: CloseInfo): void {
  log(logger, "info", "tideway: close", info);
}

export function error(_source: Source, logger: Logger | undefined, err: Error): void {
  log(logger, "error", "tideway: error", err);
}

export function reconnecting(_source: Source, logger: Logger | undefined, info: ReconnectingInfo): void {
  log(logger, "warn", "tideway: reconnecting", info);
}

export function ping(_source: Source, _logger: Logger | undefined, _data: Uint8Array): void {}

export function pong(_source: Source, _logger: Logger | undefined, _data: Uint8Array): void {}

export function closing(logger: Logger | undefined, code: number, reason: string): void {
  log(logger, "debug", "tideway: closing", code, reason);
}

/** The run is over: with the error it ended with, if any. */
export function closed(logger: Logger | undefined, err: unknown): void {
  log(logger, "debug", "tideway: closed", ...(err === undefined ? [] : [err]));
}
