import { DEFAULT_MAX_HEAD_SIZE } from "./constants.js";
import { ErrorCodes, HandshakeError, type HttpResponse, InvalidStateError } from "./errors.js";
import { isFieldValueChar, isToken, isTokenChar, parseTokenList } from "./headers.js";

/**
 * An incremental HTTP/1.1 head parser for the upgrade handshake: status or request line, header
 * fields, blank line. It never parses a body; what follows the blank line is returned untouched as
 * `rest` (after a 101 it is already WebSocket frames).
 *
 * Choices, each stricter than a browser only where the handshake cannot be legitimate otherwise:
 * - Lines end with CRLF. A bare LF or bare CR is refused at once (InvalidHttp) instead of tolerated
 *   (RFC 7230 section 3.5 allows, not requires, accepting bare LF): a WebSocket server that cannot
 *   write CRLF is broken, and refusing early means a LF-only reply fails fast rather than at the limit.
 * - Not-HTTP is detected at the first wrong byte: a response line must start with `HTTP/1.x NNN`, a
 *   request line must be `token SP target SP HTTP/d.d`. `SSH-2.0-...` or TLS bytes fail on byte 0.
 * - Responses may be HTTP/1.0 or 1.1 (any `HTTP/1.x`): a proxy or an old server refusing the upgrade
 *   with `HTTP/1.0 403` should surface as an UnexpectedResponseError that carries the status, not as
 *   an opaque "invalid HTTP". The handshake accepts a 1.0 `101` as well: what proves the upgrade is
 *   `Sec-WebSocket-Accept`, not the version number.
 * - No obs-fold (RFC 7230 section 3.2.4: a user agent must replace it or reject; we reject), no
 *   whitespace before the colon, no control characters in values.
 * - Header values are decoded as Latin-1 (one char per byte, lossless), as Node does.
 */

/** A parsed request head. Header names in `headers` are lower case; repeats are joined with ", ". */
export interface HttpRequest {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly rawHeaders: ReadonlyArray<readonly [string, string]>;
}

export type ResponseHead = { readonly response: HttpResponse; readonly rest: Uint8Array };
export type RequestHead = { readonly request: HttpRequest; readonly rest: Uint8Array };
export type HttpHead = ResponseHead | RequestHead;

export interface HeadParserOptions {
  /** Largest head accepted, blank line included. Default {@link DEFAULT_MAX_HEAD_SIZE}. */
  maxHeadSize?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTTP_1_ = "HTTP/1.";

const invalid = (message: string): HandshakeError =>
  new HandshakeError("WS_ERR_INVALID_HTTP" satisfies typeof ErrorCodes.InvalidHttp, message);

/**
 * Finds the end of the head across chunks. Like h11's ReceiveBuffer it never re-scans: each byte is
 * looked at once, and the little state it needs (was the previous byte CR, how long is the current
 * line, are we in the first line) is carried from one chunk to the next. Returns the head bytes (a
 * view of the chunk when the head arrived in one chunk, else one copy) and the view of what follows.
 */
class HeadScanner {
  /** Head bytes of earlier chunks, copied (the caller may reuse its buffers). */
  private readonly pending: Uint8Array[] = [];
  /** Number of head bytes seen so far. */
  private scanned = 0;
  private lineLength = 0;
  private afterCr = false;
  private inFirstLine = true;
  private done = false;
  private failure: HandshakeError | undefined;

  constructor(
    private readonly maxHeadSize: number,
    /**
     * Checks byte `index` of the first line (CR included, so the check can see the line end); returns
     * why these bytes cannot start an HTTP head, if they cannot.
     */
    private readonly checkFirstLine: (byte: number, index: number) => string | undefined,
  ) {}

  /** Bytes received and not yet returned. */
  get buffered(): number {
    return this.scanned;
  }

  push(chunk: Uint8Array): { head: Uint8Array; rest: Uint8Array } | undefined {
    if (this.failure) throw this.failure;
    if (this.done) throw new InvalidStateError("The HTTP head was already parsed");
    try {
      return this.scan(chunk);
    } catch (error) {
      this.failure = error as HandshakeError;
      throw error;
    }
  }

