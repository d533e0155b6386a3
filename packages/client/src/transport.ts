/**
 * Opens the stream a connection runs on: TCP or TLS to the URL's host, a Unix domain socket, a
 * tunnel through an HTTP or SOCKS proxy, or whatever the user's `createConnection` returns. With
 * proxy.ts and direct-reads.ts (how a plain TCP socket reads), the only modules that touch node:net
 * and node:tls. No WebSocket knowledge lives here.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { connectTcp, type ReadTarget } from "./direct-reads.js";
import { ConnectError, ProxyError } from "./errors.js";
import { httpConnect, socksConnect } from "./proxy.js";
import { type Env, proxyFromEnv } from "./proxy-env.js";
import { type ProxyConfig, parseProxy } from "./proxy-url.js";

/** Options passed through to `tls.connect` (ca, cert, key, rejectUnauthorized, ...). */
export type TlsOptions = Omit<tls.ConnectionOptions, "host" | "port" | "socket" | "path">;

/**
 * How the client's own TCP connection is made, as `net.connect` takes them: to the server, or to the
 * proxy when there is one. Unix sockets and `createConnection` ignore them.
 */
export interface SocketOptions {
  /** The local address to connect from (a local interface's IP). Default: the OS chooses. */
  readonly localAddress?: string | undefined;
  /** The IP version of the server's address looked up: 4 or 6. Default: either (0). */
  readonly family?: 4 | 6 | undefined;
  /** Resolves host names instead of `dns.lookup` (same signature). Default `dns.lookup`. */
  readonly lookup?: net.LookupFunction | undefined;
}

/** The duplex stream a connection runs on: a plain or TLS socket, or a custom Duplex. */
export type Transport = Duplex;

/** What a custom {@link CreateConnection} is asked to open. */
export interface CreateConnectionOptions {
  /** The ws: or wss: URL being connected to (after redirects). */
  readonly url: URL;
  /** Host name or IP of the URL (IPv6 without brackets) and its port (default 80 / 443). */
  readonly host: string;
  readonly port: number;
  /** True for wss: the returned stream must then already be TLS (Tideway adds none on top). */
  readonly secure: boolean;
  readonly socketPath: string | undefined;
  readonly tls: TlsOptions | undefined;
  /** Aborted when the handshake times out or the user aborts: stop connecting. */
  readonly signal: AbortSignal;
}

/**
 * A custom transport (an in-memory pipe, a QUIC stream, an SSH channel...). A returned `net.Socket`
 * that is still connecting is waited for; any other Duplex is taken as ready.
 */
export type CreateConnection = (options: CreateConnectionOptions) => Duplex | Promise<Duplex>;

export interface TransportOptions {
  readonly url: URL;
  readonly tls?: TlsOptions | undefined;
  /** A proxy URL, `false` for none, `undefined` to read the environment (see proxy-env.ts). */
  readonly proxy?: string | URL | false | undefined;
  /** Connect to this Unix domain socket instead of the URL's host (no proxy then). */
  readonly socketPath?: string | undefined;
  /** Replaces everything above. */
  readonly createConnection?: CreateConnection | undefined;
  /** How our own TCP connection (to the server or to the proxy) is made. */
  readonly socket?: SocketOptions | undefined;
  /** Aborting destroys whatever is being connected; the promise then rejects. */
  readonly signal?: AbortSignal | undefined;
  /** The environment for the default proxy. Default `process.env`. */
  readonly env?: Env | undefined;
  /**
   * Where a plain TCP socket opened here (no TLS, proxy, Unix socket or `createConnection`) delivers
   * what it reads, instead of "data" events: see direct-reads.ts. Other streams ignore it.
   */
  readonly readTarget?: ReadTarget | undefined;
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

/** The proxy to use for `url`, if any: the option, else the environment. */
export function selectProxy(o: TransportOptions): ProxyConfig | undefined {
  if (o.proxy === false || o.createConnection !== undefined || o.socketPath !== undefined) return undefined;
  const proxy = o.proxy ?? proxyFromEnv(o.url, o.env ?? process.env);
  return proxy === undefined ? undefined : parseProxy(proxy);
}

/** TLS options for the server: SNI is the host name (RFC 6066 section 3: never an IP literal). */
function tlsFor(host: string, o: TlsOptions | undefined): tls.ConnectionOptions {
  return {
    ...(net.isIP(host) === 0 ? { servername: host } : {}),
    ALPNProtocols: ["http/1.1"],
    ...o,
  };
}

/**
 * Resolves when `socket` emits `event` ("connect", "secureConnect"); rejects with `wrap(cause)` on
 * an error or a close first (a destroy by the abort signal is a close).
 */
function once(socket: Duplex, event: string, wrap: (cause: Error) => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (cause: Error) => {
      socket.off(event, onReady);
      socket.off("close", onClose);
      reject(wrap(cause));
    };
    const onClose = () => onError(new Error("socket closed before it connected"));
    const onReady = () => {
      socket.off("error", onError);
      socket.off("close", onClose);
      resolve();
    };
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once(event, onReady);
  });
}

