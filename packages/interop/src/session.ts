/** One Tideway client connection to a peer, with every wait bounded in time. */
import { type CloseInfo, type Message, WebSocketClient, type WebSocketClientOptions } from "@tideway/client";
import type { UpgradeResponse } from "@tideway/core";
import type { Peer } from "./servers/peer.js";

/** Rejects with "timed out after N ms waiting for <what>" unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Session {
  readonly client: WebSocketClient;
  readonly response: UpgradeResponse;
  /** Resolves with the client's "close" event. */
  readonly closed: Promise<CloseInfo>;
  /** Payloads of the "ping" events so far. */
  readonly pings: Uint8Array[];
  /** Messages of the "error" events so far (details for a failing check). */
  readonly errors: string[];
  /** The next message from the iterator, bounded by `ms`. */
  next(ms: number, what?: string): Promise<Message>;
}

/** Opens a client to `peer.url + path` (no heartbeat, no reconnect) and registers it with `track`. */
export async function openSession(
  peer: Peer,
  path: string,
  track: (client: WebSocketClient) => void,
  options: WebSocketClientOptions<"uint8array"> = {},
  connectTimeoutMs = 5_000,
): Promise<Session> {
  const client = new WebSocketClient(peer.url + path, {
    heartbeat: false,
    reconnect: false,
    handshakeTimeout: connectTimeoutMs,
    closeTimeout: 2_000,
    ...(peer.ca === undefined ? {} : { tls: { ca: peer.ca } }),
    ...options,
  });
  track(client);
  const pings: Uint8Array[] = [];
  const errors: string[] = [];
  client.on("ping", (data) => pings.push(data));
  client.on("error", (err) => errors.push(`${err.name}: ${err.message}`));
  const closed = new Promise<CloseInfo>((resolve) => client.once("close", resolve));
  const response = await withTimeout(client.connect(), connectTimeoutMs + 500, "connect()");
  const iterator = client[Symbol.asyncIterator]();
  return {
    client,
    response,
    closed,
    pings,
    errors,
    async next(ms, what = "a message") {
      const result = await withTimeout(iterator.next(), ms, what);
      if (result.done) throw new Error(`the message iterator ended while waiting for ${what}`);
      return result.value;
    },
  };
}

/** The bytes of a received binary message, whatever its `binaryType` representation. */
export function messageBytes(message: Message): Uint8Array | string {
  if (typeof message === "string") return message;
  return message instanceof ArrayBuffer ? new Uint8Array(message) : message;
}
