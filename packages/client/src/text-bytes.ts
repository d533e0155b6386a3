/**
 * Text messages delivered as bytes (`textAs: "bytes"`, docs/client.md "Text as bytes"): a class of
 * their own, so that `instanceof TextBytes` tells them from binary messages that are Uint8Arrays too.
 */

/**
 * A received text message as its UTF-8 bytes: validated by the core (invalid UTF-8 still fails the
 * connection with 1007), never decoded. A view of the received bytes, not a copy. Send it on as text
 * with `send(bytes, { binary: false })`; decode it with `new TextDecoder().decode(bytes)`.
 */
export class TextBytes extends Uint8Array {
  /** Always true: tells a text message from a binary one (also by type, for TypeScript). */
  get isText(): true {
    return true;
  }
}

/** The client's one UTF-8 encoder: text to bytes for sizes, close reasons and text sent as binary. */
export const utf8 = /* @__PURE__ */ new TextEncoder();

/** `bytes` as a TextBytes view of the same memory. */
export function textBytes(bytes: Uint8Array): TextBytes {
  // The core's buffers are never shared: an ArrayBuffer.
  return new TextBytes(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
}
