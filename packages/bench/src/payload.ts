// The payload pattern shared by the bench server and the clients. Message number `seq` is filled
// with one letter, 'a' + seq % 4: a dropped, duplicated or reordered message changes the letter
// the receiver expects, a masking bug changes the bytes, and the text is valid UTF-8 (ASCII).

/** How many distinct payloads a stream cycles through. */
export const PATTERN_PERIOD = 4;

/** The byte that fills message number `seq`. */
export function patternByte(seq: number): number {
  return 0x61 + (seq % PATTERN_PERIOD);
}

/** The PATTERN_PERIOD binary payloads of `size` bytes, in sending order. */
export function binaryPayloads(size: number): Uint8Array[] {
  return Array.from({ length: PATTERN_PERIOD }, (_, seq) => new Uint8Array(size).fill(patternByte(seq)));
}

/** How many distinct JSON documents a compressed send scenario cycles through. */
export const JSON_SEND_CYCLE = 64;

/** The first bytes of JSON message number `seq`: what a receiver checks to see the order. */
export function jsonPrefix(seq: number): string {
  return `{"seq":"${String(seq).padStart(10, "0")}",`;
}

/**
 * JSON message number `seq`, exactly `size` bytes of ASCII (so as many UTF-16 units): a feed of
 * trades, the traffic permessage-deflate is used for, different for every `seq` (deflate finds
 * the structure, not a copy of an earlier message). Padded with spaces before the final `]}`.
 * Needs `size` >= 32.
 */
export function jsonMessage(size: number, seq: number): string {
  const head = `${jsonPrefix(seq)}"trades":[`;
  const tail = "]}";
  if (size < head.length + tail.length)
    throw new Error(`a JSON message needs at least 32 bytes, not ${size}`);
  let body = "";
  for (let i = 0; ; i++) {
    const row =
      `${i === 0 ? "" : ","}{"id":${seq * 1000 + i},"sym":"${["BTCUSDT", "ETHUSDT", "SOLUSDT"][(seq + i) % 3]}",` +
      `"px":"${(64_000 + ((seq * 7 + i * 13) % 1000) / 8).toFixed(2)}","qty":${((seq + i * 5) % 97) / 10},` +
      `"side":"${(seq + i) % 2 === 0 ? "buy" : "sell"}","ts":${1_732_590_000_000 + seq * 1_000 + i * 17}}`;
    if (head.length + body.length + row.length + tail.length > size) break;
    body += row;
  }
  return head + body + " ".repeat(size - head.length - body.length - tail.length) + tail;
}

/** The sequences a mixed UTF-8 payload cycles through: 1, 2, 3 and 4 bytes ("a", "é", "€", "😀"). */
const UTF8_MIX = [[0x61], [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80]] as const;

/**
 * Text message number `seq` of mixed UTF-8, exactly `size` bytes: the pattern letter first (so the
 * receiver checks order by the first code unit), then 1- to 4-byte sequences in turn, padded with
 * ASCII where the next sequence would not fit. Every `seq` has the same decoded length.
 */
export function utf8Payload(size: number, seq: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes[0] = patternByte(seq);
  let at = 1;
  for (let i = 0; at < size; i++) {
    const sequence = UTF8_MIX[i % UTF8_MIX.length]!;
    if (at + sequence.length > size) {
      bytes.fill(0x20, at);
      break;
    }
    bytes.set(sequence, at);
    at += sequence.length;
  }
  return bytes;
}

/** The length in UTF-16 code units (a JS string's length) of every utf8Payload(size, seq). */
export function utf8PayloadLength(size: number): number {
  return new TextDecoder().decode(utf8Payload(size, 0)).length;
}
