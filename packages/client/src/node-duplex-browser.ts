/**
 * The browser build's node-duplex.ts (tsup.config.ts puts it in place): a browser has no
 * `node:stream`; `toWebStreams` (web-streams.ts) is its stream adapter.
 */
import type { StreamableClient } from "./web-streams.js";

/** Throws: a Node `Duplex` needs `node:stream` (use `toWebStreams` in a browser). */
export function createWebSocketStream<M>(_client: StreamableClient<M>, _options: object = {}): never {
  throw new TypeError("createWebSocketStream needs node:stream: use toWebStreams(client) in a browser");
}
