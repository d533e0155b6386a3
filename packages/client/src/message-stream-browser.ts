/**
 * The browser build's message-stream.ts (browser-modules.mjs puts it in place): the browser build
 * refuses `receive: "stream"` (node-options-browser.ts), so no message is ever received as a stream there.
 */
export { MessageStream } from "./message-stream.js";

/** No receiver: the client's inbox as it is, as the options never ask for one in a browser. */
export function withStreamReceiver<C>(Inbox: C): C {
  return Inbox;
}

/** `client.streams()`: refused. */
export function streamsOf(): never {
  throw new TypeError('receive: "stream" is not available in a browser');
}
