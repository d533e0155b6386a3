/** The client's events and the values they carry: one home for what listeners receive. */
import type { UpgradeResponse } from "@tideway/core";
import type { CloseInfo } from "./errors.js";
import type { RedirectInfo } from "./redirect.js";

/** A received message as handed to the user: text as a string, binary per `binaryType`. */
export type Message = string | Uint8Array | ArrayBuffer | Buffer;

/** What "reconnecting" reports before each wait. */
export interface ReconnectingInfo {
  /** The retry about to be made, 1-based, counted from the start of this outage (first connect or drop). */
  readonly attempt: number;
  /** The wait before it, in ms (jittered; at least the server's Retry-After). */
  readonly delay: number;
  /** Why: the failed attempt's error, or how the connection ended. */
  readonly error: unknown;
}

/** The events of a `WebSocketClient`, for eventemitter3's typed `on` / `once` / `off`. */
export interface ClientEvents {
  /** TCP (or TLS) established; the upgrade request is on its way (Workerman `onConnect`). */
  connect: () => void;
  /** Handshake done, on every (re)connect (Workerman `onWebSocketConnect`). `onOpen` runs after it. */
  open: (response: UpgradeResponse) => void;
  /** A message: string for text, `binaryType` for binary. */
  message: (data: Message) => void;
  ping: (data: Uint8Array) => void;
  pong: (data: Uint8Array) => void;
  /** A failed attempt or a connection that failed; errors carry a stable `code`. */
  error: (error: Error) => void;
  /** A connection that had opened is gone. */
  close: (info: CloseInfo) => void;
  /** The client will try again after `delay` ms. */
  reconnecting: (info: ReconnectingInfo) => void;
  /** `followRedirects`: the upgrade was redirected; the next hop is being opened. */
  redirect: (info: RedirectInfo) => void;
}

/** What `send()` accepts: text, or bytes in any form (sent as binary unless `{ binary: false }`). */
export type SendData = string | ArrayBuffer | ArrayBufferView;

export interface SendOptions {
  /** Force the frame type: `true` sends a string as binary (UTF-8); `false` sends bytes as text (must be UTF-8). */
  binary?: boolean;
}

/**
 * The connection `onOpen` runs on. Its sends go out at once, before the sends queued while
 * disconnected and before any `client.send()` made while `onOpen` runs: authenticate and resubscribe
 * here. (A `client.send()` awaited inside `onOpen` would wait for `onOpen` itself to end.)
 */
export interface OpenSession {
  /** The server's 101 response. */
  readonly response: UpgradeResponse;
  /** Sends on this connection now. Rejects if it is no longer open. */
  send(data: SendData, options?: SendOptions): Promise<void>;
  /** Pings on this connection; resolves with the round trip in ms. */
  ping(): Promise<number>;
}
