/**
 * One checker per kind of option value, shared by the options of all builds (options.ts) and the
 * Node-only ones (node-options.ts). Each TypeError names the option, what it must be and, where a
 * value can be shown, what was given.
 */

/** A TypeError: "Option `name` must be `expected`", then ", got `given`" when one is given (not undefined). */
export function invalid(name: string, expected: string, given?: unknown): TypeError {
  return new TypeError(
    `Option ${name} must be ${expected}${given === undefined ? "" : `, got ${String(given)}`}`,
  );
}

/**
 * `value`, or `fallback` when not given; a TypeError naming the option when not a number >= `min`,
 * or when Infinity unless `infinite`.
 */
export function number(
  name: string,
  value: number | undefined,
  fallback: number,
  min = 0,
  infinite: boolean | 0 | 1 = true,
): number {
  if (value === undefined) return fallback;
  // Not `value < min`, which NaN passes.
  if (typeof value !== "number" || !(value >= min) || (!infinite && value === Infinity)) {
    throw invalid(name, `a ${infinite ? "" : "finite "}number >= ${min}`, value);
  }
  return value;
}

/** As {@link number}, and finite. */
export function finite(name: string, value: number | undefined, fallback: number, min = 0): number {
  return number(name, value, fallback, min, false);
}

/** `value` when not given or one of `allowed`; otherwise a TypeError listing them: `one of ["a","b"]`. */
export function oneOf<T>(name: string, value: T, allowed: readonly NoInfer<Exclude<T, undefined>>[]): T {
  if (value === undefined || allowed.includes(value as Exclude<T, undefined>)) return value;
  throw invalid(name, `one of ${JSON.stringify(allowed)}`, value);
}

/**
 * `value` when not given or a function; otherwise a TypeError saying it must be `expected`. The value
 * first, as options.ts's table calls each check: `check(value, name)`.
 */
export function callable<T>(value: T, name: string, expected = "a function"): T {
  if (value !== undefined && typeof value !== "function") throw invalid(name, expected);
  return value;
}

/** Throws a TypeError naming every key of `o` not in `known` (`undefined` values count too). */
export function checkKeys(where: string, o: object, known: readonly string[]): void {
  const unknown = Object.keys(o)
    .filter((key) => !known.includes(key))
    .map((key) => (where === "options" ? key : `${where}.${key}`));
  if (unknown.length > 0)
    throw new TypeError(`Unknown option${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`);
}
