// The measured worker as plain JavaScript, forked with plain `node` and no loader: the measured
// process holds the library under test and this small harness only, as a user's process would
// (under `--import tsx`, the loader and its source-map cache raised the heap enough to change the
// garbage collector's behaviour; see README.md).
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** Under this package's node_modules: its bare imports resolve from there; git and lint skip it. */
const OUT_DIR = here("../node_modules/.cache/bench-worker");

let entry: string | undefined;

/**
 * Bundles worker.ts and the bench modules it imports into OUT_DIR, once per driver process, and
 * returns the file to fork. Every package stays external (loaded from its own package, as users
 * load it); each adapter is its own chunk, so a worker imports only the library it measures.
 */
export function workerBundle(): string {
  if (entry === undefined) {
    rmSync(OUT_DIR, { recursive: true, force: true });
    buildSync({
      entryPoints: [here("./worker.ts")],
      outdir: OUT_DIR,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: `node${process.versions.node}`,
      packages: "external",
      logLevel: "warning",
    });
    entry = `${OUT_DIR}/worker.mjs`;
  }
  return entry;
}
