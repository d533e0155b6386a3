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
