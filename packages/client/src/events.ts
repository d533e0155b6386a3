/**
 * The types of what the client hands out and takes: messages (narrowed by `binaryType`), its events,
 * what `send()` accepts, and the session `onOpen` runs on. Types only.
 */
import type { Buffer } from "node:buffer";
import type { UpgradeResponse, WsEvent } from "@tideway/core";
import type { CloseInfo, TidewayError } from "./errors.js";
import type { TextBytes } from "./text-bytes.js";

/** How binary messages are handed to the user. */
export type BinaryType = "uint8array" | "arraybuffer" | "buffer";

/** What the "redirect" event reports, before the next hop is opened. URLs are ws:/wss:, without credentials. */
export interface RedirectInfo {
  readonly from: string;
  readonly to: string;
  readonly status: number;
}

/** The type of a binary message for each `binaryType`. */
export interface BinaryMessageTypes {
  uint8array: Uint8Array;
  arraybuffer: ArrayBuffer;
  buffer: Buffer;
}

/** How text messages are handed to the user: decoded strings, or their UTF-8 bytes (relays). */
export type TextAs = "string" | "bytes";

/** The type of a text message for each `textAs`. */
export interface TextMessageTypes {
  string: string;
  bytes: TextBytes;
}

/**
 * A received message: text as a string (or a {@link TextBytes} with `textAs: "bytes"`, `T`), binary
 * per `binaryType` (`B`). `Message` alone is a string or any binary type; a client made with
 * `{ binaryType: "arraybuffer" }` yields `Message<"arraybuffer">`.
 */
export type Message<B extends BinaryType = BinaryType, T extends TextAs = "string"> =
  | TextMessageTypes[T]
  | BinaryMessageTypes[B];

/** What "reconnecting" reports before each wait. */
export interface ReconnectingInfo {
  /** The retry about to be made, 1-based, counted from the start of this outage (first connect or drop). */
  readonly attempt: number;
  /** The wait before it, in ms (jittered; at least the server's Retry-After). */
  readonly delay: number;
  /** Why: the failed attempt's error, or how the connection ended. */
  readonly error: unknown;
}

/**
 * The events of a client whose `binaryType` is `B` and `textAs` is `T`, for eventemitter3's typed
 * `on` / `once` / `off`.
 */
export interface ClientEvents<B extends BinaryType = BinaryType, T extends TextAs = "string"> {
  /** TCP (or TLS) established; the upgrade request is on its way (Workerman `onConnect`). */
  connect: () => void;
  /** Handshake done, on every (re)connect (Workerman `onWebSocketConnect`). `onOpen` runs after it. */
  open: (response: UpgradeResponse) => void;
  /** A message: string (or TextBytes, per `textAs`) for text, `binaryType` for binary. */
  message: (data: Message<B, T>) => void;
  /** A ping from the server, with its payload; the client has already answered it. */
  ping: (data: Uint8Array) => void;
  /** A pong, with its payload (the answer to a heartbeat ping, a `ping()`, or unsolicited). */
  pong: (data: Uint8Array) => void;
  /**
   * A failed attempt or a connection that failed; `code` is stable and comparing it narrows the
   * error's class. What a listener of yours or your `onOpen` threw is reported here as thrown.
   */
  error: (error: TidewayError) => void;
  /** A connection that had opened is gone. */
  close: (info: CloseInfo) => void;
  /** The client will try again after `delay` ms. */
  reconnecting: (info: ReconnectingInfo) => void;
  /** `followRedirects`: the upgrade was redirected; the next hop is being opened. */
  redirect: (info: RedirectInfo) => void;
}

/**
 * The events as the client emits them: "error" also passes on, as thrown, what a user's listener or
 * `onOpen` threw, which the listeners' {@link TidewayError} type leaves out.
 */
export type EmittedEvents = Omit<ClientEvents, "error"> & { error: (error: Error) => void };

/** A part of a message being received, as the core reports it with `receive: "stream"`. */
export type MessagePart = Extract<WsEvent, { type: "message-start" | "message-chunk" | "message-end" }>;

/** What `send()` accepts: text, or bytes in any form (sent as binary unless `{ binary: false }`). */
export type SendData = string | ArrayBuffer | ArrayBufferView;

/** A ping or pong payload: text (sent as UTF-8) or bytes, at most 125 bytes (RFC 6455 section 5.5). */
export type ControlData = string | ArrayBuffer | ArrayBufferView;

/** How `send()` frames the data. */
export interface SendOptions {
  /**
   * Force the frame type: `true` sends a string as binary (UTF-8); `false` sends bytes as text (must
   * be UTF-8). For a streamed message, unset means the first chunk's type decides (a string: text).
   */
  binary?: boolean;
  /**
   * `false` sends this message uncompressed even when permessage-deflate is negotiated (data already
   * compressed, or too small to gain). Default `true`: compressed when at or over the `threshold`.
   */
  compress?: boolean;
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
  /** Pings on this connection (with `data` as the payload, if given); resolves with the round trip in ms. */
  ping(data?: ControlData): Promise<number>;
}
