/**
 * The bin bundled once per test file from the sources (esbuild, the workspace packages aliased to
 * their sources as in vitest.config.ts): a child then starts in about 0.1 s instead of 1 s under
 * tsx, which keeps the end-to-end files fast. The bundle lives in a temp dir, removed after the file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll } from "vitest";

const source = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

let bundled: Promise<string> | undefined;
let dir: string | undefined;

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The path of the bundled bin (built on first use). */
export function bundledBin(): Promise<string> {
  bundled ??= (async () => {
    dir = mkdtempSync(join(tmpdir(), "tideway-cli-"));
    const outfile = join(dir, "tideway.mjs");
    await build({
      entryPoints: [source("cli/src/main.ts")],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      alias: {
        "@tideway/core/internals": source("core/src/internals.ts"),
        "@tideway/core": source("core/src/index.ts"),
        "@tideway/client": source("client/src/index.ts"),
      },
      // commander is CommonJS: its require() calls of Node modules need a require in an ES module.
      banner: {
        js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
      },
      logLevel: "error",
    });
    return outfile;
  })();
  return bundled;
}
