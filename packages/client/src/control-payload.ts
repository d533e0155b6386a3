/**
 * The payload of a ping or pong the client sends (`client.ping(data)`, `pong(data)`, an `onOpen`
 * session's `ping(data)`): checked and copied here, before anything is sent. The browser build
 * swaps in control-payload-browser.ts, as a browser sends no ping or pong payload.
 */
import { MAX_CONTROL_PAYLOAD } from "@tideway/core";
import type { ControlData } from "./events.js";
import { toPayload } from "./send-source.js";
import { utf8 } from "./text-bytes.js";

/** `data` as its own bytes (kept to match the pong), or a RangeError over 125 bytes. */
export function controlPayload(data: ControlData | undefined): Uint8Array | undefined {
  if (data === undefined) return undefined;
  const bytes = typeof data === "string" ? utf8.encode(data) : (toPayload(data) as Uint8Array).slice();
  // "All control frames MUST have a payload length of 125 bytes or less" (RFC 6455 section 5.5).
  if (bytes.byteLength > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(
      `a ping/pong payload is at most ${MAX_CONTROL_PAYLOAD} bytes, got ${bytes.byteLength}`,
    );
  }
  return bytes;
}
