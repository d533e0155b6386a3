/**
 * The browser build's stream-send.ts (browser-modules.mjs puts it in place): a browser's WebSocket
 * sends whole messages only, so `send()` of a stream is refused here, the one place that says so.
 */
import type { StreamedSends as NodeStreamedSends } from "./stream-send.js";

export { isSendSource } from "./send-source.js";

/** The surface client.ts uses, with no stream ever under way: whole messages go straight out. */
export class StreamedSends
  implements Pick<NodeStreamedSends, "busy" | "waitingBytes" | "stream" | "interrupt">
{
  readonly busy = false;
  readonly waitingBytes = 0;

  stream(): Promise<void> {
    return Promise.reject(new TypeError("send() from a stream is not available in a browser"));
  }

  interrupt(): void {}
}
