/**
 * Binary data on a text line: base64 or hex, both ways. Decoding validates strictly (Node's
 * `Buffer.from` silently skips invalid characters), so a typo is reported instead of sent.
 */
import { Buffer } from "node:buffer";

/** How binary data is written on a line. */
export type BinaryEncoding = "base64" | "hex";

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** Encodes bytes for one line of output. */
export function encodeBinary(data: Uint8Array, encoding: BinaryEncoding): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(encoding);
}

/** Decodes one line of input (surrounding spaces ignored); throws a TypeError saying what is wrong. */
export function decodeBinary(text: string, encoding: BinaryEncoding): Uint8Array {
  const trimmed = text.trim();
  if (encoding === "hex") {
    const compact = trimmed.replace(/\s+/g, "");
    if (!HEX.test(compact)) throw new TypeError(`not hex (pairs of 0-9a-f): ${JSON.stringify(text)}`);
    return new Uint8Array(Buffer.from(compact, "hex"));
  }
  const standard = trimmed.replace(/-/g, "+").replace(/_/g, "/"); // base64url too
  if (!BASE64.test(standard)) throw new TypeError(`not base64: ${JSON.stringify(text)}`);
  return new Uint8Array(Buffer.from(standard, "base64"));
}
