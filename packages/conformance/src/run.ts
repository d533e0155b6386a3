/**
 * `pnpm conformance`: starts the server on loopback, runs every agent through every case, writes
 * docs/conformance.md and docs/conformance.json, and exits 1 if any agent that ran FAILED a case.
 *
 *   --agent NAME     run only this agent (repeatable): ws, tideway, tideway-stream (sections 5, 6, 9, 12)
 *   --case PREFIX    run only cases whose id starts with PREFIX (repeatable), e.g. --case 6.4 --case 7.
 *   --concurrency N  light cases in flight at once (default 4)
 *   --out DIR        where the report goes (default: the repository's docs/; with --case, nowhere
 *                    unless --out is given, so a partial run never overwrites the full report;
 *                    the same with --remote)
 *   --no-write       print the summary, write nothing
 *   --require-all    also exit 1 if an agent is unavailable (for CI once every agent exists)
 *   --remote NAME    instead of the agents above, the Tideway client in another process (another
 *                    runtime), labelled NAME: the command after `--` starts agent-host.mjs, e.g.
 *                    --remote "tideway (deno)" -- deno run --allow-net agent-host.mjs
 *   --remote-cwd DIR where that command runs (where `@tideway/client` resolves); default the cwd
 */
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { AGENTS } from "./agents.js";
import { SECTIONS } from "./cases/index.js";
import { remoteAgent } from "./remote-agent.js";
import { anyFailed, countVerdicts, renderJson, renderMarkdown } from "./report.js";
import { type AgentReport, runAgent } from "./runner.js";
import { ConformanceServer } from "./server.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    agent: { type: "string", multiple: true },
    case: { type: "string", multiple: true },
    concurrency: { type: "string", default: "4" },
    out: { type: "string" },
    "no-write": { type: "boolean", default: false },
    "require-all": { type: "boolean", default: false },
    remote: { type: "string" },
    "remote-cwd": { type: "string" },
  },
});

const remote =
  values.remote === undefined
    ? undefined
    : remoteAgent(values.remote, positionals, { cwd: values["remote-cwd"] });
const agents =
  remote !== undefined
    ? [remote]
    : values.agent === undefined
      ? AGENTS
      : AGENTS.filter((a) => values.agent!.includes(a.name));
const prefixes = values.case;
const selected = (id: string) =>
  prefixes === undefined || prefixes.some((p) => id === p || id.startsWith(p.endsWith(".") ? p : `${p}.`));
const sections = SECTIONS.map((s) => ({ ...s, cases: s.cases.filter((c) => selected(c.id)) })).filter(
  (s) => s.cases.length > 0 || prefixes === undefined,
);
const cases = sections.flatMap((s) => s.cases);

const t0 = performance.now();
const server = await ConformanceServer.start({ cases });
const reports: AgentReport[] = [];
for (const agent of agents) {
  process.stdout.write(`${agent.name}: `);
  const report = await runAgent(server, agent, {
    concurrency: Number(values.concurrency),
    onResult: (_, r) => process.stdout.write(r.verdict === "FAILED" ? "F" : r.verdict === "OK" ? "." : "n"),
  });
  reports.push(report);
  if (report.unavailable !== undefined) {
    process.stdout.write(`unavailable (${report.unavailable})\n`);
    continue;
  }
  if (remote?.runtime !== undefined) process.stdout.write(`(${remote.runtime}) `);
  const c = countVerdicts(report);
  process.stdout.write(
    `\n  ${c.OK} OK, ${c["NON-STRICT"]} NON-STRICT, ${c.INFORMATIONAL} INFORMATIONAL, ${c.FAILED} FAILED in ${(report.durationMs / 1000).toFixed(1)} s\n`,
  );
  for (const r of report.results.values())
    if (r.verdict !== "OK") console.log(`  ${r.verdict} ${r.id}: ${r.reason}`);
}
await server.close();
await remote?.close();

const meta = {
  generatedAt: new Date().toISOString(),
  node: process.version,
  durationMs: Math.round(performance.now() - t0),
};
const outDir =
  values.out ??
  (prefixes === undefined && remote === undefined
    ? fileURLToPath(new URL("../../../docs", import.meta.url))
    : undefined);
if (!values["no-write"] && outDir !== undefined) {
  const out = resolve(outDir);
  await mkdir(out, { recursive: true });
  await writeFile(resolve(out, "conformance.md"), renderMarkdown(sections, reports, meta));
  await writeFile(resolve(out, "conformance.json"), renderJson(sections, reports, meta));
  console.log(`wrote ${resolve(out, "conformance.md")} and conformance.json (${cases.length} cases)`);
}
const missing = reports.filter((r) => r.unavailable !== undefined);
if (values["require-all"] && missing.length > 0)
  console.log(`unavailable: ${missing.map((r) => r.agent).join(", ")}`);
process.exitCode = anyFailed(reports) || (values["require-all"] && missing.length > 0) ? 1 : 0;
