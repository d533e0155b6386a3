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

const prefix = Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) =>
  b.toString(16).padStart(2, "0"),
).join("");
let attempts = 0;

/** The number of the next connection attempt in this process (its id is {@link connectionId}). */
export function nextAttempt(): number {
  attempts++;
  return attempts;
}

/** The id an attempt number stands for. */
export function connectionId(attempt: number): string {
  return `${prefix}-${attempt}`;
}

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

/** The info of attempt `attempt`, with its addresses once known. */
export function connectionInfo(attempt: number, addresses: SocketAddresses | undefined): ConnectionInfo {
  return {
    id: connectionId(attempt),
    remoteAddress: addresses?.remoteAddress,
    remotePort: addresses?.remotePort,
    localAddress: addresses?.localAddress,
    localPort: addresses?.localPort,
  };
}
