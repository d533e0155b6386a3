// The shape of docs/benchmarks.json, and the summaries the report and the chart are drawn from.
import type { Scenario } from "./scenarios.js";
import { pairedRatios, type Summary, summarize } from "./stats.js";

/** One measurement: metrics, or the error that replaced them. */
export interface Run {
  readonly rep: number;
  /** Wall time of the whole worker process (start-up included), for tuning budgets. */
  readonly seconds?: number;
  readonly metrics?: Record<string, number>;
  readonly error?: string;
}

export interface Results {
  readonly command: string;
  readonly date: string;
  readonly quick: boolean;
  readonly repetitions: number;
  readonly durationSeconds: number;
  readonly machine: Record<string, string | number>;
  readonly baseline: string;
  readonly adapters: readonly string[];
  /** Adapters that could not be loaded at all, with the reason. */
  readonly unavailable: Readonly<Record<string, string>>;
  readonly scenarios: readonly (Scenario & { readonly runs: Readonly<Record<string, readonly Run[]>> })[];
}

/** One line of the report: one metric of one scenario, summarised per adapter. */
export interface Row {
  readonly scenario: string;
  readonly title: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly values: Readonly<Record<string, Summary | undefined>>;
  /** Medians of the per-repetition ratios value / baseline. */
  readonly ratios: Readonly<Record<string, Summary | undefined>>;
  /** How many measurements failed, per adapter. */
  readonly errors: Readonly<Record<string, number>>;
  /** Adapters that cannot run the scenario, with the reason (from Scenario.notApplicable). */
  readonly notApplicable: Readonly<Record<string, string>>;
}

export function rows(results: Results): Row[] {
  const out: Row[] = [];
  for (const scenario of results.scenarios) {
    for (const metric of scenario.metrics) {
      const byRep = (adapter: string) =>
        new Map(
          (scenario.runs[adapter] ?? []).flatMap((run) => {
            const value = run.metrics?.[metric.key];
            return value === undefined ? [] : [[run.rep, value] as const];
          }),
        );
      const baseline = byRep(results.baseline);
      const values: Record<string, Summary | undefined> = {};
      const ratios: Record<string, Summary | undefined> = {};
      const errors: Record<string, number> = {};
      for (const adapter of results.adapters) {
        const mine = byRep(adapter);
        values[adapter] = summarize([...mine.values()]);
        ratios[adapter] = summarize(pairedRatios(mine, baseline));
        errors[adapter] = (scenario.runs[adapter] ?? []).filter((run) => run.error !== undefined).length;
      }
      out.push({
        scenario: scenario.id,
        title: scenario.title,
        metric: metric.key,
        unit: metric.unit,
        better: metric.better,
        values,
        ratios,
        errors,
        notApplicable: scenario.notApplicable ?? {},
      });
    }
  }
  return out;
}
