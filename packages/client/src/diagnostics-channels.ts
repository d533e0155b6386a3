/**
 * Publishing on the `tideway:client:*` channels (diagnostics.ts names them and types their messages):
 * one function per channel, which builds its message only when the channel has a subscriber, so an
 * unobserved client pays a check per step. observe.ts calls them. The only module that imports
 * `node:diagnostics_channel`; the browser build puts diagnostics-channels-browser.ts in its place
 * (tsup.config.ts), whose functions do nothing, so no message building ships to browsers.
 */
import { channel } from "node:diagnostics_channel";
import type { HttpRequest, HttpResponse, UpgradeResponse } from "@tideway/core";
import { type ChannelMessages, DIAGNOSTICS_CHANNELS } from "./diagnostics.js";
import type { CloseInfo } from "./errors.js";
import type { ReconnectingInfo } from "./events.js";
import { redactHeaders, redactUrl } from "./redact.js";

/** Who a report is about: the lifecycle's host or the connection's handlers hold the client. */
export interface Source {
  readonly client: object;
}

/** The channel objects, held here for the life of the process (Node keeps them only weakly). */
const channels = {
  "upgrade-request": channel(DIAGNOSTICS_CHANNELS["upgrade-request"]),
  "upgrade-response": channel(DIAGNOSTICS_CHANNELS["upgrade-response"]),
  open: channel(DIAGNOSTICS_CHANNELS.open),
  close: channel(DIAGNOSTICS_CHANNELS.close),
  error: channel(DIAGNOSTICS_CHANNELS.error),
  reconnecting: channel(DIAGNOSTICS_CHANNELS.reconnecting),
  ping: channel(DIAGNOSTICS_CHANNELS.ping),
  pong: channel(DIAGNOSTICS_CHANNELS.pong),
};

/** True when someone subscribes to the channel `name`: only then is its message worth building. */
export function hasSubscribers(name: keyof ChannelMessages): boolean {
  return channels[name].hasSubscribers;
}

function publish<K extends keyof ChannelMessages>(name: K, message: ChannelMessages[K]): void {
  channels[name].publish(message);
}

/** The upgrade request was written: its head as the core parsed it. */
export function upgradeRequest(source: Source, url: URL, request: HttpRequest): void {
  if (hasSubscribers("upgrade-request")) {
    const { method, rawHeaders } = request;
    publish("upgrade-request", {
      client: source.client,
      method,
      url: redactUrl(url),
      headers: redactHeaders(rawHeaders),
    });
  }
}

/** The server answered the upgrade request: a 101, or a refusal (a handshake error's response). */
export function upgradeResponse(source: Source, url: URL, response: HttpResponse): void {
  if (hasSubscribers("upgrade-response")) {
    const { status, statusText, rawHeaders } = response;
    const headers = redactHeaders(rawHeaders);
    publish("upgrade-response", { client: source.client, url: redactUrl(url), status, statusText, headers });
  }
}

/** The handshake completed. */
export function open(source: Source, url: string, response: UpgradeResponse): void {
  if (hasSubscribers("open")) {
    const { protocol, extensions } = response;
    publish("open", { client: source.client, url: redactUrl(url), protocol, extensions });
  }
}

/** A connection that had opened is gone. */
export function close(source: Source, info: CloseInfo): void {
  if (hasSubscribers("close")) publish("close", { client: source.client, info });
}

/** The client emits an "error" event. */
export function error(source: Source, err: Error): void {
  if (hasSubscribers("error")) publish("error", { client: source.client, error: err });
}

/** The backoff before the next attempt. */
export function reconnecting(source: Source, info: ReconnectingInfo): void {
  if (hasSubscribers("reconnecting")) publish("reconnecting", { client: source.client, ...info });
}

/** A ping frame from the server. */
export function ping(source: Source, data: Uint8Array): void {
  if (hasSubscribers("ping")) publish("ping", { client: source.client, data });
}

/** A pong frame from the server. */
export function pong(source: Source, data: Uint8Array): void {
  if (hasSubscribers("pong")) publish("pong", { client: source.client, data });
}
