// The one test command (`pnpm test`): installs the real peers the tests talk to, builds, lints,
// type-checks, checks the published packages, runs every test with coverage, and ends with the
// plain "N passed, N failed" line. Each step runs even if an earlier one failed, so one run shows
// every problem; the exit code is non-zero if any step failed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PUBLISHED, pnpmCommand } from "./pack-all.mjs";

const root = process.cwd();
const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}` };
const failures = [];

function step(name, command, options = {}) {
  console.log(`\n=== ${name}: ${command}`);
  const started = Date.now();
  const run = spawnSync(command, { shell: true, stdio: "inherit", env, cwd: options.cwd ?? root });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status !== 0) {
    failures.push(name);
    console.log(`=== ${name}: FAILED (exit ${run.status}) after ${seconds}s`);
  } else {
    console.log(`=== ${name}: ok (${seconds}s)`);
  }
}

// Real peers from Debian: Python websockets and aiohttp servers, nginx, tinyproxy, openssl.
step("system peers", "node .ci/ensure-peers.mjs");
step("build", "node .ci/run-workspaces.mjs build");
// The built client under Node 20/22/24 (ESM and CJS), Bun and Deno, installed from npm into .cache/;
// then the whole conformance suite with the client under Node 22, 24, Bun and Deno (~4 minutes).
step("runtime matrix", "node .ci/runtime-matrix.mjs");
// The built core in headless Chromium (Debian's package), driven by playwright-core.
step("browser matrix", "node .ci/browser-matrix.mjs");
// The browser build's min+gzip size, next to PartySocket's and reconnecting-websocket's; fails over budget.
step("browser size", "node .ci/size-report.mjs");
step("lint", "biome check .");
step("typecheck", "tsc -p tsconfig.json --noEmit");
// The API reference (docs/api/, not committed) builds, and every export has its TSDoc (typedoc.json).
step("API reference", "typedoc");
// Import rules (.dependency-cruiser.cjs): a self-contained core, no cycles, sockets only in transport
// modules, packages reached by name. .ci/dependency-rules.test.mjs shows each rule fails when broken.
step("dependency rules", "depcruise packages --config .dependency-cruiser.cjs");
for (const pkg of ["core", "client"]) {
  step(`package exports (${pkg})`, "publint --strict && attw --pack . --profile node16", {
    cwd: join(root, "packages", pkg),
  });
}
// The cli ships a bin and no type declarations, which are all attw checks: publint only.
step("package exports (cli)", "publint --strict", { cwd: join(root, "packages", "cli") });
// What a TypeScript user compiles against: the packed tarballs, under every module resolution.
step("type consumers", "node .ci/type-consumers.mjs");
// Both packages would publish as they are (what `pnpm release` runs, without the upload).
for (const pkg of PUBLISHED) {
  step(`publish dry run (${pkg})`, `${pnpmCommand()} publish --dry-run --no-git-checks`, {
    cwd: join(root, "packages", pkg),
  });
}
step(
  "tests",
  "vitest run --coverage --reporter=default --reporter=json --outputFile.json=coverage/vitest-results.json",
);
// The conformance and interop reports are regenerated into a git-ignored folder (the run leaves the
// tree clean), then their counts are compared with the committed docs/conformance.md and
// docs/interop.md: a report that no longer matches the code fails the run.
const reports = join(root, "coverage/reports");
rmSync(reports, { recursive: true, force: true });
for (const name of ["conformance", "interop"]) {
  const manifest = join(root, "packages", name, "package.json");
  const script = existsSync(manifest)
    ? JSON.parse(readFileSync(manifest, "utf8")).scripts?.[name]
    : undefined;
  if (script) step(name, `${script} --out ${reports}`, { cwd: join(root, "packages", name) });
}
step("reports match docs", `node .ci/check-reports.mjs ${reports}`);

let passed = 0;
let failed = 0;
let skipped = 0;
const results = join(root, "coverage/vitest-results.json");
if (existsSync(results)) {
  const report = JSON.parse(readFileSync(results, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
} else {
  failures.push("test results missing");
}
if (failures.length > 0) console.log(`\nFailed steps: ${failures.join(", ")}`);
if (skipped > 0) console.log(`\n${skipped} tests skipped or todo: every one must say why in its title.`);
// Steps that failed outside vitest count as failures in the closing line.
console.log(`\ntests: ${passed} passed, ${failed + failures.filter((f) => f !== "tests").length} failed`);
process.exit(failures.length > 0 || failed > 0 ? 1 : 0);
