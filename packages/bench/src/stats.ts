// Order statistics over repetitions. Small and exact: no interpolation tricks beyond the median.

/** The q-quantile (0..1) of ascending-sorted values, interpolating between neighbours. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Median with min and max; undefined when there is no value to summarise. */
export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    n: sorted.length,
  };
}

/**
 * Per-repetition ratios value / baseline, pairing values measured in the same repetition only
 * (noise between runs is about +-20%, so only ratios within one repetition mean much).
 */
export function pairedRatios(
  values: ReadonlyMap<number, number>,
  baseline: ReadonlyMap<number, number>,
): number[] {
  const ratios: number[] = [];
  for (const [rep, value] of values) {
    const base = baseline.get(rep);
    if (base !== undefined && base > 0) ratios.push(value / base);
  }
  return ratios;
}

/** The adapters' order in repetition `rep`: A B C D, then B C D A, ... */
export function rotation<T>(items: readonly T[], rep: number): T[] {
  const shift = items.length === 0 ? 0 : rep % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
