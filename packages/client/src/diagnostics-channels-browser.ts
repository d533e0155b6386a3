/**
 * The browser build's diagnostics-channels.ts (tsup.config.ts puts it in place): a browser has no
 * `node:diagnostics_channel`, so no channel ever has a subscriber and nothing is published. Each
 * function is declared with an empty body (not as an arrow, nor with rest parameters) so that a
 * bundler drops its calls, and with them the building of the messages, from the browser bundle.
 */
import type { HttpRequest, HttpResponse, UpgradeResponse } from "@tideway/core";
import type { ChannelMessages } from "./diagnostics.js";
import type { Source } from "./diagnostics-channels.js";
import type { CloseInfo } from "./errors.js";
import type { ReconnectingInfo } from "./events.js";

/** Always false: no channel exists in a browser. */
export function hasSubscribers(_name: keyof ChannelMessages): boolean {
  return false;
}

export function upgradeRequest(_source: Source, _url: URL, _request: HttpRequest): void {}
export function upgradeResponse(_source: Source, _url: URL, _response: HttpResponse): void {}
export function open(_source: Source, _url: string, _response: UpgradeResponse): void {}
export function close(_source: Source, _info: CloseInfo): void {}
export function error(_source: Source, _err: Error): void {}
export function reconnecting(_source: Source, _info: ReconnectingInfo): void {}
export function ping(_source: Source, _data: Uint8Array): void {}
export function pong(_source: Source, _data: Uint8Array): void {}
