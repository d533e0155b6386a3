// Packs @tideway/core and @tideway/client as they would be published (`pnpm pack`, which turns
// `workspace:*` into the real version) into one folder: `pnpm pack:all` writes them to packs/ for an
// install from a clone (README, "Install"). Builds first unless `--no-build`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const PUBLISHED = ["core", "client"];

/** The command that runs pnpm: the one running this script, else pnpm 10 through npx. */
export function pnpmCommand() {
  const runner = process.env.npm_execpath;
  return runner?.includes("pnpm") ? `"${process.execPath}" "${runner}"` : "npx -y pnpm@10";
}

/** Packs both packages into `destination`; returns the tarballs' paths. */
export function packAll(root, destination) {
  mkdirSync(destination, { recursive: true });
  for (const pkg of PUBLISHED) {
    const run = spawnSync(`${pnpmCommand()} pack --pack-destination "${destination}"`, {
      shell: true,
      cwd: join(root, "packages", pkg),
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`pnpm pack failed in packages/${pkg}:\n${run.stdout}${run.stderr}`);
  }
  return readdirSync(destination)
    .filter((f) => /^tideway-(core|client)-.*\.tgz$/.test(f))
    .map((f) => join(destination, f));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const root = process.cwd();
  if (!process.argv.includes("--no-build")) {
    const build = spawnSync("node .ci/run-workspaces.mjs build", {
      shell: true,
      stdio: "inherit",
      cwd: root,
    });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  const tarballs = packAll(root, resolve(root, "packs"));
  console.log(`\n${tarballs.join("\n")}\n\nInstall both in your project: npm install ${tarballs.join(" ")}`);
}
