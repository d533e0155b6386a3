// The adapter registry: the driver's list of names, the environment each adapter's process needs,
// and a lazy loader (a library is only imported in the process that measures it).
import type { Adapter } from "./types.js";

export const ADAPTER_NAMES = ["tideway", "ws", "ws-nobu", "undici"] as const;
export type AdapterName = (typeof ADAPTER_NAMES)[number];

/** The baseline every ratio is taken against. */
export const BASELINE: AdapterName = "ws";

/** What makes `ws` skip its native addons; it reads these when it is first loaded. */
const WS_WITHOUT_ADDONS = { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" } as const;

/** Extra environment for the adapter's process; variables not listed are removed. */
export function adapterEnv(name: AdapterName): Record<string, string> {
  return name === "ws-nobu" ? { ...WS_WITHOUT_ADDONS } : {};
}

/** Variables the driver removes from every client process before adding adapterEnv(). */
export const ADAPTER_ENV_KEYS = Object.keys(WS_WITHOUT_ADDONS);

export async function loadAdapter(name: AdapterName): Promise<Adapter> {
  switch (name) {
    case "tideway":
      return (await import("./tideway.js")).load();
    case "ws":
      return (await import("./ws.js")).load();
    case "ws-nobu":
      return (await import("./ws-nobu.js")).load();
    case "undici":
      return (await import("./undici.js")).load();
  }
}
