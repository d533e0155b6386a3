/**
 * What `send()` streams rather than sends whole, and how the client tells (one rule for both builds:
 * the browser build's stream-send-browser.ts refuses what this recognises).
 */

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
