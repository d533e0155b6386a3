import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The bundle as tsup.config.ts builds it (JavaScript only), into a temporary directory.
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const tsup = fileURLToPath(new URL("../../../node_modules/tsup/dist/cli-default.js", import.meta.url));
let outDir = "";

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), "tideway-client-build-"));
  const run = spawnSync(process.execPath, [tsup, "--out-dir", outDir, "--no-dts", "--silent"], {
    cwd: packageDir,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`tsup failed: ${run.stderr}`);
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Every module specifier of `code`: static imports and re-exports, `import()` and `require()`. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  for (const m of code.matchAll(
    /\bfrom\s*"([^"]+)"|\bimport\s*\(\s*"([^"]+)"\s*\)|\brequire\(\s*"([^"]+)"\s*\)/g,
  )) {
    found.push((m[1] ?? m[2] ?? m[3]) as string);
  }
  return found;
}

const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith("_")));

describe("the built client", () => {
  it.each(["index.js", "index.cjs"])("%s imports Node builtins with the node: prefix only", (file) => {
    const used = specifiers(readFileSync(join(outDir, file), "utf8"));
    const builtins = used.filter((s) => s.startsWith("node:") || BUILTINS.has(s));
    expect(builtins).toContain("node:net");
    expect(builtins).toContain("node:tls");
    expect(builtins.filter((s) => !s.startsWith("node:"))).toEqual([]);
  });
});
