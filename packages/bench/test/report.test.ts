// The report and the chart, drawn from a small hand-made result set.
import { describe, expect, it } from "vitest";
import { renderChart } from "../src/chart.js";
import {
  formatNumber,
  HAND_WRITTEN_HEADING,
  keepHandWritten,
  markdownTable,
  renderMarkdown,
} from "../src/report.js";
import type { Results } from "../src/results.js";
import { rows } from "../src/results.js";

const results: Results = {
  command: "node --import tsx src/main.ts --quick",
  date: "2026-01-01T00:00:00.000Z",
  quick: true,
  repetitions: 2,
  durationSeconds: 12,
  machine: { cpu: "2 x test" },
  baseline: "ws",
  adapters: ["tideway", "ws", "undici"],
  unavailable: { tideway: "not built" },
  scenarios: [
    {
      id: "recv-binary-16",
      title: "receive 16 B binary",
      kind: "recv",
      size: 16,
      count: 10,
      payload: "binary",
      metrics: [{ key: "rate", unit: "msg/s", better: "higher" }],
      runs: {
        tideway: [],
        ws: [
          { rep: 0, metrics: { rate: 2_000_000 } },
          { rep: 1, metrics: { rate: 1_000_000 } },
        ],
        undici: [
          { rep: 0, metrics: { rate: 500_000 } },
          { rep: 1, error: "timed out after 5 ms: received 3 of 10 messages" },
        ],
      },
    },
  ],
};

describe("rows", () => {
  it("pairs ratios by repetition and counts failures", () => {
    const [row] = rows(results);
    expect(row?.values.ws).toEqual({ median: 1_500_000, min: 1_000_000, max: 2_000_000, n: 2 });
    expect(row?.ratios.undici).toEqual({ median: 0.25, min: 0.25, max: 0.25, n: 1 });
    expect(row?.errors.undici).toBe(1);
  });
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(results, "benchmarks.svg");
  it("states the command, embeds the chart, and shows not-available, values and ratios", () => {
    expect(md).toContain("Produced by `node --import tsx src/main.ts --quick`");
    expect(md).toContain("![Ratio to ws per scenario](benchmarks.svg)");
    expect(md).toContain("**tideway: not available** (not built)");
    const cells = (line: string | undefined) => line?.split("|").map((c) => c.trim());
    const [values, ratios] = md.split("\n").filter((l) => l.startsWith("| receive 16 B binary"));
    const metric = "msg/s (higher is better)";
    expect(cells(values)).toEqual([
      "",
      "receive 16 B binary",
      metric,
      "not available",
      "1.50 M (1.00 M-2.00 M)",
      "500 k, 1 failed",
      "",
    ]);
    expect(cells(ratios)).toEqual([
      "",
      "receive 16 B binary",
      metric,
      "not available",
      "1.00x (1.00x-1.00x)",
      "0.25x, 1 failed",
      "",
    ]);
    expect(md).toContain(
      "- receive 16 B binary, undici, repetition 2: timed out after 5 ms: received 3 of 10 messages",
    );
  });
});

describe("renderMarkdown with a scenario an adapter cannot run", () => {
  const withNa: Results = {
    ...results,
    unavailable: {},
    scenarios: [
      {
        id: "send-deflate-json-1200",
        title: "send 1200 B JSON, permessage-deflate",
        kind: "send-deflate",
        size: 1200,
        count: 10,
        metrics: [{ key: "rate", unit: "msg/s", better: "higher" }],
        notApplicable: { undici: "does not compress" },
        runs: {
          tideway: [{ rep: 0, metrics: { rate: 8000 } }],
          ws: [{ rep: 0, metrics: { rate: 4000 } }],
          undici: [],
        },
      },
    ],
  };
  it('shows "n/a" in both tables and lists the reason', () => {
    const md = renderMarkdown(withNa, "benchmarks.svg");
    const lines = md.split("\n").filter((l) => l.startsWith("| send 1200 B JSON"));
    expect(
      lines.map((l) =>
        l
          .split("|")
          .map((c) => c.trim())
          .slice(3, 6),
      ),
    ).toEqual([
      ["8000", "4000", "n/a"],
      ["2.00x", "1.00x", "n/a"],
    ]);
    expect(md).toContain("- send 1200 B JSON, permessage-deflate, undici: does not compress.");
    expect(md).toContain("None: every count and every byte was verified.");
  });
});

describe("markdownTable", () => {
  it("pads every column to its widest cell", () => {
    expect(markdownTable(["a", "bb"], [["long cell", "x"]])).toBe(
      ["| a         | bb  |", "| --------- | --- |", "| long cell | x   |"].join("\n"),
    );
  });
});

describe("formatNumber", () => {
  it("keeps three significant digits", () => {
    expect(formatNumber(1_234_567)).toBe("1.23 M");
    expect(formatNumber(98_700)).toBe("98.7 k");
    expect(formatNumber(1213.4)).toBe("1213");
    expect(formatNumber(42.42)).toBe("42.4");
  });
});

describe("renderChart", () => {
  it("draws one bar per non-baseline available adapter and row, labelled with the ratio", () => {
    const svg = renderChart(results);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain("<title>");
    expect(svg).toContain(">0.25x</text>");
    expect(svg).not.toContain(">tideway</text>");
    expect(svg.match(/<rect /g)?.length).toBe(1 + 1 + 1); // background, legend, one bar
  });
});

describe("keepHandWritten", () => {
  const generated = "# Benchmarks\n\n## Failed measurements\n\nNone.\n";
  it("keeps the hand-written sections of the previous file after the new tables", () => {
    const previous = `# Benchmarks\n\nold tables\n\n${HAND_WRITTEN_HEADING}\n\n- a figure\n\n## More\n`;
    expect(keepHandWritten(generated, previous)).toBe(
      `# Benchmarks\n\n## Failed measurements\n\nNone.\n\n${HAND_WRITTEN_HEADING}\n\n- a figure\n\n## More\n`,
    );
  });
  it("writes the generated file alone when there was none, or nothing hand-written in it", () => {
    expect(keepHandWritten(generated, undefined)).toBe(generated);
    expect(keepHandWritten(generated, "# Benchmarks\n\nold tables\n")).toBe(generated);
  });
});
