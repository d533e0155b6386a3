import { ErrorCodes, HandshakeError } from "./errors.js";

/**
 * HTTP header grammar used by the upgrade handshake: tokens, token lists (`Connection`, `Upgrade`),
 * and the `Sec-WebSocket-Extensions` list. Pure functions over strings.
 */

/** tchar of RFC 7230 section 3.2.6, as a lookup table over ASCII: 1 for a tchar. */
function tokenCharTable(): Uint8Array {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    table[c.charCodeAt(0)] = 1;
  }
  return table;
}

const TCHAR = /* @__PURE__ */ tokenCharTable();

/** True for a byte (or char code) allowed in a token. */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** `token = 1*tchar` (RFC 7230 section 3.2.6). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * True when `code` may appear in a field value: VCHAR, obs-text, SP and HTAB (RFC 7230 section 3.2).
 * Other control characters are refused too, not only CR, LF and NUL, as Node's HTTP stack does:
 * they have no legitimate use in a header and some intermediaries treat them as separators.
 */
export function isFieldValueChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/** Throws a TypeError unless `name` is a valid header name (a token). */
export function validateHeaderName(name: string): void {
  if (!isToken(name)) throw new TypeError(`Invalid header name: ${JSON.stringify(name)}`);
}

/**
 * Throws a TypeError unless `value` can be sent as a header value: no CR, LF, NUL or other control
 * character (header injection), and no character above U+00FF, since the head is written as Latin-1
 * (like Node). Encode anything else (percent-encoding, RFC 8187) before putting it in a header.
 */
export function validateHeaderValue(value: string): void {
  for (let i = 0; i < value.length; i++) {
    if (!isFieldValueChar(value.charCodeAt(i))) {
      throw new TypeError(`Invalid character in header value at index ${i}: ${JSON.stringify(value)}`);
    }
  }
}

const isOws = (code: number): boolean => code === 0x20 || code === 0x09;

/**
 * Parses a comma-separated list of tokens such as `Connection: keep-alive, Upgrade` into trimmed,
 * lower-cased elements; empty elements are ignored, as RFC 7230 section 7 requires of recipients.
 * Compare tokens, never whole values: `Connection: keep-alive, Upgrade` is a valid upgrade.
 */
export function parseTokenList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",")) {
    const item = part.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase();
    if (item !== "") out.push(item);
  }
  return out;
}

/** One element of `Sec-WebSocket-Extensions`: a name and its parameters, `true` when valueless. */
export interface ExtensionOffer {
  name: string;
  params: Array<[string, string | true]>;
}

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 section 9.1):
 *
 *     extension-list  = 1#extension
 *     extension       = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * "When using the quoted-string syntax variant, the value after quoted-string unescaping MUST conform
 * to the 'token' ABNF." Empty list elements are ignored; an empty value yields `[]`. Names are kept as
 * sent. Throws HandshakeError(InvalidExtension) on any syntax error.
 */
export function parseExtensionList(value: string): ExtensionOffer[] {
  const fail = (why: string): never => {
    throw new HandshakeError(
      ErrorCodes.InvalidExtension,
      `Invalid Sec-WebSocket-Extensions header (${why}): ${JSON.stringify(value)}`,
    );
  };
  let pos = 0;
  const skipOws = () => {
    while (pos < value.length && isOws(value.charCodeAt(pos))) pos++;
  };
  const token = (what: string): string => {
    const start = pos;
    while (pos < value.length && isTokenChar(value.charCodeAt(pos))) pos++;
    if (pos === start) fail(`expected ${what} at ${start}`);
    return value.slice(start, pos);
  };
  const quoted = (): string => {
    pos++; // opening DQUOTE
    let text = "";
    for (;;) {
      if (pos >= value.length) fail("unterminated quoted-string");
      const c = value[pos++]!;
      if (c === '"') break;
      if (c === "\\") {
        if (pos >= value.length) fail("unterminated quoted-string");
        text += value[pos++]!;
      } else text += c;
    }
    if (!isToken(text)) fail("quoted parameter value is not a token");
    return text;
  };

  const out: ExtensionOffer[] = [];
  for (;;) {
    skipOws();
    if (pos >= value.length) break;
    if (value[pos] === ",") {
      pos++; // empty element
      continue;
    }
    const name = token("extension name");
    const params: Array<[string, string | true]> = [];
    skipOws();
    while (value[pos] === ";") {
      pos++;
      skipOws();
      const param = token("parameter name");
      skipOws();
      let paramValue: string | true = true;
      if (value[pos] === "=") {
        pos++;
        skipOws();
        paramValue = value[pos] === '"' ? quoted() : token("parameter value");
        skipOws();
      }
      params.push([param, paramValue]);
    }
    out.push({ name, params });
    if (pos >= value.length) break;
    if (value[pos] !== ",") fail(`unexpected character at ${pos}`);
    pos++;
  }
  return out;
}

/**
 * Formats extensions for `Sec-WebSocket-Extensions`: `name; param=value; flag, other`. Throws a
 * TypeError when a name, parameter or value is not a token (RFC 6455 section 9.1 allows nothing else,
 * so there is never a need for quoting).
 */
export function formatExtensionList(list: ReadonlyArray<Readonly<ExtensionOffer>>): string {
  return list
    .map(({ name, params }) => {
      if (!isToken(name)) throw new TypeError(`Invalid extension name: ${JSON.stringify(name)}`);
      let text = name;
      for (const [param, paramValue] of params) {
        if (!isToken(param)) throw new TypeError(`Invalid extension parameter: ${JSON.stringify(param)}`);
        if (paramValue === true) text += `; ${param}`;
        else if (isToken(paramValue)) text += `; ${param}=${paramValue}`;
        else throw new TypeError(`Invalid extension parameter value: ${JSON.stringify(paramValue)}`);
      }
      return text;
    })
    .join(", ");
}
