import type { HandshakeError, HttpResponse, ProtocolError } from "./errors.js";

/** The result of a successful upgrade: the server's 101 response and what it agreed to. */
export interface UpgradeResponse extends HttpResponse {
  /** The subprotocol the server selected (`Sec-WebSocket-Protocol`), or "" if none. */
  readonly protocol: string;
  /** The extensions the server accepted (`Sec-WebSocket-Extensions`), as sent, or "". */
  readonly extensions: string;
}

/**
 * What the protocol reports after {@link ClientProtocol.receiveData}: small immutable tagged values.
 *
 * - `open`: the handshake completed (client role: the 101 response was valid).
 * - `text` / `binary`: one whole message. `binary.data` may alias the bytes passed to `receiveData`
 *   when the message arrived whole in one chunk (no copy): do not reuse those bytes afterwards.
 * - `utf8`: a text message as its UTF-8 bytes, validated and not decoded, instead of `text` when the
 *   protocol was made with `decodeText: false` (relays). Its `data` may alias as `binary.data`.
 * - `ping` / `pong`: a control frame. The core already queued the pong that answers a ping.
 * - `close`: the peer's close frame. `code` is 1005 when the frame had no body. The core already
 *   queued the echo if this side had not sent a close frame yet.
 * - `message-start` / `message-chunk` / `message-end`: one data message as it arrives, with
 *   `streamMessages` (ProtocolOptions) instead of `text` / `binary`. `message-start` says its kind and
 *   whether it is compressed (RFC 7692); each `message-chunk` carries payload bytes as they arrive
 *   (a frame's payload need not be whole): a string for text, never split inside a code point and
 *   already validated; bytes for binary, which alias the chunks passed to `receiveData`; for a
 *   compressed message, the compressed bytes as sent (the caller inflates them, validates text and
 *   counts the inflated size; the 0x00 0x00 0xff 0xff tail of RFC 7692 section 7.2.2 is not included).
 *   `message-end` follows the last chunk. Pings, pongs and closes may come between them.
 * - `error`: the connection failed (bad frame, bad handshake). It is always the last event; the
 *   core already queued the close frame with `error.closeCode` when one is due, and the end of stream.
 */
export type WsEvent =
  | Readonly<{ type: "open"; response: UpgradeResponse }>
  | Readonly<{ type: "text"; data: string }>
  | Readonly<{ type: "binary"; data: Uint8Array }>
  | Readonly<{ type: "utf8"; data: Uint8Array }>
  | Readonly<{ type: "ping"; data: Uint8Array }>
  | Readonly<{ type: "pong"; data: Uint8Array }>
  | Readonly<{ type: "close"; code: number; reason: string }>
  | Readonly<{ type: "message-start"; binary: boolean; compressed: boolean }>
  | Readonly<{ type: "message-chunk"; data: string | Uint8Array }>
  | Readonly<{ type: "message-end" }>
  | Readonly<{ type: "error"; error: ProtocolError | HandshakeError }>;

/**
 * The end of the byte stream, as a tagged value rather than an empty chunk, so that code handling
 * the output of {@link ClientProtocol.dataToSend} must say what it does with it: close (or half-close)
 * the transport.
 */
export interface EndOfStream {
  readonly type: "eof";
}
/** The one {@link EndOfStream} value. */
export const END_OF_STREAM: EndOfStream = /* @__PURE__ */ Object.freeze({ type: "eof" });

/** One item of outgoing data: bytes to write, or the signal to end the transport. */
export type Outgoing = Uint8Array | EndOfStream;
