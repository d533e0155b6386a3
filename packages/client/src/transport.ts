/**
 * Opens the stream a connection runs on: TCP or TLS to the URL's host, a Unix domain socket, a
 * tunnel through an HTTP or SOCKS proxy, or whatever the user's `createConnection` returns. With
 * proxy.ts, the only module that touches node:net and node:tls. No WebSocket knowledge lives here.
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { ConnectError, ProxyError } from "./errors.js";
import { httpConnect, type ProxyConfig, parseProxy, socksConnect } from "./proxy.js";
import { type Env, proxyFromEnv } from "./proxy-env.js";

/** Options passed through to `tls.connect` (ca, cert, key, rejectUnauthorized, ...). */
export type TlsOptions = Omit<tls.ConnectionOptions, "host" | "port" | "socket" | "path">;

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
  /** Aborting destroys whatever is being connected; the promise then rejects. */
  readonly signal?: AbortSignal | undefined;
  /** The environment for the default proxy. Default `process.env`. */
  readonly env?: Env | undefined;
  /**
   * Where a plain TCP socket opened here (no TLS, proxy, Unix socket or `createConnection`) delivers
   * what it reads, instead of "data" events: see {@link directReads}. Other streams ignore it.
   */
  readonly readTarget?: ReadTarget | undefined;
}

/** The receiver of a socket's reads, and the buffer it would like the next read to go into. */
export interface ReadTarget {
  /** The core's `receiveBuffer()`: a buffer the next read may fill, or undefined. */
  receiveBuffer(): Uint8Array | undefined;
  /** `chunk` was read; false stops reading until the socket's `resume()`. */
  receiveRead(chunk: Uint8Array): boolean;
}

/** The size of a read that goes into no buffer of the target's: Node's own read size. */
const READ_SIZE = 64 * 1024;
/**
 * Bytes of a payload left out of a direct read, and the size of the read after it: the end of a
 * message then arrives with what follows it (the next header, a close frame) in one short read, as
 * with Node's own reads; a connection that this message pauses has still seen that close frame.
 */
const TAIL = 16;
const AFTER_DIRECT_READ = 1024;
/**
 * Direct reads only for this much payload still to come: at 64 KiB messages, the short read after
 * each direct one and the copy of its bytes cost more than the copy they saved (bench
 * recv-binary-65536: 2.0-2.4 GB/s against 2.6-2.8 GB/s with Node's own reads; 1 MiB: 2.4-3.7
 * against 2.0-2.4 GB/s; /tmp/prof.mts, client user+sys CPU alike).
 */
const DIRECT_MIN = 128 * 1024;
/** A read of at least this many bytes means data is streaming in: see nextReadBuffer. */
const BIG_READ = 16 * 1024;
/**
 * Sockets that may hold a read buffer of their own at once, process-wide. A socket that goes quiet
 * after a burst keeps its next read buffer until it reads again: at most this many times 64 KiB
 * (2 MiB) are held that way; beyond, reads go through the shared scratch buffer.
 */
const MAX_OWNED = 32;
let owned = 0;

/**
 * Shared by every socket: the bytes of a read are copied out of it at once, before any other read,
 * so a socket never holds a buffer of its own between reads (an idle connection costs nothing).
 */
let scratch: Buffer | undefined;

/** The read state of a socket whose reads go through {@link directReads}. */
const kReads = Symbol("tideway direct reads");

interface DirectReads {
  readonly target: ReadTarget;
  /** The last read went into the target's buffer. */
  direct: boolean;
  /** The last read brought BIG_READ bytes or more. */
  big: boolean;
  /** The socket's next read goes into a buffer of its own (counted in `owned`). */
  owns: boolean;
}

type DirectSocket = net.Socket & { [kReads]?: DirectReads };

/** Direct reads need onread's callback called on the socket, as Node and Deno do; Bun calls it with no `this`. */
const onreadCallsSocket = typeof process.versions.bun !== "string";