  private scan(chunk: Uint8Array): { head: Uint8Array; rest: Uint8Array } | undefined {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      const index = this.scanned + i;
      if (this.inFirstLine && byte !== LF) {
        const why = this.checkFirstLine(byte, index);
        if (why !== undefined) throw invalid(`Invalid HTTP: ${why} at byte ${index}`);
      }
      if (this.afterCr !== (byte === LF)) {
        throw invalid(`Invalid HTTP: ${this.afterCr ? "CR without LF" : "LF without CR"} at byte ${index}`);
      }
      if (byte === CR) {
        this.afterCr = true;
      } else if (byte === LF) {
        this.afterCr = false;
        if (this.lineLength === 0 && !this.inFirstLine) {
          this.done = true;
          return this.finish(chunk, i + 1);
        }
        this.inFirstLine = false;
        this.lineLength = 0;
      } else {
        this.lineLength++;
      }
      if (index + 1 >= this.maxHeadSize) {
        throw new HandshakeError(
          ErrorCodes.HeadTooBig,
          `HTTP head exceeds ${this.maxHeadSize} bytes without a blank line`,
        );
      }
    }
    this.pending.push(chunk.slice());
    this.scanned += chunk.length;
    return undefined;
  }

  private finish(chunk: Uint8Array, end: number): { head: Uint8Array; rest: Uint8Array } {
    const rest = chunk.subarray(end);
    if (this.pending.length === 0) return { head: chunk.subarray(0, end), rest };
    const head = new Uint8Array(this.scanned + end);
    let offset = 0;
    for (const part of this.pending) {
      head.set(part, offset);
      offset += part.length;
    }
    head.set(chunk.subarray(0, end), offset);
    this.pending.length = 0;
    return { head, rest };
  }
}

/**
 * Latin-1 decoding: one char per byte, lossless, like Node's HTTP parser. `apply` takes the bytes as
 * they are, where a spread would iterate them (several times slower, on every handshake).
 */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return text;
}

/** A complete head (ending with CRLF CRLF, scanner-checked) as text, blank line excluded. */
function headText(head: Uint8Array): string {
  return latin1(head.subarray(0, head.length - 4));
}

/** Splits a complete head (ending with CRLF CRLF, scanner-checked) into its lines, blank line excluded. */
function headLines(head: Uint8Array): string[] {
  return headText(head).split("\r\n");
}

/**
 * The header fields of a response head's text (see {@link ResponseTextParser}), which parsed
 * before: for a response kept compact (handshake.ts) that parses its headers again when read.
 */
export function parseHeadFields(text: string): {
  headers: Record<string, string>;
  rawHeaders: Array<[string, string]>;
} {
  return parseFields(text.split("\r\n").slice(1));
}

