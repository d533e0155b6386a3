/**
 * The only module that touches node:net and node:tls: it opens a TCP (or TLS) stream to the host
 * and port of a ws:/wss: URL, and nothing else. No WebSocket knowledge lives here.
 */
import net from "node:net";
import tls from "node:tls";
import { ConnectError } from "./errors.js";

/** Options passed through to `tls.connect` (ca, cert, key, rejectUnauthorized, ...). */
export type TlsOptions = Omit<tls.ConnectionOptions, "host" | "port" | "socket" | "path">;

/** The duplex stream a connection runs on: a plain or TLS socket. */
export type Transport = net.Socket;

export interface TransportOptions {
  readonly url: URL;
  readonly tls?: TlsOptions | undefined;
}

/** URL host without the brackets of an IPv6 literal: "[::1]" -> "::1". */
export function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

export function portOf(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "wss:" ? 443 : 80;
}

/**
 * Starts connecting and returns the socket at once, so the caller can destroy it (timeout, abort)
 * while DNS/TCP/TLS are still in progress. `ready` resolves when the stream is usable (after the TLS
 * handshake for wss:), or rejects with a {@link ConnectError} carrying the system error as `cause`.
 */
export function openTransport(o: TransportOptions): { socket: Transport; ready: Promise<void> } {
  const host = hostOf(o.url);
  const port = portOf(o.url);
  const secure = o.url.protocol === "wss:";
  const socket = secure
    ? tls.connect({
        // RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
        ...(net.isIP(host) === 0 ? { servername: host } : {}),
        ALPNProtocols: ["http/1.1"],
        ...o.tls,
        host,
        port,
      })
    : net.connect({ host, port });
  const ready = new Promise<void>((resolve, reject) => {
    const onError = (cause: Error) => {
      socket.off(secure ? "secureConnect" : "connect", onReady);
      reject(new ConnectError(`Could not connect to ${o.url.host}: ${cause.message}`, { cause }));
    };
    const onReady = () => {
      socket.off("error", onError);
      socket.off("close", onClose);
      resolve();
    };
    const onClose = () => onError(new Error("socket closed before it connected"));
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once(secure ? "secureConnect" : "connect", onReady);
  });
  // Frames are small and latency-sensitive; the connection coalesces writes itself (cork/uncork).
  socket.setNoDelay(true);
  return { socket, ready };
}