/**
 * Where the next read goes: straight into the buffer the target offers (the payload of a large
 * message, read with no copy) but its last TAIL bytes, then one short read for those and the next
 * frame's header. Else, while data streams in (the last read was big), into a new buffer of the
 * socket's own that is handed on without a copy, as Node's own reads are (for at most MAX_OWNED
 * sockets at once); else into the shared scratch buffer, whose bytes are copied out: an idle or
 * quiet socket holds no buffer. Copying every read out of the scratch buffer cost ~12% of
 * receiving 1 KiB messages (bench recv-binary-1024, /tmp/prof.mts: 2.55 against 2.9 GB/s).
 */
function nextReadBuffer(reads: DirectReads): Uint8Array {
  const region = reads.target.receiveBuffer();
  if (region !== undefined && region.length >= DIRECT_MIN) {
    reads.direct = true;
    return region.subarray(0, region.length - TAIL);
  }
  scratch ??= Buffer.allocUnsafeSlow(READ_SIZE);
  if (reads.direct) {
    reads.direct = false;
    return scratch.subarray(0, AFTER_DIRECT_READ);
  }
  if (!reads.big || (!reads.owns && owned >= MAX_OWNED)) return scratch;
  // Counted once per socket, however often Node asks before the next read.
  if (!reads.owns) {
    reads.owns = true;
    owned++;
  }
  return Buffer.allocUnsafeSlow(READ_SIZE);
}

/** Node calls this on the socket: a read from the scratch buffer is copied out at its exact size. */
function onDirectRead(this: DirectSocket, nread: number, buf: Uint8Array): boolean {
  const reads = this[kReads]!;
  reads.big = nread >= BIG_READ;
  if (reads.owns) {
    reads.owns = false;
    owned--;
  }
  if (buf.buffer !== scratch!.buffer) {
    return reads.target.receiveRead(nread === buf.length ? buf : buf.subarray(0, nread));
  }
  const chunk = Buffer.allocUnsafe(nread);
  chunk.set(nread === buf.length ? buf : buf.subarray(0, nread));
  return reads.target.receiveRead(chunk);
}

/**
 * A plain TCP connection whose reads go to `target` through Node's `onread` (see nextReadBuffer for
 * where each read goes; the gain of direct reads is measured with the core's in-place read,
 * MessageReader#read). One state object and one closure per socket (Node calls `buffer` without a
 * `this`, `callback` on the socket): ~0.3 KiB less per idle connection than closures over the
 * target (bench idle-2000).
 */
function connectTcp(host: string, port: number, target: ReadTarget | undefined): net.Socket {
  if (target === undefined || !onreadCallsSocket) return net.connect({ host, port });
  const reads: DirectReads = { target, direct: false, big: false, owns: false };
  const socket: DirectSocket = net.connect({
    host,
    port,
    onread: { buffer: () => nextReadBuffer(reads), callback: onDirectRead },
  });
  socket[kReads] = reads;
  return socket;
}

/** The socket is closed: a read buffer of its own it held no longer counts (see MAX_OWNED). */
export function socketClosed(socket: Duplex): void {
  const reads = (socket as DirectSocket)[kReads];
  if (reads?.owns) {
    reads.owns = false;
    owned--;
  }
}

/** Sockets holding a read buffer of their own now (for tests). */
export function ownedReadBuffers(): number {
  return owned;
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
  if (proxy === undefined) {
    const socket = use(
      secure ? tls.connect({ ...tlsFor(host, o.tls), host, port }) : connectTcp(host, port, o.readTarget),
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
          host: proxy.host,
          port: proxy.port,
        })
      : net.connect({ host: proxy.host, port: proxy.port });
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
  else await socksConnect(toProxy, proxy, host, port);
  if (!secure) return toProxy;
  // wss: through the tunnel, TLS end to end with the server; the proxy sees only ciphertext.
  const socket = use(tls.connect({ ...tlsFor(host, o.tls), socket: toProxy }));
  await once(socket, "secureConnect", connectError);
  return socket;
}

/** `tls` options for the proxy's own TLS: a `servername` the user set is the server's, not the proxy's. */
function withoutSni(o: TlsOptions | undefined): TlsOptions | undefined {
  if (o?.servername === undefined) return o;
  const { servername: _serverName, ...rest } = o;
  return rest;
}
