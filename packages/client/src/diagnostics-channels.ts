/**
 * Publishing on the `tideway:client:*` channels (diagnostics.ts names them). The only module that
 * imports `node:diagnostics_channel`; the browser build puts diagnostics-channels-browser.ts in its
 * place (tsup.config.ts). Callers build a message only when {@link hasSubscribers} returns true: with
 * no subscriber, nothing is built or published.
 */
import { channel } from "node:diagnostics_channel";
import { type ChannelMessages, DIAGNOSTICS_CHANNELS } from "./diagnostics.js";

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

/** Publishes `message` on the channel `name`; call it only after {@link hasSubscribers}. */
export function publish<K extends keyof ChannelMessages>(name: K, message: ChannelMessages[K]): void {
  channels[name].publish(message);
}
