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
