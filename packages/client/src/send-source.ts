/**
 * What `send()` takes: a whole message as text or bytes (`toPayload`), or a source it streams, and how
 * the client tells (one rule for both builds: the browser build's stream-send-browser.ts refuses what
 * this recognises).
 */
import type { SendData } from "./events.js";

/** A chunk of a streamed message: bytes in any form, or text. */
export type SendChunk = string | ArrayBuffer | ArrayBufferView;

/**
 * What `send()` streams: an async iterable (an async generator, a Node `Readable`) or a WHATWG
 * `ReadableStream` of chunks.
 */
export type SendSource = AsyncIterable<SendChunk> | ReadableStream<SendChunk>;

/** Whether `data` is something to stream rather than a whole message. */
export function isSendSource(data: unknown): data is SendSource {
  if (data === null || typeof data !== "object") return false;
  return (
    typeof (data as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === "function" ||
    typeof (data as Partial<ReadableStream>).getReader === "function"
  );
}

/** A whole message's text or bytes (a view, not a copy); a TypeError for anything else. */
export function toPayload(data: SendData): Uint8Array | string {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("send() takes a string, bytes or a stream");
}
