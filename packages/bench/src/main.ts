// `pnpm bench` (full suite, writes docs/benchmarks.{md,json,svg} at the repository root) and
// `pnpm --filter @tideway/bench bench:quick` (writes packages/bench/out/ unless --out is given).
//   --quick                small budgets, a subset of sizes, 1 repetition (override with --reps)
//   --reps N               repetitions (default 5)
//   --adapters a,b         subset and order of adapters (default tideway,ws,ws-nobu,undici)
//   --scenarios id,id      subset of scenario ids (see scenarios.ts)
//   --out DIR              where to write benchmarks.{md,json,svg}
//   --no-build             do not run the root build first (dist/ must still be newer than src/)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, platform, release, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ADAPTER_NAMES, type AdapterName, BASELINE } from "./adapters/index.js";
import { ensureBuilt } from "./build.js";
import { renderChart } from "./chart.js";
import { killChildren, runPlan } from "./driver.js";
import { keepHandWritten, renderMarkdown } from "./report.js";
import { fullScenarios, quickScenarios } from "./scenarios.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = resolve(packageDir, "../..");

function versionOf(name: string): string {
  try {
    const manifest = join(packageDir, "node_modules", name, "package.json");
    return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  } catch {
    return "missing";
  }
}

function machineInfo(): Record<string, string | number> {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} x ${cpu[0]?.model ?? "unknown"}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    os: `${platform()} ${release()}`,
    node: process.version,
    ws: versionOf("ws"),
    bufferutil: versionOf("bufferutil"),
    "utf-8-validate": versionOf("utf-8-validate"),
    undici: versionOf("undici"),
  };
}

function main(): Promise<void> | void {
  // pnpm 10 passes the `--` of `pnpm bench -- --quick` through: it separates nothing here.
  const argv = process.argv.slice(2).filter((arg) => arg !== "--");
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      reps: { type: "string" },
      adapters: { type: "string" },
      scenarios: { type: "string" },
      out: { type: "string" },
      "no-build": { type: "boolean", default: false },
    },
  });
  ensureBuilt(repoRoot, !values["no-build"], (line) => console.log(line));
  const quick = values.quick ?? false;
  const repetitions = Number(values.reps ?? (quick ? 1 : 5));
  if (!Number.isInteger(repetitions) || repetitions < 1) throw new Error(`--reps must be a positive integer`);
  const adapters = (values.adapters?.split(",") ?? [...ADAPTER_NAMES]) as AdapterName[];
  for (const a of adapters) if (!ADAPTER_NAMES.includes(a)) throw new Error(`unknown adapter ${a}`);
  let scenarios = quick ? quickScenarios() : fullScenarios();
  if (values.scenarios !== undefined) {
    const wanted = values.scenarios.split(",");
    const known = [...fullScenarios(), ...quickScenarios()];
    scenarios = wanted.map((id) => {
      const found = scenarios.find((s) => s.id === id) ?? known.find((s) => s.id === id);
      if (found === undefined) throw new Error(`unknown scenario ${id}`);
      return found;
    });
  }
  const outDir = resolve(values.out ?? (quick ? join(packageDir, "out") : join(repoRoot, "docs")));
  const args = argv.join(" ");
  return (async () => {
    const results = await runPlan({
      adapters,
      baseline: BASELINE,
      scenarios,
      repetitions,
      timeoutMs: quick ? 60_000 : 120_000,
      quick,
      // What a reader types to reproduce the run (pnpm passes the arguments through to main.ts).
      command: args ? `pnpm --filter @tideway/bench bench ${args}` : "pnpm bench",
      machine: machineInfo(),
      log: (line) => console.log(line),
    });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "benchmarks.json"), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, "benchmarks.svg"), renderChart(results));
    const mdFile = join(outDir, "benchmarks.md");
    const previous = existsSync(mdFile) ? readFileSync(mdFile, "utf8") : undefined;
    writeFileSync(mdFile, keepHandWritten(renderMarkdown(results, "benchmarks.svg"), previous));
    console.log(`\nwrote ${relative(process.cwd(), join(outDir, "benchmarks.md"))} (and .json, .svg)`);
  })();
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}
try {
  await main();
} catch (error) {
  killChildren();
  console.error(`bench: ${(error as Error).message}`);
  process.exitCode = 1;
}
