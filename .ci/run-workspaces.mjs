// Runs one package script in every workspace package that has it, core first (the client builds on it).
// A plain Node script, so that the root scripts need nothing on PATH but node and the local bins.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const script = process.argv[2];
const order = ["core", "client", "cli", "conformance", "interop", "bench"];
for (const name of order) {
  const dir = join("packages", name);
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) continue;
  const { scripts = {} } = JSON.parse(readFileSync(manifest, "utf8"));
  if (!scripts[script]) continue;
  console.log(`\n> ${dir}: ${script}`);
  const run = spawnSync(scripts[script], {
    cwd: dir,
    shell: true,
    stdio: "inherit",
    env: {
      ...process.env,
      PATH: `${join(process.cwd(), dir, "node_modules/.bin")}:${join(process.cwd(), "node_modules/.bin")}:${process.env.PATH}`,
    },
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
