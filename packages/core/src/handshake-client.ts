/**
 * The client side of the RFC 6455 opening handshake: pure functions (resolve the URL, build the
 * request, validate the response) and the sans-I/O {@link ClientHandshake} around them.
 */
import { encodeBase64 } from "./base64.js";
import { DEFAULT_MAX_ERROR_BODY, DEFAULT_MAX_HEAD_SIZE } from "./constants.js";
import {
  type ErrorCode,
  ErrorCodes,
  HandshakeError,
  type HttpResponse,
  InvalidStateError,
  UnexpectedResponseError,
} from "./errors.js";
import type { UpgradeResponse } from "./events.js";
import { computeAccept, HANDSHAKE_HEADERS, type HeaderInit, headerPairs, latin1Bytes } from "./handshake.js";
import {
  type ExtensionOffer,
  isToken,
  parseExtensionList,
  parseTokenList,
  validateHeaderValue,
} from "./headers.js";
import { ErrorBodyCollector, parseHeadFields, ResponseTextParser } from "./http.js";
import { platformRandomFill } from "./random.js";
import { encodeUtf8 } from "./utf8.js";

/** A fresh `Sec-WebSocket-Key`: "a randomly selected 16-byte value ... base64-encoded" (section 4.1). */
export function generateKey(randomFill: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(16);
  randomFill(bytes);
  return encodeBase64(bytes);
}

export interface ClientRequestOptions {
  /** ws:, wss:, http: (becomes ws:) or https: (becomes wss:). No fragment. */
  url: string | URL;
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
export function resolveWebSocketUrl(input: string | URL): WebSocketTarget {
  const url = typeof input === "string" ? new URL(input) : input;
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
    if (HANDSHAKE_HEADERS.has(name.toLowerCase())) {
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
    lines.push(`Authorization: Basic ${encodeBase64(encodeUtf8(url.userinfo))}`);
  }
  for (const [name, value] of user) if (name.toLowerCase() !== "host") lines.push(`${name}: ${value}`);
  return latin1Bytes(`${lines.join("\r\n")}\r\n\r\n`);
}

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

/**
 * The 101 response as a client keeps it for the life of the connection: the head's text, parsed
 * again into `headers` and `rawHeaders` when first read (then kept). They are own enumerable getters
 * defined in the order of the plain object, so spreading, JSON and deep equality see the same fields.
 * Why: the parsed form (a dictionary-mode headers object, an array per header, sliced strings) is
 * the biggest part of an idle connection's memory, and most connections never read it.
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

  /**
   * The own enumerable getters of every instance. A static field rather than a static block, which
   * would be run at load and so keep this class and the HTTP parser in bundles that never use them.
   */
  static readonly #parsedFields: PropertyDescriptorMap = {
    headers: {
      enumerable: true,
      get(this: KeptResponse) {
        return KeptResponse.#parsed(this).headers;
      },
    },
    rawHeaders: {
      enumerable: true,
      get(this: KeptResponse) {
        return KeptResponse.#parsed(this).rawHeaders;
      },
    },
  };

  /** `text`: the head `response` was parsed from (ResponseTextParser). */
  constructor(response: UpgradeResponse, text: string) {
    this.#text = text;
    this.status = response.status;
    // The usual reason phrase as a constant rather than a slice of the head: 32 B per connection.
    this.statusText = response.statusText === SWITCHING ? SWITCHING : response.statusText;
    Object.defineProperties(this, KeptResponse.#parsedFields);
    this.protocol = response.protocol;
    this.extensions = response.extensions;
  }

  // Static: a private instance method would add a brand to every instance.
  static #parsed(r: KeptResponse): ReturnType<typeof parseHeadFields> {
    return (r.#fields ??= parseHeadFields(r.#text));
  }
}

export type HandshakeOutcome =
  | Readonly<{ type: "accepted"; response: UpgradeResponse; rest: Uint8Array }>
  | Readonly<{ type: "failed"; error: HandshakeError }>;

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
    this.key = generateKey(o.randomFill ?? platformRandomFill);
    this.request = buildClientRequest({ ...o, key: this.key });
    this.protocols = o.protocols;
    this.extensionsOffered = o.extensionsOffered;
    this.maxErrorBodySize = o.maxErrorBodySize ?? DEFAULT_MAX_ERROR_BODY;
    this.parser = new ResponseTextParser({ maxHeadSize: o.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE });
  }

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
