/**
 * The browser build's message-stream.ts (tsup.config.ts puts it in place): the browser build refuses
 * `receive: "stream"` (node-options-browser.ts), so no message is ever received as a stream there.
 */
export { MessageStream } from "./message-stream.js";

/** Never constructed in a browser: throws if it were. */
export class StreamReceiver {
  constructor() {
    throw new TypeError('receive: "stream" is not available in a browser');
  }
}
