/**
 * -v: the upgrade request and response heads, as curl -v shows them. The client does not expose the
 * request it writes, so with -v the CLI opens the connections itself (through the client's
 * `createConnection` option, as the client would: SNI for host names, ALPN http/1.1) and copies
 * the first bytes written, up to the end of the head. Through a proxy the client must open the
 * tunnel itself: only the response head is shown then.
 */
import net from "node:net";
import tls from "node:tls";
import type { CreateConnection, TlsOptions } from "@tideway/client";
import type { HttpResponse } from "@tideway/core";

const HEAD_END = "\r\n\r\n";
/** A head longer than this is not an upgrade request; stop copying. */
const MAX_HEAD = 64 * 1024;

/** A head's lines, each prefixed ("> " for a request, "< " for a response), without the blank line. */
export function headLines(head: string, prefix: string): string[] {
  return head
    .replace(/\r\n\r\n[\s\S]*$/, "")
    .split("\r\n")
    .map((line) => `${prefix}${line}`);
}

/** The response head as it was received (status line, headers in their order and case). */
export function responseHead(response: HttpResponse): string {
  return [
    `HTTP/1.1 ${response.status} ${response.statusText}`.trimEnd(),
    ...response.rawHeaders.map(([name, value]) => `${name}: ${value}`),
  ].join("\r\n");
}

/** Copies what is written to `socket` until the end of the head, then hands it over and stops copying. */
function tapRequestHead(socket: net.Socket, onHead: (head: string) => void): void {
  let head = "";
  const write = socket.write;
  const tapped = function (this: net.Socket, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === "string") head += chunk;
    else if (chunk instanceof Uint8Array)
      head += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    const end = head.indexOf(HEAD_END);
    if (end >= 0 || head.length > MAX_HEAD) {
      socket.write = write; // restore the prototype's method for every later write
      onHead(end >= 0 ? head.slice(0, end) : head);
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  };
  socket.write = tapped as typeof socket.write;
}

/** A `createConnection` that opens TCP or TLS as the client does, and reports each request head. */
export function tappingConnection(onHead: (head: string) => void): CreateConnection {
  return ({ host, port, secure, socketPath, tls: tlsOptions, signal }) => {
    const socket = open(host, port, secure, socketPath, tlsOptions);
    tapRequestHead(socket, onHead);
    signal.addEventListener("abort", () => socket.destroy(), { once: true });
    return socket;
  };
}

function open(
  host: string,
  port: number,
  secure: boolean,
  socketPath: string | undefined,
  options: TlsOptions | undefined,
): net.Socket {
  const where = socketPath !== undefined ? { path: socketPath } : { host, port };
  if (!secure) return net.connect(where).setNoDelay(true);
  // SNI only for host names (RFC 6066 section 3), as the client does.
  const servername = net.isIP(host) === 0 ? { servername: host } : {};
  return tls.connect({ ...servername, ALPNProtocols: ["http/1.1"], ...options, ...where });
}
