/**
 * What the client tells about its connection, for logs and diagnostics: an id per connection attempt
 * and the addresses of its socket (docs/client.md, "Connection metadata").
 */

/** The current connection, as `client.connectionInfo` reports it. */
export interface ConnectionInfo {
  /**
   * Unique per connection attempt in this process, and unlikely to repeat across processes: a random
   * prefix drawn once per process, then a counter ("3f9a1c-17"). Every reconnect gets a new one.
   */
  readonly id: string;
  /**
   * The peer's IP address and port: the server's, or the proxy's when there is one. Undefined until
   * TCP (or TLS) is up, and for a Unix socket or a `createConnection` stream without addresses.
   */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** This end's IP address and port (see `localAddress`); undefined as `remoteAddress` is. */
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
}

/** The addresses of a socket, taken once it is connected: a destroyed socket no longer knows them. */
export type SocketAddresses = Omit<ConnectionInfo, "id">;

/** The part of a net.Socket read here; other streams (a custom Duplex) have none of it. */
interface MaybeSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

/**
 * Drawn once per process: ids are for logs, so Math.random is random enough. (1 + r) * 2^24 has 7 hex
 * digits before the point, a 1 and then the 6 wanted (zero-padded).
 */
const prefix = ((1 + Math.random()) * 0x1000000).toString(16).slice(1, 7);
let attempts = 0;

/** The number of the next connection attempt in this process (its id is in {@link connectionInfo}). */
export const nextAttempt = (): number => ++attempts;

/** The addresses of a connected stream (all undefined for streams that have none). */
export function socketAddresses(stream: object): SocketAddresses {
  const s = stream as MaybeSocket;
  return {
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    localAddress: s.localAddress,
    localPort: s.localPort,
  };
}

/** The info of attempt `attempt` ("3f9a1c-17"), with its addresses once known (absent, so undefined, before). */
export function connectionInfo(attempt: number, addresses?: SocketAddresses): ConnectionInfo {
  return { id: `${prefix}-${attempt}`, ...addresses } as ConnectionInfo;
}
