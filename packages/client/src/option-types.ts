/**
 * The client's options as types: what a user passes (WebSocketClientOptions) and what the client
 * works with once they are checked (ResolvedOptions). Types only, so the modules that check options
 * (options.ts, node-options.ts) and those that read them import them without a cycle.
 */
import type { UpgradeResponse } from "@tideway/core";
import type { AppHeartbeat } from "./app-heartbeat.js";
import type { PerMessageDeflateClientOptions, ResolvedDeflateOptions } from "./deflate-options.js";
import type { BinaryType, OpenSession, TextAs } from "./events.js";
import type { HeartbeatOptions } from "./heartbeat.js";
import type { Logger } from "./logger.js";
import type { ReconnectOptions, RetryContext } from "./reconnect.js";
import type { CreateConnection, SocketOptions, TlsOptions } from "./transport.js";

/** Headers as a record or as name-value pairs (repeated names allowed). */
export type HeaderList = Record<string, string> | ReadonlyArray<readonly [string, string]>;

/** A value, or a function (sync or async) called before every attempt for a fresh one. */
export type PerAttempt<T> = T | (() => T | Promise<T>);

/** The URL a client connects to: `ws:`, `wss:`, `http:`, `https:`, `ws+unix:`; or a function giving one per attempt. */
export type UrlInput = PerAttempt<string | URL>;

/** The client's options; `B` is the `binaryType` given and `T` the `textAs`, which type the messages. */
export interface WebSocketClientOptions<B extends BinaryType = BinaryType, T extends TextAs = "string"> {
  /**
   * Extra headers on the upgrade request (Cookie, Authorization...). Handshake-owned names are
   * rejected. A function is called before every attempt (a fresh token on each reconnect); what it
   * throws fails the attempt with a `ProviderError`.
   */
  headers?: PerAttempt<HeaderList>;
  /** Subprotocols offered, in order of preference; or a function called before every attempt. */
  protocols?: PerAttempt<string | readonly string[]>;
  /** `Origin` header, if any. */
  origin?: string;
  /** Keepalive pings; `false` disables them. Default {@link DEFAULT_HEARTBEAT}. */
  heartbeat?: Partial<HeartbeatOptions> | false;
  /** Automatic reconnection; `false` disables it. Default: `DEFAULT_RECONNECT` of reconnect.ts. */
  reconnect?: Partial<ReconnectOptions> | false;
  /**
   * Decides whether a failure (an error, or a {@link CloseInfo}-like close event) is worth a
   * reconnect. Default: `isRetryable` of reconnect.ts (no retry on 400/401/403/404, ...).
   */
  shouldReconnect?: (reason: unknown, context: RetryContext) => boolean;
  /**
   * Runs after every successful handshake, before the sends queued while disconnected are flushed
   * and before `connect()` resolves. What it sends through `session` goes first (authenticate,
   * resubscribe); `client.send()` calls made meanwhile wait in the queue. If it throws, the
   * connection is failed with 1011 and the error goes through the reconnect policy.
   */
  onOpen?: (session: OpenSession, response: UpgradeResponse) => void | Promise<void>;
  /** Type of binary messages. Default "uint8array". */
  binaryType?: B;
  /**
   * Type of text messages: `"string"` (default) decodes them; `"bytes"` hands them over as
   * {@link TextBytes}, their UTF-8 bytes, validated by the core but not decoded (a relay forwarding
   * text as it came). Validation is never skipped.
   */
  textAs?: T;
  /** Bound on the WHOLE opening handshake: DNS, TCP, TLS and the HTTP upgrade. Default 10 s. */
  handshakeTimeout?: number;
  /** After a close frame, how long to wait for the server to close TCP before destroying. Default 5 s. */
  closeTimeout?: number;
  /** Largest message accepted, in bytes. Default 100 MiB (the core's DEFAULT_MAX_PAYLOAD). */
  maxPayload?: number;
  /** Bytes `send()` may queue while disconnected before it rejects. Default 4 MiB. */
  maxQueuedBytes?: number;
  /**
   * How messages are received. `"message"` (default): whole messages, to "message" listeners and
   * `for await (const msg of client)`. `"stream"`: each message as a {@link MessageStream} from
   * `client.streams()`, its payload pulled chunk by chunk as it arrives (constant memory); then
   * "message" events are not emitted and iterating the client itself throws a TypeError.
   */
  receive?: "message" | "stream";
  /**
   * With `receive: "stream"`: the largest message accepted, in bytes (inflated bytes when
   * compressed); beyond, the connection fails with 1009. Default `Infinity`; `maxPayload` then
   * bounds each frame and what `text()` / `bytes()` collect.
   */
  maxStreamedPayload?: number;
  /**
   * Received messages waiting for the iterator, in BYTES (binary byteLength; text: string length):
   * past highWaterMark the socket stops reading; it resumes at or under lowWaterMark.
   * Default 1 MiB / highWaterMark / 4.
   */
  highWaterMark?: number;
  lowWaterMark?: number;
  /** Options for `tls.connect` (ca, cert, key, rejectUnauthorized...). `servername` defaults to the URL host unless it is an IP. */
  tls?: TlsOptions;
  /** Aborts connecting and closes the client. */
  signal?: AbortSignal;
  /** Limit on the HTTP response head. Default: the core's 16 KiB. */
  maxHeadSize?: number;

