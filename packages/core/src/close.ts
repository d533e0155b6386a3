/**
 * Close frame bodies (RFC 6455 section 5.5.1): empty, or a 2-byte big-endian status code followed by
 * a UTF-8 reason.
 */
import { CloseCode, MAX_CLOSE_REASON_BYTES } from "./constants.js";
import { ErrorCodes, ProtocolError } from "./errors.js";

/**
 * True for codes that may appear in a close frame: 1000-1003 and 1007-1014 (RFC 6455 section 7.4.1 and
 * the IANA registry), and 3000-4999 (registered libraries and private use, section 7.4.2). 1004 is
 * reserved; 1005, 1006 and 1015 "MUST NOT be set as a status code in a Close control frame"; 0-999 are
 * unused, 1016-2999 reserved for future RFCs, 5000 and up undefined.
 */
export function isValidWireCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 1000 && code <= 1014) {
    // 1005 NoStatusReceived and 1006 Abnormal as numbers: a bundle that reads CloseCode keeps its whole table.
    return code !== 1004 && code !== 1005 && code !== 1006;
  }
  return code >= 3000 && code <= 4999;
}

/**
 * The body of a close frame to send. No code gives an empty body (then the reason must be empty too:
 * a reason needs a code before it). Throws RangeError on a code that may not be sent or a reason
 * longer than 123 bytes once encoded (the control frame limit, 125, minus the code).
 */
export function encodeCloseBody(
  code: number | undefined,
  reason: string,
  encode: (text: string) => Uint8Array,
): Uint8Array {
  if (code === undefined) {
    if (reason !== "") throw new RangeError("A close reason needs a close code");
    return new Uint8Array(0);
  }
  if (!isValidWireCloseCode(code)) throw new RangeError(`Invalid close code: ${code}`);
  const encoded = encode(reason);
  if (encoded.length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `Close reason too long: ${encoded.length} bytes (at most ${MAX_CLOSE_REASON_BYTES})`,
    );
  }
  const body = new Uint8Array(2 + encoded.length);
  body[0] = code >>> 8;
  body[1] = code & 0xff;
  body.set(encoded, 2);
  return body;
}

/**
 * The reason as a close frame carries it: cut after the last whole code point that fits the 123 bytes
 * of a close body (a surrogate pair is never split), with any lone surrogate as U+FFFD, the character
 * the UTF-8 encoder sends for it. What a peer decodes from the frame is exactly this string.
 */
export function closeReasonToSend(reason: string): string {
  let bytes = 0;
  let lone = false;
  let end = 0;
  while (end < reason.length) {
    const c = reason.charCodeAt(end);
    let units = 1;
    let size = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = reason.charCodeAt(end + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) [units, size] = [2, 4];
      else lone = true; // sent as U+FFFD: 3 bytes
    }
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    bytes += size;
    end += units;
  }
  const sent = end === reason.length ? reason : reason.slice(0, end);
  return lone ? sent.replace(LONE_SURROGATE, "\ufffd") : sent;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Parses a received close body. An empty body means "no status code": code 1005, reason "". Throws
 * ProtocolError: InvalidClosePayload for a 1-byte body, InvalidCloseCode for a code that may not be
 * sent, InvalidUtf8 (close 1007) for a reason that is not UTF-8.
 */
export function parseCloseBody(
  payload: Uint8Array,
  isValid: (bytes: Uint8Array) => boolean,
  decode: (bytes: Uint8Array) => string,
): { code: number; reason: string } {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: "" };
  if (payload.length === 1) {
    throw new ProtocolError(ErrorCodes.InvalidClosePayload, "Invalid close frame: a 1-byte body");
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidWireCloseCode(code)) {
    throw new ProtocolError(ErrorCodes.InvalidCloseCode, `Invalid close code: ${code}`);
  }
  const reasonBytes = payload.subarray(2);
  if (!isValid(reasonBytes)) {
    throw new ProtocolError(ErrorCodes.InvalidUtf8, "Invalid UTF-8 in the close reason");
  }
  return { code, reason: decode(reasonBytes) };
}
