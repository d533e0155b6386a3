// docs/benchmarks.svg: one horizontal bar per adapter and metric, showing the median ratio to the
// baseline on a log scale centred on 1 (the baseline), with a whisker for the min-max ratio.
import type { Results, Row } from "./results.js";
import { rows } from "./results.js";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
const LABEL_WIDTH = 380;
const PLOT_WIDTH = 520;
const BAR = 12;
const GAP = 10;

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
}

function rowLabel(row: Row): string {
  const arrow = row.better === "higher" ? "higher is better" : "lower is better";
  return `${row.title}${row.metric === "rate" || row.metric === "throughput" ? "" : ` ${row.metric}`} (${arrow})`;
}

/** Renders the chart; adapters other than the baseline get one bar per row. */
export function renderChart(results: Results): string {
  const table = rows(results);
  const adapters = results.adapters.filter((a) => a !== results.baseline && !(a in results.unavailable));
  const ratios = table.flatMap((row) =>
    adapters.flatMap((a) => (row.ratios[a] ? [row.ratios[a].min, row.ratios[a].max] : [])),
  );
  // Symmetric log range, at least 1/4..4, at most 1/64..64.
  const extent = Math.min(
    6,
    Math.max(2, Math.ceil(Math.max(0, ...ratios.map((r) => Math.abs(Math.log2(r)))))),
  );
  const x = (ratio: number) => {
    const clamped = Math.max(-extent, Math.min(extent, Math.log2(ratio)));
    return Math.round((LABEL_WIDTH + ((clamped + extent) / (2 * extent)) * PLOT_WIDTH) * 10) / 10;
  };
  const groupHeight = Math.max(1, adapters.length) * BAR + GAP;
  const top = 50;
  const height = top + table.length * groupHeight + 40;
  const width = LABEL_WIDTH + PLOT_WIDTH + 70;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<title>Ratio to ${escapeXml(results.baseline)} per scenario</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">Ratio to ${escapeXml(results.baseline)} (median of per-repetition ratios; whiskers: min-max; log scale)</text>`,
  ];
  adapters.forEach((adapter, i) => {
    const lx = LABEL_WIDTH + i * 120;
    parts.push(`<rect x="${lx}" y="28" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${lx + 14}" y="37">${escapeXml(adapter)}</text>`);
  });
  for (let step = -extent; step <= extent; step++) {
    const gx = x(2 ** step);
    const label = step >= 0 ? `${2 ** step}x` : `1/${2 ** -step}x`;
    parts.push(
      `<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 30}" stroke="${step === 0 ? "#000" : "#ddd"}"/>`,
      `<text x="${gx}" y="${height - 16}" text-anchor="middle">${label}</text>`,
    );
  }
  table.forEach((row, r) => {
    const y0 = top + r * groupHeight;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y0 + (groupHeight - GAP) / 2 + 4}" text-anchor="end">${escapeXml(rowLabel(row))}</text>`,
    );
    adapters.forEach((adapter, i) => {
      const ratio = row.ratios[adapter];
      const y = y0 + i * BAR;
      if (ratio === undefined) {
        parts.push(
          `<text x="${x(1) + 4}" y="${y + BAR - 2}" fill="#888">${escapeXml(adapter)}: no value</text>`,
        );
        return;
      }
      const a = x(1);
      const b = x(ratio.median);
      const color = COLORS[i % COLORS.length];
      parts.push(
        `<rect x="${Math.min(a, b)}" y="${y + 1}" width="${Math.max(1, Math.abs(b - a)).toFixed(1)}" height="${BAR - 2}" fill="${color}"/>`,
        `<line x1="${x(ratio.min)}" y1="${y + BAR / 2}" x2="${x(ratio.max)}" y2="${y + BAR / 2}" stroke="#333"/>`,
        `<text x="${Math.max(a, b, x(ratio.max)) + 4}" y="${y + BAR - 2}">${ratio.median.toFixed(2)}x</text>`,
      );
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