  // --- Networks (the Networks section of docs/client.md) ---
  /**
   * Proxy: "http://user:pass@host:port", "https://..." (TLS to the proxy), "socks5://..." (local DNS),
   * "socks5h://..." (the proxy resolves the host), "socks4://...", "socks4a://...". `false`: never.
   * Default: from the environment, as curl (`wss_proxy`/`https_proxy`/`all_proxy` for wss:,
   * `ws_proxy`/`http_proxy`/`all_proxy` for ws:, `no_proxy` honoured; see proxy-env.ts).
   */
  proxy?: string | URL | false;
  /** Follow 301/302/303/307/308 answers to the upgrade. Default false, as `ws`. */
  followRedirects?: boolean;
  /** Redirects followed per connection attempt before a TooManyRedirectsError. Default {@link DEFAULT_MAX_REDIRECTS}. */
  maxRedirects?: number;
  /**
   * Names of `headers` a redirect to another origin keeps (case-insensitive). Default none: a
   * cross-origin redirect drops every header given in `headers`, as any of them may be a credential.
   */
  forwardHeaders?: readonly string[];
  /** Connect to this Unix domain socket; the URL gives the request path and Host. Also `ws+unix:` URLs. */
  socketPath?: string;
  /** Custom transport: returns the stream to run on (TLS already, for wss:). Proxy and socketPath are then ignored. */
  createConnection?: CreateConnection;
  /**
   * Local IP address to connect from (`net.connect`'s `localAddress`), for ws: and wss:, to the
   * server or to the proxy. Default: the OS chooses.
   */
  localAddress?: string;
  /**
   * IP version of the address the host name is resolved to: 4 or 6 (`net.connect`'s `family`).
   * Applies to the server's host, or to the proxy's (and to the server's for socks5/socks4, which
   * resolve it locally). Default: either.
   */
  family?: 4 | 6;
  /**
   * Resolves host names instead of `dns.lookup` (`net.connect`'s `lookup`, same signature): the
   * server's host, or the proxy's (and the server's for socks5/socks4). Default `dns.lookup`.
   */
  lookup?: NonNullable<SocketOptions["lookup"]>;

  // --- Compression (docs/client.md, "Compression") ---
  /**
   * permessage-deflate (RFC 7692). Default `true`: offered with the defaults of deflate.ts
   * (`threshold` 1024 bytes, zlib level 6); `false`: not offered; an object tunes it.
   */
  perMessageDeflate?: boolean | PerMessageDeflateClientOptions;

  // --- Browsers and workers (docs/runtimes.md, "What a browser cannot do") ---
  /**
   * Browser build only: a heartbeat of your own protocol's messages, where ping frames cannot be sent,
   * made by {@link appHeartbeat}. Default none. The Node build throws a TypeError for it (it sends
   * ping frames: `heartbeat`).
   */
  appHeartbeat?: AppHeartbeat;
  /**
   * Browser build only: bytes of received messages a slow consumer may fall behind beyond
   * `highWaterMark` (a browser socket cannot stop reading) before the connection fails with a
   * `ReceiveBufferFullError`. Default {@link DEFAULT_MAX_BUFFERED_BYTES}. The Node build throws a
   * TypeError for it (it stops reading instead).
   */
  maxBufferedBytes?: number;
  // --- Diagnostics (docs/client.md, "Diagnostics") ---
  /**
   * Logs the lifecycle (connecting, open, closed with its codes, reconnect delays), the upgrade request
   * and response (credentials redacted) and errors: any object with `debug`, `info`, `warn` and
   * `error` methods, such as `console`. Default none: nothing is logged.
   */
  logger?: Logger;
}

/** Functions called before every attempt. */
export interface Providers {
  readonly url?: () => string | URL | Promise<string | URL>;
  readonly headers?: () => HeaderList | Promise<HeaderList>;
  readonly protocols?: () => string | readonly string[] | Promise<string | readonly string[]>;
}

/**
 * Options after validation and defaults. The Node-only ones (node-options.ts) stay undefined in the
 * browser build, which refuses them.
 */
export interface ResolvedOptions {
  /** A new URL object on every read (see RESOLVED_PROTOTYPE): read `href` for the text. */
  readonly url: URL;
  readonly href: string;
  readonly headers: HeaderList | undefined;
  readonly protocols: readonly string[];
  /** The per-attempt functions given for url, headers and protocols, if any. */
  readonly providers: Providers | undefined;
  readonly origin: string | undefined;
  readonly heartbeat: HeartbeatOptions | false;
  readonly reconnect: ReconnectOptions | false;
  readonly shouldReconnect: ((reason: unknown, context: RetryContext) => boolean) | undefined;
  readonly onOpen: WebSocketClientOptions["onOpen"];
  readonly binaryType: BinaryType;
  readonly textAs: TextAs;
  readonly handshakeTimeout: number;
  readonly closeTimeout: number;
  readonly maxPayload: number;
  readonly maxQueuedBytes: number;
  readonly receive: "message" | "stream";
  readonly maxStreamedPayload: number;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly tls: TlsOptions | undefined;
  readonly signal: AbortSignal | undefined;
  readonly maxHeadSize: number | undefined;
  // Networks.
  readonly proxy: string | URL | false | undefined;
  readonly followRedirects: boolean;
  readonly maxRedirects: number;
  /** `forwardHeaders` in lower case. */
  readonly forwardHeaders: ReadonlySet<string>;
  readonly socketPath: string | undefined;
  readonly createConnection: CreateConnection | undefined;
  /** `localAddress`, `family` and `lookup`, or undefined when none is set. */
  readonly socket: SocketOptions | undefined;
  // Compression.
  readonly perMessageDeflate: ResolvedDeflateOptions;
  // Browsers and workers.
  readonly appHeartbeat: AppHeartbeat | undefined;
  /** Undefined when not given (the browser build then applies DEFAULT_MAX_BUFFERED_BYTES). */
  readonly maxBufferedBytes: number | undefined;
  // Diagnostics.
  readonly logger: Logger | undefined;
}
