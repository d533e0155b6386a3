/**
 * Shared by the stream adapter tests: a client seen through a wrapper that counts how often its
 * iterator is pulled (what backpressure on the reading side is about), and a `ws` server that floods
 * the client with messages on request.
 */
import type { WebSocketClient } from "../../src/client.js";
import type { StreamableClient } from "../../src/web-streams.js";
import { wsServer } from "./harness.js";

export interface CountedClient<M> extends StreamableClient<M> {
  /** Calls of the iterator's next(). */
  readonly pulls: number;
}

export function countingPulls<M>(c: WebSocketClient): CountedClient<M> {
  const counted = {
    pulls: 0,
    send: (data: Parameters<WebSocketClient["send"]>[0]) => c.send(data),
    close: () => c.close(),
    terminate: () => c.terminate(),
    [Symbol.asyncIterator]() {
      const it = c[Symbol.asyncIterator]();
      return {
        next() {
          counted.pulls++;
          return it.next();
        },
        return: () => it.return?.() ?? Promise.resolve({ done: true as const, value: undefined }),
      };
    },
  };
  return counted as unknown as CountedClient<M>;
}

/** A `ws` server that, on a "flood N SIZE" message, sends N binary messages of SIZE bytes. */
export async function floodServer() {
  const s = await wsServer({ echo: false });
  s.wss.on("connection", (ws) =>
    ws.on("message", (data) => {
      const [word, n, size] = String(data).split(" ");
      if (word !== "flood") return;
      for (let i = 0; i < Number(n); i++) ws.send(Buffer.alloc(Number(size), i & 0xff));
    }),
  );
  return s;
}
