// `ws` 8 with its optional native addons (bufferutil for masking, utf-8-validate), as most
// production users run it.
import type { Adapter } from "./types.js";
import { bufferutilLoaded, wsAdapter } from "./ws-common.js";

export async function load(): Promise<Adapter> {
  if (!bufferutilLoaded()) throw new Error("ws did not load bufferutil: the comparison would be wrong");
  return wsAdapter("ws");
}
