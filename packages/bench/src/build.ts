// The library under test is the BUILT package, as users run it: the tideway adapter imports
// "@tideway/client", which resolves through the package's `exports` to packages/client/dist (and
// its "@tideway/core" import to packages/core/dist). Running the TypeScript sources through tsx
// instead would measure esbuild's `keepNames` transform (tsx forces it, tsup does not): ~255 B more
// per named closure, which inflated Tideway's idle memory. So the driver builds both packages
// first (`pnpm build` at the root) and refuses to run on a dist older than its sources.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The workspace packages the tideway adapter loads from dist/, in build order. */
export const BUILT_PACKAGES = ["core", "client"] as const;

/** The newest modification time (ms) of any file under `dir`, or 0 when there is none. */
function newestUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Why `packages/<name>/dist` cannot be measured (missing, or older than src/), or undefined if it can. */
export function staleBuild(repoRoot: string, name: string): string | undefined {
  const dir = join(repoRoot, "packages", name);
  const entry = join(dir, "dist", "index.js");
  if (!existsSync(entry)) return `packages/${name}/dist/index.js is missing`;
  if (statSync(entry).mtimeMs < newestUnder(join(dir, "src"))) {
    return `packages/${name}/dist is older than packages/${name}/src`;
  }
  return undefined;
}

/** Runs the root build (core, then client), unless `build` is false; then checks every dist is fresh. */
export function ensureBuilt(repoRoot: string, build: boolean, log: (line: string) => void): void {
  if (build) {
    log("building @tideway/core and @tideway/client (the bench measures dist/, as users run it)");
    const run = spawnSync(process.execPath, [".ci/run-workspaces.mjs", "build"], {
      cwd: repoRoot,
      stdio: "inherit",
    });
    if (run.status !== 0) throw new Error(`the build failed (exit ${run.status ?? run.signal})`);
  }
  for (const name of BUILT_PACKAGES) {
    const reason = staleBuild(repoRoot, name);
    if (reason !== undefined) {
      throw new Error(`${reason}: run \`pnpm build\` at the repository root (or drop --no-build)`);
    }
  }
}
