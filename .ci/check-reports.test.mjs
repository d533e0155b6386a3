// The report check fails when a committed report's counts differ from a regenerated one, and only then.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkReports } from "./check-reports.mjs";

const docs = join(dirname(fileURLToPath(import.meta.url)), "..", "docs");
const scratch = mkdtempSync(join(tmpdir(), "tideway-reports-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A "regenerated" folder holding the committed reports, each passed through `edit`. */
function regenerated(name, edit = (text) => text) {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const file of ["conformance.md", "interop.md"]) {
    writeFileSync(join(dir, file), edit(readFileSync(join(docs, file), "utf8"), file));
  }
  return dir;
}

describe("checkReports", () => {
  it("accepts reports whose counts match, even with other dates and timings", () => {
    const dir = regenerated("same", (text) =>
      text
        .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "2030-01-01T00:00:00.000Z")
        .replace(/\| [\d.]+ s \|/g, "| 99.9 s |"),
    );
    expect(checkReports(docs, dir)).toEqual([]);
  });

  it("fails on a conformance section count that changed, naming the report and the command", () => {
    const dir = regenerated("conformance", (text, file) =>
      file === "conformance.md"
        ? text.replace("| 2 Pings and pongs | 11 | 11 OK |", "| 2 Pings and pongs | 11 | 10 OK, 1 FAILED |")
        : text,
    );
    const problems = checkReports(docs, dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("docs/conformance.md does not match this run: run `pnpm conformance`");
    expect(problems[0]).toContain("+ 2 Pings and pongs | 11 | 10 OK, 1 FAILED");
  });

  it("fails on an interop matrix cell or failed-check count that changed", () => {
    const dir = regenerated("interop", (text, file) =>
      file === "interop.md"
        ? text.replace("Failed checks: 0", "Failed checks: 1").replace("pass 2/2", "fail 1/2")
        : text,
    );
    const [problem, ...rest] = checkReports(docs, dir);
    expect(rest).toEqual([]);
    expect(problem).toContain("docs/interop.md does not match this run: run `pnpm interop`");
    expect(problem).toContain("+ Failed checks: 1");
  });

  it("fails when a report was not regenerated", () => {
    const dir = join(scratch, "empty");
    mkdirSync(dir, { recursive: true });
    expect(checkReports(docs, dir)).toEqual([
      "conformance.md: not regenerated (its step did not run or failed)",
      "interop.md: not regenerated (its step did not run or failed)",
    ]);
  });
});
