/**
 * `pnpm interop`: runs the matrix against every peer, writes docs/interop.md and docs/interop.json,
 * exits 1 if any check failed (or a peer could not start), 2 if the run overran its time limit.
 *
 *   node --import tsx src/run.ts [--servers ws,aiohttp] [--sizes 0,125,65536] [--out DIR]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildChecks, FULL_SIZES } from "./checks.js";
import { failures, runMatrix } from "./matrix.js";
import { renderJson, renderMarkdown } from "./report.js";
import { ALL_PEERS } from "./servers/index.js";

/** The full run takes well under a minute; past this something hangs that the per-check limits missed. */
const RUN_LIMIT_MS = 180_000;

const { values } = parseArgs({
  options: {
    servers: { type: "string" },
    sizes: { type: "string" },
    out: { type: "string", default: fileURLToPath(new URL("../../../docs/", import.meta.url)) },
  },
});

const names = values.servers?.split(",").map((s) => s.trim());
const unknown = names?.filter((n) => !ALL_PEERS.some((p) => p.name === n)) ?? [];
if (unknown.length > 0) {
  console.error(
    `unknown server(s): ${unknown.join(", ")}; known: ${ALL_PEERS.map((p) => p.name).join(", ")}`,
  );
  process.exit(2);
}
const sizes = values.sizes?.split(",").map(Number) ?? FULL_SIZES;
if (sizes.some((n) => !Number.isInteger(n) || n < 0)) {
  console.error(`--sizes must be non-negative integers: ${values.sizes}`);
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.error(`interop: the run exceeded ${RUN_LIMIT_MS / 1000} s; stopping (peers are killed on exit)`);
  process.exit(2);
}, RUN_LIMIT_MS);
watchdog.unref();

const specs = names === undefined ? ALL_PEERS : ALL_PEERS.filter((p) => names.includes(p.name));
const matrix = await runMatrix(specs, buildChecks(sizes), (line) => console.log(line));
await mkdir(values.out, { recursive: true });
await writeFile(join(values.out, "interop.md"), renderMarkdown(matrix));
await writeFile(join(values.out, "interop.json"), renderJson(matrix));
const failed = failures(matrix);
console.log(
  `\ninterop: ${failed === 0 ? "all checks passed" : `${failed} check(s) FAILED`}; wrote ${join(values.out, "interop.md")}`,
);
clearTimeout(watchdog);
process.exit(failed === 0 ? 0 : 1);