/** Parses header lines into the lower-cased record and the raw pairs. */
function parseFields(lines: readonly string[]): {
  headers: Record<string, string>;
  rawHeaders: Array<[string, string]>;
} {
  // A null-prototype object: a header named `__proto__` must stay a header.
  const headers: Record<string, string> = Object.create(null);
  const rawHeaders: Array<[string, string]> = [];
  for (const line of lines) {
    const first = line.charCodeAt(0);
    if (first === SP || first === 0x09) throw invalid("Invalid HTTP: obsolete line folding in header");
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    if (!isToken(name)) throw invalid(`Invalid HTTP header line: ${JSON.stringify(line.slice(0, 100))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    for (let i = 0; i < value.length; i++) {
      if (!isFieldValueChar(value.charCodeAt(i))) {
        throw invalid(`Invalid HTTP: control character in header ${JSON.stringify(name)}`);
      }
    }
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : previous + (key === "set-cookie" ? "\n" : ", ") + value;
  }
  return { headers, rawHeaders };
}

function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isFieldValueChar(text.charCodeAt(i))) return true;
  return false;
}

const STATUS_LINE = /^HTTP\/1\.(\d) (\d{3})(?: (.*))?$/;

/** Parses a complete response head (status line to blank line included). */
export function parseResponseHead(head: Uint8Array): HttpResponse {
  return parseResponseText(headText(head));
}

function parseResponseText(text: string): HttpResponse {
  const [statusLine = "", ...fields] = text.split("\r\n");
  const match = STATUS_LINE.exec(statusLine);
  if (!match || hasControlChar(statusLine)) {
    throw invalid(`Invalid HTTP status line: ${JSON.stringify(statusLine.slice(0, 100))}`);
  }
  const { headers, rawHeaders } = parseFields(fields);
  return { status: Number(match[2]), statusText: match[3] ?? "", headers, rawHeaders };
}

const REQUEST_LINE = /^([^ ]+) ([^ ]+) (HTTP\/\d\.\d)$/;

/** Parses a complete request head (request line to blank line included). */
export function parseRequestHead(head: Uint8Array): HttpRequest {
  const [requestLine = "", ...fields] = headLines(head);
  const match = REQUEST_LINE.exec(requestLine);
  if (!match || !isToken(match[1]!) || hasControlChar(requestLine) || /[^\x21-\x7e]/.test(match[2]!)) {
    throw invalid(`Invalid HTTP request line: ${JSON.stringify(requestLine.slice(0, 100))}`);
  }
  const { headers, rawHeaders } = parseFields(fields);
  return { method: match[1]!, target: match[2]!, version: match[3]!, headers, rawHeaders };
}

/** `HTTP/1.x NNN` then a space or the end of the line: checked byte by byte as it arrives. */
function checkResponseStart(byte: number, index: number): string | undefined {
  const ok =
    index < HTTP_1_.length
      ? byte === HTTP_1_.charCodeAt(index)
      : index === 7 || (index >= 9 && index <= 11)
        ? byte >= 0x30 && byte <= 0x39
        : index === 8
          ? byte === SP
          : index === 12
            ? byte === SP || byte === CR
            : true;
  return ok ? undefined : index < 9 ? "not an HTTP/1.x response" : "invalid status code";
}

/** `method SP target SP HTTP/d.d CR`, checked byte by byte as it arrives. */
function makeRequestStart(): (byte: number, index: number) => string | undefined {
  let part: "method" | "target" | "version" = "method";
  let start = 0;
  return (byte, index) => {
    const offset = index - start;
    if (part === "method") {
      if (byte === SP && offset > 0) {
        part = "target";
        start = index + 1;
        return undefined;
      }
      return isTokenChar(byte) ? undefined : "invalid request method";
    }
    if (part === "target") {
      if (byte === SP && offset > 0) {
        part = "version";
        start = index + 1;
        return undefined;
      }
      return byte > SP && byte < 0x7f ? undefined : "invalid request target";
    }
    const ok =
      offset < 5
        ? byte === "HTTP/".charCodeAt(offset)
        : offset === 5 || offset === 7
          ? byte >= 0x30 && byte <= 0x39
          : offset === 6
            ? byte === 0x2e
            : offset === 8 && byte === CR;
    return ok ? undefined : "invalid HTTP version";
  };
}

/**
 * Parses a response head fed in chunks of any size. {@link push} returns `undefined` until the blank
 * line arrives, then the response and `rest`, the bytes after the head (a view of the last chunk: no
 * copy). Throws HandshakeError(InvalidHttp) for anything that is not an HTTP/1.x response head and
 * HandshakeError(HeadTooBig) once `maxHeadSize` bytes passed without a blank line. Single use: after
 * it returned a head, push throws InvalidStateError; after it threw, push throws the same error.
 */
export class ResponseHeadParser {
  private readonly scanner: HeadScanner;
  constructor(options: HeadParserOptions = {}) {
    this.scanner = new HeadScanner(options.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE, checkResponseStart);
  }
  /** Bytes received so far that are not yet part of a returned head. */
  get buffered(): number {
    return this.scanner.buffered;
  }
  /**
   * Feeds bytes. Returns undefined until the blank line ending the head, then the parsed head and
   * the bytes after it. Throws HandshakeError (InvalidHttp, HeadTooBig) on a malformed or oversized head.
   */
  push(chunk: Uint8Array): ResponseHead | undefined {
    const found = this.scanner.push(chunk);
    return found && { response: parseResponseHead(found.head), rest: found.rest };
  }
}

/**
 * {@link ResponseHeadParser} that also returns the head as text (status line and fields, without the
 * blank line), for the client handshake to keep instead of the parsed form. Not exported by the package.
 */
export class ResponseTextParser {
  private readonly scanner: HeadScanner;
  constructor(options: HeadParserOptions = {}) {
    this.scanner = new HeadScanner(options.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE, checkResponseStart);
  }
  get buffered(): number {
    return this.scanner.buffered;
  }
  push(chunk: Uint8Array): (ResponseHead & { readonly text: string }) | undefined {
    const found = this.scanner.push(chunk);
    if (!found) return undefined;
    const text = headText(found.head);
    return { response: parseResponseText(text), rest: found.rest, text };
  }
}

/** The server-side twin of {@link ResponseHeadParser}: parses a request head. */
export class RequestHeadParser {
  private readonly scanner: HeadScanner;
  constructor(options: HeadParserOptions = {}) {
    this.scanner = new HeadScanner(options.maxHeadSize ?? DEFAULT_MAX_HEAD_SIZE, makeRequestStart());
  }
  /** Bytes received so far that are not yet part of a returned head. */
  get buffered(): number {
    return this.scanner.buffered;
  }
  /** As {@link ResponseHeadParser.push}, for a request head. */
  push(chunk: Uint8Array): RequestHead | undefined {
    const found = this.scanner.push(chunk);
    return found && { request: parseRequestHead(found.head), rest: found.rest };
  }
}

/**
 * Reads the bounded body of a refused upgrade, so the error can show what the server said. It stops
 * at `limit` bytes (no need to read more), at the end of a Content-Length or chunked body, or at EOF.
 * A malformed chunked body ends the collection quietly: the status is the error, the body a courtesy.
 */
export class ErrorBodyCollector {
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
