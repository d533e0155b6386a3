import { decodeBase64, encodeBase64 } from "./base64.js";
import { DEFAULT_MAX_ERROR_BODY, DEFAULT_MAX_HEAD_SIZE, WEBSOCKET_GUID } from "./constants.js";
import {
  type ErrorCode,
  ErrorCodes,
  HandshakeError,
  type HttpResponse,
  InvalidStateError,
  UnexpectedResponseError,
} from "./errors.js";
import type { UpgradeResponse } from "./events.js";
import {
  type ExtensionOffer,
  isToken,
  parseExtensionList,
  parseTokenList,
  validateHeaderName,
  validateHeaderValue,
} from "./headers.js";
import { type HttpRequest, parseHeadFields, RequestHeadParser, ResponseTextParser } from "./http.js";
import { sha1 } from "./sha1.js";

/**
 * The RFC 6455 opening handshake as pure functions (build the request, validate the response) and two
 * small sans-I/O state machines around them: {@link ClientHandshake} and {@link ServerHandshake}.
 */

// ---------------------------------------------------------------------------------------------------
// Byte helpers

/** Writes an HTTP head; every char was validated to be <= U+00FF, so Latin-1 is lossless. */
function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** UTF-8 encoding without TextEncoder (not in every runtime's type lib); lone surrogates -> U+FFFD. */
function utf8Bytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xdc00 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Keys

/** `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2, step 5.4). */
export function computeAccept(key: string): string {
  return encodeBase64(sha1(latin1Bytes(key + WEBSOCKET_GUID)));
}

/** A fresh `Sec-WebSocket-Key`: "a randomly selected 16-byte value ... base64-encoded" (section 4.1). */
export function generateKey(randomFill: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(16);
  randomFill(bytes);
  return encodeBase64(bytes);
}

/** `crypto.getRandomValues`, found at run time: the core's type lib has no DOM/WebCrypto types. */
function defaultRandomFill(bytes: Uint8Array): void {
  const crypto = (globalThis as { crypto?: { getRandomValues(b: Uint8Array): Uint8Array } }).crypto;
  if (!crypto) throw new TypeError("No crypto.getRandomValues in this runtime: pass randomFill");
  crypto.getRandomValues(bytes);
}

// ---------------------------------------------------------------------------------------------------
// Client request

/**
 * The parts of a WHATWG URL the handshake reads. A real `URL` satisfies it; declared here because the
 * core compiles against the ES2022 lib only (no DOM), while every target runtime has a global `URL`.
 */
export interface UrlLike {
  readonly href: string;
  readonly protocol: string;
  readonly host: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly username: string;
  readonly password: string;
}

export type HeaderInit = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

/** What the client's upgrade request is built from (RFC 6455 section 4.1). */
export interface ClientRequestOptions {
  /** ws:, wss:, http: (becomes ws:) or https: (becomes wss:). No fragment. */
  url: string | UrlLike;
  /** Extra headers. `Host` may be overridden; the names the handshake owns are refused. */
  headers?: HeaderInit;
  /** Subprotocols offered, in order of preference: distinct tokens. */
  protocols?: readonly string[];
  /** `Origin` header, if any. */
  origin?: string;
  /** The `Sec-WebSocket-Extensions` offer, as sent; "" or absent offers none. */
  extensions?: string;
  /** The `Sec-WebSocket-Key`; see {@link generateKey}. */
  key: string;
}

/**
 * Headers the handshake writes itself; a user value would break or fake the negotiation. `Host` is
 * not among them: overriding it is useful (a virtual host reached by IP, a tunnel), so a user `Host`
 * replaces the one derived from the URL.
 */
const CLIENT_OWNED = new Set([
  "upgrade",
  "connection",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

function headerPairs(headers: HeaderInit | undefined): Array<readonly [string, string]> {
  if (headers === undefined) return [];
  const pairs = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [string, string]>)
    : Object.entries(headers as Record<string, string>);
  for (const [name, value] of pairs) {
    validateHeaderName(name);
    validateHeaderValue(value);
  }
  return [...pairs];
}

/** Where and how to connect, from a WebSocket URL. */
export interface WebSocketTarget {
  /** wss: or https: (TLS). */
  secure: boolean;
  /** Host name or IP to connect to; IPv6 without brackets, ready for `net.connect`. */
  hostname: string;
  /** Port to connect to: explicit, or 80 / 443. */
  port: number;
  /** The `Host` header value: brackets kept, port only when not the default. */
  host: string;
  /** Request target: path and query, never empty. */
  path: string;
  /** Percent-decoded "user:password", or "" without userinfo. */
  userinfo: string;
}

/**
 * Resolves and checks a WebSocket URL as the WHATWG WebSocket standard does: ws:, wss:, http: (as ws:)
 * or https: (as wss:), and no fragment. Throws a TypeError otherwise. Transports use it to know where
 * to connect; {@link buildClientRequest} uses it for the request line and Host.
 */
export function resolveWebSocketUrl(input: string | UrlLike): WebSocketTarget {
  const URLCtor = (globalThis as unknown as { URL: new (url: string) => UrlLike }).URL;
  const url = typeof input === "string" ? new URLCtor(input) : input;
  let secure: boolean;
  if (url.protocol === "ws:" || url.protocol === "http:") secure = false;
  else if (url.protocol === "wss:" || url.protocol === "https:") secure = true;
  else throw new TypeError(`Invalid WebSocket URL scheme ${JSON.stringify(url.protocol)}: use ws: or wss:`);
  // Browsers throw a SyntaxError for any fragment, even an empty "#"; so do we (`hash` is "" for "#",
  // hence the look at `href`). A fragment has no meaning in a request target.
  if (url.href.includes("#")) throw new TypeError("A WebSocket URL must not contain a fragment");
  if (url.host === "") throw new TypeError("A WebSocket URL needs a host");
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const userinfo = url.username || url.password ? `${decode(url.username)}:${decode(url.password)}` : "";
  // WHATWG `host` keeps IPv6 brackets and leaves out the port when it is the scheme default: ws/http
  // share port 80, wss/https 443, so converting http: to ws: changes no default.
  // An empty query ("ws://h/?") is kept, as browsers send it: `search` is "" then, but `href` ends
  // with "?" (there is no fragment after it, see above).
  const query = url.search || (url.href.endsWith("?") ? "?" : "");
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
  return { secure, hostname, port, host: url.host, path: (url.pathname || "/") + query, userinfo };
}

/**
 * Builds the upgrade request (RFC 6455 section 4.1): `GET <path?query> HTTP/1.1`, Host, Upgrade,
 * Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, then Origin, Sec-WebSocket-Protocol,
 * Sec-WebSocket-Extensions, Authorization (Basic, from URL userinfo, unless given) and the user headers.
 * Throws a TypeError for a bad URL, a bad or duplicate subprotocol, an owned or invalid header.
 */
export function buildClientRequest(o: ClientRequestOptions): Uint8Array {
  const url = resolveWebSocketUrl(o.url);
  const user = headerPairs(o.headers);
  for (const [name] of user) {
    if (CLIENT_OWNED.has(name.toLowerCase())) {
      throw new TypeError(`Header ${name} is set by the WebSocket handshake and cannot be overridden`);
    }
  }
  const has = (lower: string) => user.some(([name]) => name.toLowerCase() === lower);
  const userHost = user.find(([name]) => name.toLowerCase() === "host");
  if (o.origin !== undefined && has("origin")) throw new TypeError("Origin given both as option and header");

  const lines = [`GET ${url.path} HTTP/1.1`, `Host: ${userHost ? userHost[1] : url.host}`];
  lines.push("Upgrade: websocket", "Connection: Upgrade");
  validateHeaderValue(o.key);
  lines.push(`Sec-WebSocket-Key: ${o.key}`, "Sec-WebSocket-Version: 13");
  if (o.origin !== undefined) {
    validateHeaderValue(o.origin);
    lines.push(`Origin: ${o.origin}`);
  }
  if (o.protocols && o.protocols.length > 0) {
    const seen = new Set<string>();
    for (const protocol of o.protocols) {
      // "elements that comprise this value MUST be non-empty strings with characters in the range
      // U+0021 to U+007E not including separator characters" and "MUST all be unique" (section 4.1).
      if (!isToken(protocol)) throw new TypeError(`Invalid subprotocol ${JSON.stringify(protocol)}`);
      if (seen.has(protocol)) throw new TypeError(`Duplicate subprotocol ${JSON.stringify(protocol)}`);
      seen.add(protocol);
    }
    lines.push(`Sec-WebSocket-Protocol: ${o.protocols.join(", ")}`);
  }
  if (o.extensions) {
    validateHeaderValue(o.extensions);
    try {
      parseExtensionList(o.extensions);
    } catch (error) {
      throw new TypeError(`Invalid extensions offer ${JSON.stringify(o.extensions)}`, { cause: error });
    }
    lines.push(`Sec-WebSocket-Extensions: ${o.extensions}`);
  }
  if (url.userinfo && !has("authorization")) {
    lines.push(`Authorization: Basic ${encodeBase64(utf8Bytes(url.userinfo))}`);
  }
  for (const [name, value] of user) if (name.toLowerCase() !== "host") lines.push(`${name}: ${value}`);
  return latin1Bytes(`${lines.join("\r\n")}\r\n\r\n`);
}

// ---------------------------------------------------------------------------------------------------
// Client response validation

export interface ResponseExpectations {
  /** The `Sec-WebSocket-Key` sent. */
  key: string;
  /** Subprotocols offered; the server may pick at most one of them. */
  protocols?: readonly string[];
  /** Names of the extensions offered; the server may accept only those. Default: none. */
  extensionsOffered?: readonly string[];
}

/**
 * Checks a 101 response against what was asked (RFC 6455 section 4.1, "the client MUST validate the
 * server's response as follows") and returns it with the negotiated protocol and extensions.
 * Throws UnexpectedResponseError (empty body) when the status is not 101, otherwise a HandshakeError:
 * InvalidUpgrade, InvalidAccept, InvalidSubprotocol or InvalidExtension.
 */
export function validateUpgradeResponse(res: HttpResponse, o: ResponseExpectations): UpgradeResponse {
  if (res.status !== 101) throw new UnexpectedResponseError(res, new Uint8Array(0));
  const fail = (code: ErrorCode, message: string): never => {
    throw new HandshakeError(code, message, res);
  };
  // Token lists, not whole values: `Connection: keep-alive, Upgrade` and `Upgrade: WebSocket` are valid.
  if (!parseTokenList(res.headers.upgrade ?? "").includes("websocket")) {
    fail(ErrorCodes.InvalidUpgrade, `Invalid Upgrade header: ${JSON.stringify(res.headers.upgrade ?? null)}`);
  }
  if (!parseTokenList(res.headers.connection ?? "").includes("upgrade")) {
    fail(
      ErrorCodes.InvalidUpgrade,
      `Invalid Connection header: ${JSON.stringify(res.headers.connection ?? null)}`,
    );
  }
  const accept = res.headers["sec-websocket-accept"];
  if (accept !== computeAccept(o.key)) {
    fail(ErrorCodes.InvalidAccept, `Invalid Sec-WebSocket-Accept header: ${JSON.stringify(accept ?? null)}`);
  }

  let protocol = "";
  const protocolHeader = res.headers["sec-websocket-protocol"];
  if (protocolHeader !== undefined) {
    // Subprotocol names are case-sensitive: compare as sent.
    const offered = o.protocols ?? [];
    if (!isToken(protocolHeader) || !offered.includes(protocolHeader)) {
      fail(
        ErrorCodes.InvalidSubprotocol,
        offered.length === 0
          ? `Server sent subprotocol ${JSON.stringify(protocolHeader)} but none was offered`
          : `Server selected subprotocol ${JSON.stringify(protocolHeader)}, not one of those offered`,
      );
    }
    protocol = protocolHeader;
  }

  const extensions = res.headers["sec-websocket-extensions"] ?? "";
  let accepted: ExtensionOffer[];
  try {
    accepted = parseExtensionList(extensions);
  } catch (error) {
    throw new HandshakeError((error as HandshakeError).code, (error as Error).message, res);
  }
  const offered = new Set((o.extensionsOffered ?? []).map((name) => name.toLowerCase()));
  for (const { name } of accepted) {
    if (!offered.has(name.toLowerCase())) {
      fail(
        ErrorCodes.InvalidExtension,
        `Server accepted extension ${JSON.stringify(name)}, which was not offered`,
      );
    }
  }
  return { ...res, protocol, extensions };
}

const SWITCHING = "Switching Protocols";

/** The own enumerable getters of a {@link KeptResponse}, defined in its static block. */
let keptFields: PropertyDescriptorMap;

/**
 * The 101 response as a client keeps it for the life of the connection: the head's text, parsed
 * again into `headers` and `rawHeaders` when first read (then kept). They are own enumerable getters
 * defined in the order of the plain object, so spreading, JSON and deep equality see the same fields.
 * The parsed form (a dictionary-mode headers object, an array per header, sliced strings) was
 * 0.96 KiB of each idle connection (4.98 -> 4.02 KiB, /tmp heap snapshot of 2000 idle clients).
 */
class KeptResponse implements UpgradeResponse {
  declare readonly status: number;
  declare readonly statusText: string;
  declare readonly headers: Readonly<Record<string, string>>;
  declare readonly rawHeaders: ReadonlyArray<readonly [string, string]>;
  declare readonly protocol: string;
  declare readonly extensions: string;
  readonly #text: string;
  #fields: ReturnType<typeof parseHeadFields> | undefined;

  /** `text`: the head `response` was parsed from (ResponseTextParser). */
  constructor(response: UpgradeResponse, text: string) {
    this.#text = text;
    this.status = response.status;
    // The usual reason phrase as a constant rather than a slice of the head: 32 B per connection.
    this.statusText = response.statusText === SWITCHING ? SWITCHING : response.statusText;
    Object.defineProperties(this, keptFields);
    this.protocol = response.protocol;
    this.extensions = response.extensions;
  }

  static {
    const fields = (r: KeptResponse) => (r.#fields ??= parseHeadFields(r.#text));
    keptFields = {
      headers: {
        enumerable: true,
        get(this: KeptResponse) {
          return fields(this).headers;
        },
      },
      rawHeaders: {
        enumerable: true,
        get(this: KeptResponse) {
          return fields(this).rawHeaders;
        },
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Client state machine

/**
 * How a client handshake ended: accepted (the 101 response, and the bytes after it, already frames) or
 * failed (the error says why; no close frame is sent).
 */
export type HandshakeOutcome =
  | Readonly<{ type: "accepted"; response: UpgradeResponse; rest: Uint8Array }>
  | Readonly<{ type: "failed"; error: HandshakeError }>;

/** The options of a {@link ClientHandshake}: the request's, plus the limits on the response. */
export interface ClientHandshakeOptions extends Omit<ClientRequestOptions, "key"> {
  /** Random source for the key; default `crypto.getRandomValues`. */
  randomFill?: (bytes: Uint8Array) => void;
  /** Limit on the response head. Default {@link DEFAULT_MAX_HEAD_SIZE}. */
  maxHeadSize?: number;
  /** Body bytes of a non-101 response kept for the error. Default {@link DEFAULT_MAX_ERROR_BODY}. */
  maxErrorBodySize?: number;
  /** Names of the extensions offered in `extensions`. Default: none. */
  extensionsOffered?: readonly string[];
}

/**
 * Reads the bounded body of a refused upgrade, so the error can show what the server said. It stops
 * at `limit` bytes (no need to read more), at the end of a Content-Length or chunked body, or at EOF.
 * A malformed chunked body ends the collection quietly: the status is the error, the body a courtesy.
 */
class ErrorBodyCollector {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private remaining: number; // Content-Length bytes still due; Infinity = until EOF or chunked
  private readonly chunked: boolean;
  private chunkState: "size" | "data" | "crlf" = "size";
  private sizeLine = "";
  private chunkLeft = 0;
  complete = false;

  constructor(
    response: HttpResponse,
    private readonly limit: number,
  ) {
    const te = parseTokenList(response.headers["transfer-encoding"] ?? "");
    this.chunked = te[te.length - 1] === "chunked";
    const length = response.headers["content-length"];
    this.remaining =
      !this.chunked && length !== undefined && /^\d+$/.test(length) ? Number(length) : Infinity;
    // No body: 1xx, 204, 304 (RFC 7230 section 3.3.3), or a declared empty one.
    const status = response.status;
    if (status < 200 || status === 204 || status === 304 || this.remaining === 0 || limit <= 0) {
      this.complete = true;
    }
  }

  body(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private keep(bytes: Uint8Array): void {
    const room = this.limit - this.size;
    const part = bytes.subarray(0, room);
    this.parts.push(part.slice());
    this.size += part.length;
    if (this.size >= this.limit) this.complete = true;
  }

  push(chunk: Uint8Array): void {
    if (this.complete) return;
    if (!this.chunked) {
      const part = chunk.subarray(0, Math.min(chunk.length, this.remaining));
      this.remaining -= part.length;
      this.keep(part);
      if (this.remaining === 0) this.complete = true;
      return;
    }
    let i = 0;
    while (i < chunk.length && !this.complete) {
      if (this.chunkState === "data") {
        const part = chunk.subarray(i, i + this.chunkLeft);
        this.keep(part);
        this.chunkLeft -= part.length;
        i += part.length;
        if (this.chunkLeft === 0) this.chunkState = "crlf";
      } else {
        const byte = chunk[i++]!;
        if (byte !== 0x0a) {
          if (this.chunkState === "size") this.sizeLine += String.fromCharCode(byte);
          if (this.sizeLine.length > 1024) this.complete = true;
          continue;
        }
        if (this.chunkState === "crlf") {
          this.chunkState = "size";
          continue;
        }
        // chunk-size [ chunk-ext ] CRLF (RFC 7230 section 4.1)
        const match = /^([0-9a-fA-F]{1,8})[ \t]*(?:;.*)?\r$/.exec(this.sizeLine);
        this.sizeLine = "";
        if (!match) this.complete = true;
        else {
          this.chunkLeft = Number.parseInt(match[1]!, 16);
          if (this.chunkLeft === 0)
            this.complete = true; // last-chunk: trailers do not matter here
          else this.chunkState = "data";
        }
      }
    }
  }
}

/**
 * The client side of the opening handshake, sans I/O. Write {@link request}, then feed what the
 * transport receives to {@link receiveData} until it returns an outcome, or call {@link receiveEof}.
 * `accepted`: the connection is open and `rest` holds the first frame bytes (a view of the last chunk).
 * `failed`: close the transport; the error says why (UnexpectedResponseError for a non-101 status).
 * After an outcome, further calls throw InvalidStateError.
 */
export class ClientHandshake {
  readonly key: string;
  readonly request: Uint8Array;
  private readonly protocols: readonly string[] | undefined;
  private readonly extensionsOffered: readonly string[] | undefined;
  private readonly maxErrorBodySize: number;
  private readonly parser: ResponseTextParser;
  private refused: { response: HttpResponse; body: ErrorBodyCollector } | undefined;
  private finished = false;

  constructor(o: ClientHandshakeOptions) {
    this.key = generateKey(o.randomFill ?? defaultRandomFill);
    this.request = buildClientRequest({ ...o, key: this.key });
    this.protocols = o.protocols;
    this.extensionsOffered = o.extensionsOffered;
    this.maxErrorBodySize = o.maxErrorBodySize ?? DEFAULT_MAX_ERROR_BODY;
    this.parser = new ResponseTextParser({ maxHeadSize: o.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE });
  }

  /**
   * Feeds bytes of the server's response. Returns undefined while the head is incomplete, then the
   * outcome once. Throws InvalidStateError after the outcome.
   */
  receiveData(chunk: Uint8Array): HandshakeOutcome | undefined {
    if (this.finished) throw new InvalidStateError("The handshake is already over");
    if (this.refused) {
      this.refused.body.push(chunk);
      return this.refused.body.complete ? this.refuse() : undefined;
    }
    let head: ReturnType<ResponseTextParser["push"]>;
    try {
      head = this.parser.push(chunk);
    } catch (error) {
      return this.fail(error as HandshakeError);
    }
    if (!head) return undefined;
    const { response, rest } = head;
    if (response.status !== 101) {
      this.refused = { response, body: new ErrorBodyCollector(response, this.maxErrorBodySize) };
      this.refused.body.push(rest);
      return this.refused.body.complete ? this.refuse() : undefined;
    }
    try {
      const upgrade = validateUpgradeResponse(response, {
        key: this.key,
        ...(this.protocols && { protocols: this.protocols }),
        ...(this.extensionsOffered && { extensionsOffered: this.extensionsOffered }),
      });
      this.finished = true;
      return { type: "accepted", response: new KeptResponse(upgrade, head.text), rest };
    } catch (error) {
      return this.fail(error as HandshakeError);
    }
  }

  /** The transport ended: a refusal is reported with the body read so far; anything else failed. */
  receiveEof(): HandshakeOutcome {
    if (this.finished) throw new InvalidStateError("The handshake is already over");
    if (this.refused) return this.refuse();
    const got = this.parser.buffered;
    return this.fail(
      new HandshakeError(
        ErrorCodes.UnexpectedEof,
        got === 0
          ? "Connection closed before any handshake response"
          : `Connection closed after ${got} bytes of an incomplete handshake response`,
      ),
    );
  }

  private refuse(): HandshakeOutcome {
    const { response, body } = this.refused!;
    return this.fail(new UnexpectedResponseError(response, body.body()));
  }

  private fail(error: HandshakeError): HandshakeOutcome {
    if (!(error instanceof HandshakeError)) throw error;
    this.finished = true;
    return { type: "failed", error };
  }
}

// ---------------------------------------------------------------------------------------------------
// Server side

/**
 * A request that cannot be upgraded, with the response the server should send: `status` 400, or 426
 * with `Sec-WebSocket-Version: 13` for an unsupported version (RFC 6455 section 4.4).
 */
export class UpgradeRequestError extends HandshakeError {
  readonly status: number;
  readonly responseHeaders: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, message: string, status = 400, responseHeaders: Record<string, string> = {}) {
    super(code, message);
    this.status = status;
    this.responseHeaders = responseHeaders;
  }
}

/** The WebSocket part of a client's upgrade request, as a server reads it (RFC 6455 section 4.2.1). */
export interface UpgradeRequest {
  key: string;
  /** Subprotocols offered, in the client's order of preference, as sent. */
  protocols: string[];
  extensions: ExtensionOffer[];
  origin?: string;
  /** The request target (path and query). */
  path: string;
}

/**
 * Checks an upgrade request (RFC 6455 section 4.2.1): GET, HTTP/1.1, Host, `Upgrade: websocket`,
 * `Connection: upgrade` (as tokens), `Sec-WebSocket-Version: 13`, a key that decodes to 16 bytes.
 * Throws {@link UpgradeRequestError} (InvalidRequest, or InvalidExtension for a malformed offer),
 * whose `status` and `responseHeaders` are the answer to send with {@link buildRejectResponse}.
 */
export function parseUpgradeRequest(req: HttpRequest): UpgradeRequest {
  const bad = (message: string): never => {
    throw new UpgradeRequestError(ErrorCodes.InvalidRequest, message);
  };
  const h = req.headers;
  if (req.method !== "GET") bad(`Upgrade requests must use GET, not ${req.method}`);
  if (req.version !== "HTTP/1.1") bad(`Upgrade requests must use HTTP/1.1, not ${req.version}`);
  if (h.host === undefined) bad("Missing Host header");
  if (!parseTokenList(h.upgrade ?? "").includes("websocket")) bad("Missing or invalid Upgrade header");
  if (!parseTokenList(h.connection ?? "").includes("upgrade")) bad("Missing or invalid Connection header");
  if (h["sec-websocket-version"] !== "13") {
    throw new UpgradeRequestError(
      ErrorCodes.InvalidRequest,
      `Unsupported Sec-WebSocket-Version: ${JSON.stringify(h["sec-websocket-version"] ?? null)}`,
      426,
      { "Sec-WebSocket-Version": "13" },
    );
  }
  const key = h["sec-websocket-key"] ?? "";
  let keyBytes = 0;
  try {
    keyBytes = decodeBase64(key).length;
  } catch {
    // reported below
  }
  if (keyBytes !== 16) bad(`Invalid Sec-WebSocket-Key: ${JSON.stringify(key)}`);
  const protocols = (h["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.replace(/^[ \t]+|[ \t]+$/g, ""))
    .filter((p) => p !== "");
  let extensions: ExtensionOffer[];
  try {
    extensions = parseExtensionList(h["sec-websocket-extensions"] ?? "");
  } catch (error) {
    throw new UpgradeRequestError(ErrorCodes.InvalidExtension, (error as Error).message);
  }
  const result: UpgradeRequest = { key, protocols, extensions, path: req.target };
  if (h.origin !== undefined) result.origin = h.origin;
  return result;
}

const SERVER_OWNED = new Set([...CLIENT_OWNED]);

function headerLines(
  headers: Readonly<Record<string, string>> | undefined,
  owned: ReadonlySet<string>,
): string[] {
  return headerPairs(headers).map(([name, value]) => {
    if (owned.has(name.toLowerCase())) throw new TypeError(`Header ${name} is set by the handshake`);
    return `${name}: ${value}`;
  });
}

/**
 * The 101 answer to a valid upgrade request: Upgrade, Connection, Sec-WebSocket-Accept, then the chosen
 * subprotocol and extensions if any, then `headers` (which may not set those).
 */
export function buildAcceptResponse(o: {
  key: string;
  protocol?: string;
  extensions?: string;
  headers?: Record<string, string>;
}): Uint8Array {
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Accept: ${computeAccept(o.key)}`,
  ];
  if (o.protocol) {
    if (!isToken(o.protocol)) throw new TypeError(`Invalid subprotocol ${JSON.stringify(o.protocol)}`);
    lines.push(`Sec-WebSocket-Protocol: ${o.protocol}`);
  }
  if (o.extensions) {
    validateHeaderValue(o.extensions);
    lines.push(`Sec-WebSocket-Extensions: ${o.extensions}`);
  }
  lines.push(...headerLines(o.headers, SERVER_OWNED));
  return latin1Bytes(`${lines.join("\r\n")}\r\n\r\n`);
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/**
 * A refusal: status line, `headers`, Content-Length and `Connection: close` (the connection is not
 * reused after a failed upgrade), and the body (a string is sent as UTF-8 text/plain).
 */
export function buildRejectResponse(
  status: number,
  o: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Uint8Array {
  if (!Number.isInteger(status) || status < 200 || status > 599 || status === 101) {
    throw new RangeError(`Invalid status for a refusal: ${status}`);
  }
  const body = typeof o.body === "string" ? utf8Bytes(o.body) : (o.body ?? new Uint8Array(0));
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? ""}`.trimEnd()];
  lines.push(...headerLines(o.headers, new Set(["content-length", "connection", "transfer-encoding"])));
  if (
    typeof o.body === "string" &&
    !Object.keys(o.headers ?? {}).some((n) => n.toLowerCase() === "content-type")
  ) {
    lines.push("Content-Type: text/plain; charset=utf-8");
  }
  lines.push(`Content-Length: ${body.length}`, "Connection: close");
  return concat(latin1Bytes(`${lines.join("\r\n")}\r\n\r\n`), body);
}

export type ServerHandshakeOutcome =
  | Readonly<{ type: "request"; request: HttpRequest; upgrade: UpgradeRequest; rest: Uint8Array }>
  | Readonly<{ type: "failed"; error: HandshakeError }>;

/**
 * The server side of the opening handshake, sans I/O: feed bytes until it returns the parsed upgrade
 * request (answer with {@link buildAcceptResponse}) or a failure (answer with {@link buildRejectResponse}:
 * `error.status` for an UpgradeRequestError, 431 for HeadTooBig, 400 otherwise).
 */
export class ServerHandshake {
  private readonly parser: RequestHeadParser;
  private finished = false;

  constructor(o: { maxHeadSize?: number } = {}) {
    this.parser = new RequestHeadParser({ maxHeadSize: o.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE });
  }

  /**
   * Feeds bytes of the client's request. Returns undefined while the head is incomplete, then the
   * outcome once. Throws InvalidStateError after the outcome.
   */
  receiveData(chunk: Uint8Array): ServerHandshakeOutcome | undefined {
    if (this.finished) throw new InvalidStateError("The handshake is already over");
    try {
      const head = this.parser.push(chunk);
      if (!head) return undefined;
      const upgrade = parseUpgradeRequest(head.request);
      this.finished = true;
      return { type: "request", request: head.request, upgrade, rest: head.rest };
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      this.finished = true;
      return { type: "failed", error };
    }
  }

  /** The transport ended before a whole request head: the handshake failed. */
  receiveEof(): ServerHandshakeOutcome {
    if (this.finished) throw new InvalidStateError("The handshake is already over");
    this.finished = true;
    return {
      type: "failed",
      error: new HandshakeError(ErrorCodes.UnexpectedEof, "Connection closed before a complete request head"),
    };
  }
}
