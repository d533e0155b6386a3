/**
 * A TCP proxy on loopback that forwards bytes between clients and one upstream server, and can cut
 * every connection on demand: with a TCP RST (`resetAll`) as when a NAT or a load balancer drops a
 * flow, or with a FIN in both directions (`endAll`) as when a middlebox closes politely.
 *
 * A cut made by one side is passed on in kind: an upstream RST resets the client side, an upstream
 * FIN ends it (and the other way round), so the server's own cuts still reach the client.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted since the start. */
  readonly connectionCount: number;
  /** Connections currently open. */
  readonly activeCount: number;
  /** Resolves when `connectionCount` reaches `count`, or rejects after `timeoutMs`. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Sends a TCP RST on both sides of every open connection. Returns how many were cut. */
  resetAll(): number;
  /** Half-closes both sides of every open connection (FIN). Returns how many were ended. */
  endAll(): number;
  /** Resets every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export async function startProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const waiters = new Set<() => void>();
  let connectionCount = 0;

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ host: target.host ?? "127.0.0.1", port: target.port, allowHalfOpen: true });
    upstream.setNoDelay(true);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    connectionCount += 1;
    for (const wake of waiters) wake();
    link(client, upstream);
    link(upstream, client);
    const forget = () => {
      if (client.destroyed && upstream.destroyed) pairs.delete(pair);
    };
    client.on("close", forget);
    upstream.on("close", forget);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    port,
    get connectionCount() {
      return connectionCount;
    },
    get activeCount() {
      return pairs.size;
    },
    waitForConnections(count, timeoutMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (connectionCount < count) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`proxy saw ${connectionCount} connections, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    resetAll() {
      const cut = [...pairs];
      for (const { client, upstream } of cut) {
        reset(client);
        reset(upstream);
      }
      return cut.length;
    },
    endAll() {
      const cut = [...pairs];
      for (const { client, upstream } of cut) {
        client.end();
        upstream.end();
      }
      return cut.length;
    },
    async close() {
      for (const { client, upstream } of pairs) {
        reset(client);
        reset(upstream);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards `from` to `to` with backpressure, passing on FIN as FIN and RST (or any error) as RST. */
function link(from: Socket, to: Socket): void {
  from.pipe(to);
  from.on("error", () => reset(to));
  from.on("close", (hadError) => {
    if (hadError) reset(to);
  });
}

function reset(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy() needs a connected handle; before that, a plain destroy is all we can do.
  if (socket.connecting || socket.pending) socket.destroy();
  else socket.resetAndDestroy();
}
