// `ws` 8 in pure JavaScript: the driver starts this adapter's process with WS_NO_BUFFER_UTIL=1 and
// WS_NO_UTF_8_VALIDATE=1 (adapterEnv in ./index.ts), which `ws` reads when it is first loaded.
import type { Adapter } from "./types.js";
import { bufferutilLoaded, wsAdapter } from "./ws-common.js";

export async function load(): Promise<Adapter> {
  if (bufferutilLoaded()) throw new Error("ws loaded bufferutil although WS_NO_BUFFER_UTIL is set");
  return wsAdapter("ws-nobu");
}
