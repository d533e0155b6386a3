import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
  platform: "node",
  // Keep `node:` in imports of builtins (tsup 8 strips it by default): Deno and Bun require it.
  removeNodeProtocol: false,
  // p-retry 7 is ESM-only: bundle it (and its one dependency) so that require("@tideway/client") works.
  noExternal: ["p-retry", "is-network-error"],
});
