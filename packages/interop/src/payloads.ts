/**
 * Echo payloads of exact byte sizes whose content catches corruption, truncation and reordering:
 * text mixes 1- to 4-byte UTF-8 characters with a running counter; binary is a seeded xorshift stream.
 */

const encoder = new TextEncoder();

/** A string whose UTF-8 encoding is exactly `bytes` long. */
export function textOfBytes(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; ; i++) {
    // "é" 2 bytes, "€" 3, "😀" 4: a decoder that splits a character at a frame boundary shows here.
    const chunk = `${i.toString(36)}é€😀 `;
    const chunkBytes = i.toString(36).length + 10;
    if (size + chunkBytes > bytes) break;
    parts.push(chunk);
    size += chunkBytes;
  }
  parts.push(".".repeat(bytes - size));
  return parts.join("");
}

/** `bytes` pseudo-random bytes, the same for the same seed. */
export function binaryOfBytes(bytes: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Undefined when equal; else what differs, in bytes: lengths and the first differing offset. */
export function describeMismatch(
  expected: Uint8Array | string,
  actual: Uint8Array | string,
): string | undefined {
  if (typeof expected === "string" && typeof actual === "string" && expected === actual) return undefined;
  const a = typeof expected === "string" ? encoder.encode(expected) : expected;
  const b = typeof actual === "string" ? encoder.encode(actual) : actual;
  const common = Math.min(a.length, b.length);
  let offset = 0;
  while (offset < common && a[offset] === b[offset]) offset++;
  if (offset === common && a.length === b.length) return undefined;
  const hex = (bytes: Uint8Array) =>
    Array.from(bytes.subarray(offset, offset + 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
  return offset === common
    ? `sent ${a.length} B, got ${b.length} B (identical up to the shorter length)`
    : `sent ${a.length} B, got ${b.length} B; first difference at byte ${offset}: sent [${hex(a)}], got [${hex(b)}]`;
}

/**
 * A JSON document (an exchange-feed-like array of trades) whose UTF-8 encoding is exactly `bytes`
 * long (padded with spaces before the closing bracket), different for each `seed`: what compressed
 * WebSocket traffic mostly carries. Under 2 bytes there is no room for `[]`; it returns spaces.
 */
export function jsonOfBytes(bytes: number, seed = 0): string {
  if (bytes < 2) return " ".repeat(bytes);
  const rows: string[] = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const row = JSON.stringify({
      id: seed * 100_000 + i,
      symbol: ["BTC-USD", "ETH-USD", "SOL-USD"][(seed + i) % 3],
      price: (64_000 + ((seed * 7 + i * 13) % 1000) / 8).toFixed(2),
      size: ((seed + i * 5) % 97) / 10,
      side: (seed + i) % 2 === 0 ? "buy" : "sell",
      ts: 1_732_590_000_000 + seed * 1_000 + i * 17,
    });
    const add = row.length + (rows.length > 0 ? 1 : 0);
    if (size + add > bytes) break;
    rows.push(row);
    size += add;
  }
  return `[${rows.join(",")}${" ".repeat(bytes - size)}]`;
}
