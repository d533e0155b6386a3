// Reports that cannot go stale: compares the counts in the committed docs/conformance.md and
// docs/interop.md with the ones just regenerated (by the test command, into a git-ignored folder).
// Timings and dates may differ; a count that differs fails, with the fix: run `pnpm conformance` /
// `pnpm interop` and commit docs/.
//   node .ci/check-reports.mjs <folder with the regenerated conformance.md and interop.md>
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The rows of the markdown table that follows `heading`, as arrays of trimmed cells. */
function tableAfter(markdown, heading) {
  const lines = markdown.split("\n");
  let at = lines.findIndex((line) => line.trim() === heading);
  if (at < 0) return undefined;
  while (at < lines.length && !lines[at].startsWith("|")) at++;
  const rows = [];
  for (; at < lines.length && lines[at].startsWith("|"); at++) {
    const cells = lines[at]
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (!cells.every((cell) => /^:?-+:?$/.test(cell))) rows.push(cells);
  }
  return rows;
}

/** The counts a conformance report states: results per agent and per section (no timings). */
export function conformanceCounts(markdown) {
  const agents = tableAfter(markdown, "## Agents")?.map((row) => row.slice(0, 3).join(" | "));
  const sections = tableAfter(markdown, "## Summary per section")?.map((row) => row.join(" | "));
  return [...(agents ?? ["(no Agents table)"]), ...(sections ?? ["(no Summary per section table)"])];
}

/** The counts an interop report states: the pass/fail matrix and the number of failed checks. */
export function interopCounts(markdown) {
  const matrix = tableAfter(markdown, "# Interoperability matrix")?.map((row) => row.join(" | "));
  const failed = /Failed checks: (\d+)/.exec(markdown)?.[0] ?? "(no failed-checks line)";
  return [...(matrix ?? ["(no matrix table)"]), failed];
}

/** The lines of `committed` and `regenerated` that differ, as "- committed" / "+ regenerated". */
export function countDifferences(committed, regenerated) {
  const gone = committed.filter((line) => !regenerated.includes(line)).map((line) => `- ${line}`);
  const added = regenerated.filter((line) => !committed.includes(line)).map((line) => `+ ${line}`);
  return [...gone, ...added];
}

const REPORTS = [
  ["conformance.md", conformanceCounts, "pnpm conformance"],
  ["interop.md", interopCounts, "pnpm interop"],
];

/** Checks each report found in `regeneratedDir` against docs/; returns the problems found. */
export function checkReports(docsDir, regeneratedDir) {
  const problems = [];
  for (const [file, counts, command] of REPORTS) {
    const fresh = join(regeneratedDir, file);
    if (!existsSync(fresh)) {
      problems.push(`${file}: not regenerated (its step did not run or failed)`);
      continue;
    }
    const differences = countDifferences(
      counts(readFileSync(join(docsDir, file), "utf8")),
      counts(readFileSync(fresh, "utf8")),
    );
    if (differences.length > 0) {
      problems.push(
        `docs/${file} does not match this run: run \`${command}\` and commit docs/\n  ${differences.join("\n  ")}`,
      );
    }
  }
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const regenerated = process.argv[2];
  if (regenerated === undefined) {
    console.error("usage: node .ci/check-reports.mjs <folder with the regenerated reports>");
    process.exit(2);
  }
  const problems = checkReports(join(process.cwd(), "docs"), regenerated);
  for (const problem of problems) console.log(problem);
  if (problems.length === 0) console.log("docs/conformance.md and docs/interop.md match this run's counts");
  process.exit(problems.length === 0 ? 0 : 1);
}
