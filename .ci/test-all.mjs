// The one test command (`pnpm test`): installs the real peers the tests talk to, builds, lints,
// type-checks, checks the published packages, runs every test with coverage, and ends with the
// plain "N passed, N failed" line. Each step runs even if an earlier one failed, so one run shows
// every problem; the exit code is non-zero if any step failed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

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
// The built client under Node 20/22/24 (ESM and CJS), Bun and Deno, installed from npm into .cache/.
step("runtime matrix", "node .ci/runtime-matrix.mjs");
// The built core in headless Chromium (Debian's package), driven by playwright-core.
step("browser matrix", "node .ci/browser-matrix.mjs");
step("lint", "biome check .");
step("typecheck", "tsc -p tsconfig.json --noEmit");
for (const pkg of ["core", "client"]) {
  step(`package exports (${pkg})`, "publint --strict && attw --pack . --profile node16", {
    cwd: join(root, "packages", pkg),
  });
}
step(
  "tests",
  "vitest run --coverage --reporter=default --reporter=json --outputFile.json=coverage/vitest-results.json",
);
for (const [name, script] of [
  ["conformance", "conformance"],
  ["interop", "interop"],
]) {
  const manifest = join(root, "packages", name, "package.json");
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).scripts?.[script]) {
    step(name, `node .ci/run-workspaces.mjs ${script}`);
  }
}

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
