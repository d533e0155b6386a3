/**
 * A loopback TCP relay that counts the bytes crossing it each way. The compression checks connect
 * through it to see the wire itself: a library can claim it negotiated permessage-deflate and still
 * send every message plain, and only the byte counts show it. It works the same for every peer, TLS
 * included (it relays the encrypted stream; TLS adds a few dozen bytes per 16 KiB record).
 */
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export interface Relay {
  /** The URL to connect to instead of `target` (same scheme and path, the relay's port). */
  readonly url: string;
  /** Bytes the client sent so far, towards the server. */
  readonly upstream: number;
  /** Bytes the server sent so far, towards the client. */
  readonly downstream: number;
  /** Closes the listener and every relayed connection. Idempotent. */
  close(): Promise<void>;
}

/** Starts a relay on 127.0.0.1, port 0, forwarding to the host and port of `target` (a ws:// or wss:// URL). */
export async function startRelay(target: string): Promise<Relay> {
  const to = new URL(target);
  const sockets = new Set<Socket>();
  let upstream = 0;
  let downstream = 0;
  const server = createServer((client) => {
    const server = connect(Number(to.port), to.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      // Either side failing ends both: the check sees a closed connection, not a hang.
      socket.on("error", () => {
        client.destroy();
        server.destroy();
      });
    }
    client.on("data", (chunk: Buffer) => {
      upstream += chunk.length;
    });
    server.on("data", (chunk: Buffer) => {
      downstream += chunk.length;
    });
    client.pipe(server);
    server.pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = new URL(target);
  url.port = String((server.address() as AddressInfo).port);
  let closed: Promise<void> | undefined;
  return {
    url: url.toString().replace(/\/$/, ""),
    get upstream() {
      return upstream;
    },
    get downstream() {
      return downstream;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}
