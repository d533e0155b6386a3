/**
 * The browser build's stream-send.ts (tsup.config.ts puts it in place): a browser's WebSocket sends
 * whole messages only, so `send()` of a stream is refused (platform-browser.ts, `streamedSends`) and
 * no streamed send is ever made there.
 */
export { isSendSource } from "./stream-send.js";

/** Never constructed in a browser: throws if it were. */
export class StreamedSends {
  constructor() {
    throw new TypeError("send() from a stream is not available in a browser");
  }
}
