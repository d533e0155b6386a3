/**
 * The client's named channels on `node:diagnostics_channel`, as undici's `undici:websocket:*`: their
 * names and the type of each message. Publishing is diagnostics-channels.ts's job (the only importer
 * of `node:diagnostics_channel`; the browser build has diagnostics-channels-browser.ts instead).
 */
import type { CloseInfo } from "./errors.js";

/** Fields every message has. */
export interface ChannelMessageBase {
  /**
   * The `WebSocketClient` the message is about (compare it with `===`, or narrow it with
   * `instanceof WebSocketClient`). A `WebSocket` facade reports its underlying client.
   */
  readonly client: object;
}

/** `tideway:client:upgrade-request`: the upgrade request was written to the socket (TCP or TLS is up). */
export interface UpgradeRequestChannelMessage extends ChannelMessageBase {
  /** `GET`. */
  readonly method: string;
  /** The URL of this attempt, without `user:pass@`. */
  readonly url: string;
  /** The header pairs sent, in order; Authorization, Proxy-Authorization and Cookie values are redacted. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** `tideway:client:upgrade-response`: the server answered the upgrade request, with a 101 or not. */
export interface UpgradeResponseChannelMessage extends ChannelMessageBase {
  /** The URL of this attempt, without `user:pass@`. */
  readonly url: string;
  /** The status code: 101, or the refusal's (401, 503, a 3xx...). */
  readonly status: number;
  /** The reason phrase, as sent. */
  readonly statusText: string;
  /** The header pairs received, in order; Set-Cookie (and any credential header) values are redacted. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** `tideway:client:open`: a handshake completed (as the "open" event, before `onOpen` runs). */
export interface OpenChannelMessage extends ChannelMessageBase {
  /** The URL of this attempt, without `user:pass@`. */
  readonly url: string;
  /** The subprotocol the server selected, or "". */
  readonly protocol: string;
  /** The extensions the server accepted, as sent, or "". */
  readonly extensions: string;
}

/** `tideway:client:close`: a connection that had opened is gone (as the "close" event). */
export interface CloseChannelMessage extends ChannelMessageBase {
  /** The close codes and reasons, as the "close" event's argument. */
  readonly info: CloseInfo;
}

/** `tideway:client:error`: the client emits an "error" event (a failed attempt or connection). */
export interface ErrorChannelMessage extends ChannelMessageBase {
  /** The "error" event's argument. */
  readonly error: Error;
}

/** `tideway:client:reconnecting`: the client waits `delay` ms before its next attempt. */
export interface ReconnectingChannelMessage extends ChannelMessageBase {
  /** The retry about to be made, 1-based, counted from the start of this outage. */
  readonly attempt: number;
  /** The wait before it, in ms. */
  readonly delay: number;
  /** Why: the failed attempt's error, or how the connection ended. */
  readonly error: unknown;
}

/** `tideway:client:ping` and `tideway:client:pong`: a ping or pong frame received from the server. */
export interface ControlChannelMessage extends ChannelMessageBase {
  /** The frame's payload (0 to 125 bytes). */
  readonly data: Uint8Array;
}

/** The message of each channel, by its short name (the part after `tideway:client:`). */
export interface ChannelMessages {
  "upgrade-request": UpgradeRequestChannelMessage;
  "upgrade-response": UpgradeResponseChannelMessage;
  open: OpenChannelMessage;
  close: CloseChannelMessage;
  error: ErrorChannelMessage;
  reconnecting: ReconnectingChannelMessage;
  ping: ControlChannelMessage;
  pong: ControlChannelMessage;
}

/** The full name of every channel the client publishes on, by short name. */
export const DIAGNOSTICS_CHANNELS: Readonly<{ [K in keyof ChannelMessages]: `tideway:client:${K}` }> =
  /* @__PURE__ */ Object.freeze({
    "upgrade-request": "tideway:client:upgrade-request",
    "upgrade-response": "tideway:client:upgrade-response",
    open: "tideway:client:open",
    close: "tideway:client:close",
    error: "tideway:client:error",
    reconnecting: "tideway:client:reconnecting",
    ping: "tideway:client:ping",
    pong: "tideway:client:pong",
  });
