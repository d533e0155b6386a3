import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../src", import.meta.url));

/**
 * Resolves `./x.js` to `./x.ts` itself, so esbuild knows nothing of the package's "sideEffects": false:
 * as in the built core, whose two entries share one chunk, it keeps every module-level statement of the
 * core that may have an effect, used or not.
 */
const sources: Plugin = {
  name: "core-sources",
  setup(b) {
    b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      const ts = join(dirname(args.importer), args.path.replace(/\.js$/, ".ts"));
      return existsSync(ts) ? { path: ts } : undefined;
    });
  },
};

/** The core modules with code in a browser bundle of `code` (run from src/), by file name. */
async function bundledModules(code: string): Promise<{ modules: string[]; text: string }> {
  const result = await build({
    stdin: { contents: code, resolveDir: src, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [sources],
  });
  const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
  const modules = Object.entries(inputs)
    .filter(([path, input]) => path.startsWith("packages/core/src/") && input.bytesInOutput > 0)
    .map(([path]) => path.slice("packages/core/src/".length))
    .sort();
  return { modules, text: result.outputFiles[0]!.text };
}

describe("a bundle of one export of the core", () => {
  it("keeps only the modules that export needs, though every module of the core is imported", async () => {
    const { modules, text } = await bundledModules(
      `import "./internals.ts"; export { ProtocolError } from "./index.ts";`,
    );
    expect(modules).toEqual(["errors.ts"]);
    // What module-level code kept before: the HTTP header parser (behind the 101 response's lazy
    // headers), the WebAssembly mask kernel, the lookup tables and the UTF-8 codec.
    for (const kept of ["obsolete line folding", "0061736d", "0123456789+/", "TextEncoder", "TextDecoder"]) {
      expect(text).not.toContain(kept);
    }
  });

  it("still builds a lookup table that is used", async () => {
    const { text } = await bundledModules(`export { isToken } from "./headers.ts";`);
    const { isToken } = await import(`data:text/javascript,${encodeURIComponent(text)}`);
    expect(isToken("Upgrade")).toBe(true);
    expect(isToken("keep alive")).toBe(false);
  });
});