/**
 * Connects and resolves with the stream once it is usable (after TLS for wss:, after the proxy
 * tunnel). Rejects with a {@link ConnectError} (system error as `cause`) or a {@link ProxyError}.
 * Aborting `signal` destroys the stream being set up. The resolved stream may hold buffered bytes:
 * the caller attaches its "data" listener and calls `resume()`.
 */
export async function openTransport(o: TransportOptions): Promise<Transport> {
  const signal = o.signal ?? new AbortController().signal;
  signal.throwIfAborted();
  let current: Duplex | undefined;
  const onAbort = () => current?.destroy();
  signal.addEventListener("abort", onAbort, { once: true });
  /** Every socket made here is destroyed on abort, and on failure. */
  const use = <T extends Duplex>(socket: T): T => {
    current = socket;
    return socket;
  };
  try {
    const socket = await connect(o, use);
    signal.throwIfAborted();
    return socket;
  } catch (err) {
    current?.destroy();
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

async function connect(o: TransportOptions, use: <T extends Duplex>(s: T) => T): Promise<Duplex> {
  const url = o.url;
  const host = hostOf(url);
  const port = portOf(url);
  const secure = url.protocol === "wss:";
  const connectError = (cause: Error) =>
    new ConnectError(`Could not connect to ${o.socketPath ?? url.host}: ${cause.message}`, { cause });

  if (o.createConnection !== undefined) {
    const signal = o.signal ?? new AbortController().signal;
    let stream: Duplex;
    try {
      const made = Promise.resolve(
        o.createConnection({ url, host, port, secure, socketPath: o.socketPath, tls: o.tls, signal }),
      );
      // A user's promise that never settles must not outlive the handshake timeout or an abort; a
      // stream that arrives after that is destroyed.
      const aborted = new Promise<never>((_, reject) => {
        const onAbort = () => {
          made.then(
            (late) => late.destroy(),
            () => {},
          );
          reject(signal.reason);
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
        made.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => {});
      });
      stream = use(await Promise.race([made, aborted]));
    } catch (err) {
      throw err instanceof Error &&
        "code" in err &&
        typeof err.code === "string" &&
        err.code.startsWith("WS_")
        ? err
        : connectError(err instanceof Error ? err : new Error(String(err)));
    }
    if (stream instanceof net.Socket && stream.connecting) {
      await once(stream, stream instanceof tls.TLSSocket ? "secureConnect" : "connect", connectError);
    }
    return stream;
  }

  if (o.socketPath !== undefined) {
    const path = o.socketPath;
    const socket = use(secure ? tls.connect({ ...tlsFor(host, o.tls), path }) : net.connect({ path }));
    await once(socket, secure ? "secureConnect" : "connect", connectError);
    return socket;
  }

  const proxy = selectProxy(o);
  const tcp = tcpOptions(o.socket);
  if (proxy === undefined) {
    const socket = use(
      secure
        ? tls.connect({ ...tlsFor(host, o.tls), ...tcp, host, port })
        : connectTcp({ ...tcp, host, port }, o.readTarget),
    );
    await once(socket, secure ? "secureConnect" : "connect", connectError);
    // Frames are small and latency-sensitive; the connection coalesces writes itself (cork/uncork).
    socket.setNoDelay(true);
    return socket;
  }

  // To the proxy: TCP, or TLS for an https: proxy (its certificate checked with the `tls` options,
  // SNI set to the proxy's name).
  const toProxy =
    proxy.kind === "https"
      ? tls.connect({
          ...tlsFor(proxy.host, withoutSni(o.tls)),
          ...tcp,
          host: proxy.host,
          port: proxy.port,
        })
      : net.connect({ ...tcp, host: proxy.host, port: proxy.port });
  use(toProxy);
  await once(
    toProxy,
    proxy.kind === "https" ? "secureConnect" : "connect",
    (cause) =>
      new ProxyError(proxy.display, `Could not connect to proxy ${proxy.display}: ${cause.message}`, {
        cause,
      }),
  );
  toProxy.setNoDelay(true);
  if (proxy.kind === "http" || proxy.kind === "https") await httpConnect(toProxy, proxy, host, port);
  else await socksConnect(toProxy, proxy, host, port, o.socket);
  if (!secure) return toProxy;
  // wss: through the tunnel, TLS end to end with the server; the proxy sees only ciphertext.
  const socket = use(tls.connect({ ...tlsFor(host, o.tls), socket: toProxy }));
  await once(socket, "secureConnect", connectError);
  return socket;
}

/** The socket options that are set, as `net.connect` options (no `undefined` values). */
function tcpOptions(o: SocketOptions | undefined): net.TcpSocketConnectOpts | undefined {
  if (o === undefined) return undefined;
  const { localAddress, family, lookup } = o;
  return {
    port: 0, // overridden by the caller: only the shape of TcpSocketConnectOpts needs it
    ...(localAddress !== undefined ? { localAddress } : {}),
    ...(family !== undefined ? { family } : {}),
    ...(lookup !== undefined ? { lookup } : {}),
  };
}

/** `tls` options for the proxy's own TLS: a `servername` the user set is the server's, not the proxy's. */
function withoutSni(o: TlsOptions | undefined): TlsOptions | undefined {
  if (o?.servername === undefined) return o;
  const { servername: _serverName, ...rest } = o;
  return rest;
}
