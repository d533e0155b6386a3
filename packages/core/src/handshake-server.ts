/**
 * The server side of the RFC 6455 opening handshake: check an upgrade request, build the 101 answer
 * or a refusal, and the sans-I/O {@link ServerHandshake} around them.
 */
import { decodeBase64 } from "./base64.js";
import { DEFAULT_MAX_HEAD_SIZE } from "./constants.js";
import { type ErrorCode, ErrorCodes, HandshakeError, InvalidStateError } from "./errors.js";
import { computeAccept, HANDSHAKE_HEADERS, headerPairs, latin1Bytes } from "./handshake.js";
import {
  type ExtensionOffer,
  isToken,
  parseExtensionList,
  parseTokenList,
  validateHeaderValue,
} from "./headers.js";
import { type HttpRequest, RequestHeadParser } from "./http.js";
import { encodeUtf8 } from "./utf8.js";

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

/** A client's upgrade request, as the server role reads it once it is valid. */
export interface UpgradeRequest {
  /** `Sec-WebSocket-Key`, as sent. */
  key: string;
  /** Subprotocols offered, in the client's order of preference, as sent. */
  protocols: string[];
  /** Extensions offered, with their parameters, in the client's order. */
  extensions: ExtensionOffer[];
  /** The `Origin` header, if any. */
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
  lines.push(...headerLines(o.headers, HANDSHAKE_HEADERS));
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
  const body = typeof o.body === "string" ? encodeUtf8(o.body) : (o.body ?? new Uint8Array(0));
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

  receiveEof(): ServerHandshakeOutcome {
    if (this.finished) throw new InvalidStateError("The handshake is already over");
    this.finished = true;
    return {
      type: "failed",
      error: new HandshakeError(ErrorCodes.UnexpectedEof, "Connection closed before a complete request head"),
    };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
