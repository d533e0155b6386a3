/**
 * The checks every numeric option goes through, shared by the options of all builds (options.ts)
 * and the Node-only ones (node-options.ts).
 */

/** `value`, or `fallback` when not given; a TypeError naming the option when not a number >= `min`. */
export function number(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw new TypeError(`Option ${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** As {@link number}, and finite. */
export function finite(name: string, value: number | undefined, fallback: number, min = 0): number {
  const n = number(name, value, fallback, min);
  if (!Number.isFinite(n)) throw new TypeError(`Option ${name} must be finite, got ${n}`);
  return n;
}
