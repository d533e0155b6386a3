/**
 * Proxy tunnels over a stream already connected to the proxy: HTTP CONNECT (RFC 9110 section 9.3.6)
 * and SOCKS 4/4a/5 (through the `socks` package). Opening the stream to the proxy, and TLS, are
 * transport.ts's job; here only the tunnel's request and reply.
 */
import { Buffer } from "node:buffer";
import { lookup } from "node:dns/promises";
import net from "node:net";
import type { Duplex } from "node:stream";
import { ResponseHeadParser } from "@tideway/core/internals";
import type { SocksProxy } from "socks";
import { ProxyError } from "./errors.js";
import type { ProxyConfig } from "./proxy-url.js";

/** `host:port` for a CONNECT request target and Host header (RFC 9110 section 9.3.6). */
function authority(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Asks an HTTP proxy, on `socket`, for a tunnel to `host:port`. Resolves once the proxy answered 2xx;
 * bytes after its reply head are pushed back into the socket (`unshift`). Rejects with a
 * {@link ProxyError}: `status` set for a non-2xx answer, `cause` for a malformed one or a socket that
 * ended first. The caller destroys the socket on rejection.
 */
export function httpConnect(
  socket: Duplex,
  proxy: ProxyConfig,
  host: string,
  port: number,
  maxHeadSize?: number,
): Promise<void> {
  const target = authority(host, port);
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.username !== "" || proxy.password !== "") {
    // RFC 7617: Basic credentials are base64 of "user:pass" in UTF-8.
    const token = Buffer.from(`${proxy.username}:${proxy.password}`, "utf8").toString("base64");
    lines.push(`Proxy-Authorization: Basic ${token}`);
  }
  const parser = new ResponseHeadParser(maxHeadSize === undefined ? {} : { maxHeadSize });
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      socket.off("readable", onReadable);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    const fail = (message: string, details: { status?: number; cause?: unknown }) => {
      cleanup();
      reject(new ProxyError(proxy.display, message, details));
    };
    const onError = (cause: Error) =>
      fail(`Proxy ${proxy.display} failed during CONNECT: ${cause.message}`, { cause });
    const onClose = () => fail(`Proxy ${proxy.display} closed the connection before answering CONNECT`, {});
    // "readable" + read(), not "data": once this listener is removed the stream is neither flowing
    // nor paused, so no byte of the tunnel is emitted before the connection listens.
    const onReadable = () => {
      for (
        let chunk = socket.read() as Buffer | null;
        chunk !== null;
        chunk = socket.read() as Buffer | null
      ) {
        let head: ReturnType<ResponseHeadParser["push"]>;
        try {
          head = parser.push(chunk);
        } catch (cause) {
          fail(`Proxy ${proxy.display} sent an invalid answer to CONNECT`, { cause });
          return;
        }
        if (head === undefined) continue;
        const { status, statusText } = head.response;
        // "Any 2xx (Successful) response indicates that the sender (and all inbound proxies) will
        // switch to tunnel mode immediately after the response header section" (RFC 9110 9.3.6).
        if (status < 200 || status > 299) {
          const why =
            status === 407 || status === 401
              ? " (proxy authentication failed: put user:pass in the proxy URL)"
              : status === 403
                ? " (forbidden by the proxy)"
                : "";
          fail(`Proxy ${proxy.display} refused CONNECT ${target}: ${status} ${statusText}${why}`.trimEnd(), {
            status,
          });
          return;
        }
        cleanup();
        if (head.rest.byteLength > 0) socket.unshift(head.rest);
        resolve();
        return;
      }
    };
    if (socket.destroyed) {
      reject(closedEarly(proxy));
      return;
    }
    socket.on("readable", onReadable);
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.write(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  });
}

function closedEarly(proxy: ProxyConfig): ProxyError {
  return new ProxyError(proxy.display, `The connection to proxy ${proxy.display} was closed`);
}

/** SOCKS5 reply names from the `socks` package's messages, back to their codes (RFC 1928 section 6). */
const SOCKS5_REPLIES: Record<string, number> = {
  Failure: 1,
  NotAllowed: 2,
  NetworkUnreachable: 3,
  HostUnreachable: 4,
  ConnectionRefused: 5,
  TTLExpired: 6,
  CommandNotSupported: 7,
  AddressNotSupported: 8,
};
const SOCKS4_REPLIES: Record<string, number> = { Failed: 91, Rejected: 92, RejectedIdent: 93 };

/** The first address a user's `lookup` (callback style, as `net.connect` takes it) gives for `host`. */
function lookupWith(
  resolve: net.LookupFunction,
  host: string,
  options: { family?: number },
): Promise<string> {
  return new Promise((done, fail) => {
    resolve(host, options, (err, address) => {
      const first = typeof address === "string" ? address : address?.[0]?.address;
      if (err || first === undefined) fail(err ?? new Error(`no address for ${host}`));
      else done(first);
    });
  });
}

/**
 * Opens a SOCKS tunnel to `host:port` on `socket` (already connected to the proxy). socks5h and
 * socks4a send the host name for the proxy to resolve; socks5 and socks4 resolve it here first
 * (socks4: IPv4 only), with the client's `lookup` and `family` if given. Rejects with a
 * {@link ProxyError} carrying `socksReply` or `authFailed`.
 */
export async function socksConnect(
  socket: Duplex,
  proxy: ProxyConfig,
  host: string,
  port: number,
  dns: { readonly lookup?: net.LookupFunction | undefined; readonly family?: 4 | 6 | undefined } = {},
): Promise<void> {
  let destination = host;
  if ((proxy.kind === "socks5" || proxy.kind === "socks4") && net.isIP(host) === 0) {
    try {
      const family = proxy.kind === "socks4" ? 4 : dns.family;
      const options = family === undefined ? {} : { family };
      destination =
        dns.lookup === undefined
          ? (await lookup(host, options)).address
          : await lookupWith(dns.lookup, host, options);
    } catch (cause) {
      throw new ProxyError(proxy.display, `Could not resolve ${host} for ${proxy.kind}: ${String(cause)}`, {
        cause,
      });
    }
  }
  // Destroyed meanwhile (abort, timeout): `socks` would wait for events that already happened.
  if (socket.destroyed) throw closedEarly(proxy);
  const type = proxy.kind === "socks4" || proxy.kind === "socks4a" ? 4 : 5;
  const config: SocksProxy = { host: proxy.host, port: proxy.port, type };
  if (proxy.username !== "") config.userId = proxy.username;
  if (proxy.password !== "") config.password = proxy.password;
  // Loaded on first use: `socks` and its dependencies are heap that only SOCKS users need, and
  // loaded eagerly they cost every other client full GCs.
  const { SocksClient } = await import("socks");
  try {
    await SocksClient.createConnection({
      proxy: config,
      destination: { host: destination, port },
      command: "connect",
      existing_socket: socket,
      // The connection's handshakeTimeout bounds the tunnel (it destroys the socket); this is a backstop.
      timeout: 120_000,
    });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const name = /rejected connection - \(?(\w+)\)?$/.exec(message)?.[1];
    const socksReply = name === undefined ? undefined : (type === 5 ? SOCKS5_REPLIES : SOCKS4_REPLIES)[name];
    const authFailed = /Authentication failed|no accepted authentication type/.test(message);
    throw new ProxyError(
      proxy.display,
      `Proxy ${proxy.display} refused the tunnel to ${authority(host, port)}: ${message}`,
      {
        cause,
        ...(socksReply !== undefined ? { socksReply } : {}),
        authFailed,
      },
    );
  }
}
