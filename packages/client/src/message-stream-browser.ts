/**
 * The browser build's message-stream.ts (browser-modules.mjs puts it in place): the browser build
 * refuses `receive: "stream"` (node-options-browser.ts), so no message is ever received as a stream there.
 */
export { MessageStream } from "./message-stream.js";

/** No receiver: the options never ask for one in a browser. */
export function receiveStreams(): undefined {
  return undefined;
}

/** The client's own iterator: always allowed, as there is no receiver. */
export function checkMessageIterator(): void {}

/** `client.streams()`: refused. */
export function streamsOf(): never {
  throw new TypeError('receive: "stream" is not available in a browser');
}
