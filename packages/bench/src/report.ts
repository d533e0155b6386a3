// docs/benchmarks.md: the command, the machine, the method, the chart and two tables (absolute
// medians, and ratios to the baseline), then every failed measurement, then the hand-written
// sections that follow them in the previous file (kept, see keepHandWritten).
import type { Results } from "./results.js";
import { rows } from "./results.js";
import type { Summary } from "./stats.js";

/** Three significant digits (whole numbers from 100 up), with k / M for large values. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)} k`;
  if (abs >= 100) return String(Math.round(value));
  return value.toPrecision(3);
}

function cell(
  summary: Summary | undefined,
  format: (v: number) => string,
  errors: number,
  unavailable: boolean,
  notApplicable = false,
) {
  if (unavailable) return "not available";
  if (notApplicable) return "n/a";
  if (summary === undefined) return errors > 0 ? `error (${errors})` : "-";
  const range = summary.n > 1 ? ` (${format(summary.min)}-${format(summary.max)})` : "";
  return `${format(summary.median)}${range}${errors > 0 ? `, ${errors} failed` : ""}`;
}

/**
 * A table with padded columns, the layout Biome's Markdown formatter produces, so that the
 * generated docs/benchmarks.md passes `pnpm lint` as written.
 */
export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...body.map(line)].join("\n");
}

export function renderMarkdown(results: Results, chartFile: string): string {
  const table = rows(results);
  const adapters = results.adapters;
  const unavailable = (a: string) => a in results.unavailable;
  const metricName = (row: (typeof table)[number]) =>
    `${row.metric === "rate" || row.metric === "throughput" ? "" : `${row.metric}, `}${row.unit} ${row.better === "higher" ? "(higher is better)" : "(lower is better)"}`;
  const header = ["scenario", "metric", ...adapters];
  const absolute = markdownTable(
    header,
    table.map((row) => [
      row.title,
      metricName(row),
      ...adapters.map((a) =>
        cell(row.values[a], formatNumber, row.errors[a] ?? 0, unavailable(a), a in row.notApplicable),
      ),
    ]),
  );
  const relative = markdownTable(
    header,
    table.map((row) => [
      row.title,
      metricName(row),
      ...adapters.map((a) =>
        cell(
          row.ratios[a],
          (v) => `${v.toFixed(2)}x`,
          row.errors[a] ?? 0,
          unavailable(a),
          a in row.notApplicable,
        ),
      ),
    ]),
  );
  const failures = results.scenarios.flatMap((s) =>
    Object.entries(s.runs).flatMap(([adapter, runs]) =>
      runs
        .filter((r) => r.error !== undefined)
        .map((r) => `- ${s.title}, ${adapter}, repetition ${r.rep + 1}: ${r.error}`),
    ),
  );
  const notApplicable = results.scenarios.flatMap((s) =>
    Object.entries(s.notApplicable ?? {})
      .filter(([adapter]) => adapters.includes(adapter))
      .map(([adapter, why]) => `- ${s.title}, ${adapter}: ${why}.`),
  );
  const machine = Object.entries(results.machine)
    .map(([k, v]) => `${k}: ${v}`)
    .join("; ");
  return [
    `# Benchmarks${results.quick ? " (quick mode: small budgets, not for comparison)" : ""}`,
    "",
    `Produced by \`${results.command}\` on ${results.date} in ${Math.round(results.durationSeconds)} s.`,
    "",
    `Machine: ${machine}.`,
    "",
    "Method: one bench server in its own process (raw `node:net`, prebuilt frames, a sink that " +
      "verifies every byte it receives); each measurement in a fresh client process; the adapters' " +
      `order rotates every repetition (A B C D, B C D A, ...); ${results.repetitions} repetition(s). ` +
      "Values are medians with (min-max); ratios are value / " +
      `\`${results.baseline}\` measured in the same repetition, then the median (min-max) of those ratios. ` +
      "Tideway is measured from its built package (`dist/`, as published), the others as installed. " +
      "Each counted scenario first runs 15% of its count unmeasured (JIT warm-up) on a connection of its own. " +
      "Noise between runs is about +-20%: compare ratios within one run, not absolute values across runs. " +
      "MB = 10^6 bytes. See packages/bench/README.md for what each scenario does.",
    "",
    ...Object.entries(results.unavailable).map(([a, why]) => `**${a}: not available** (${why}).\n`),
    `![Ratio to ${results.baseline} per scenario](${chartFile})`,
    "",
    "## Medians (min-max)",
    "",
    absolute,
    "",
    `## Ratio to \`${results.baseline}\` (median of per-repetition ratios, min-max)`,
    "",
    relative,
    "",
    ...(notApplicable.length > 0 ? ["n/a (not measured):", "", ...notApplicable, ""] : []),
    "## Failed measurements",
    "",
    ...(failures.length > 0 ? failures : ["None: every count and every byte was verified."]),
    "",
  ].join("\n");
}

/**
 * The first hand-written section of docs/benchmarks.md: it and everything after it are not
 * generated, and survive a new run.
 */
export const HAND_WRITTEN_HEADING = "## Why the client's fast paths look the way they do";

/** `generated` followed by the hand-written sections of `previous` (the file being replaced), if any. */
export function keepHandWritten(generated: string, previous: string | undefined): string {
  const at = previous?.indexOf(`\n${HAND_WRITTEN_HEADING}\n`) ?? -1;
  if (previous === undefined || at < 0) return generated;
  return `${generated.trimEnd()}\n${previous.slice(at)}`;
}
