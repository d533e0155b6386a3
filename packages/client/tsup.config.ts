import { defineConfig } from "tsup";
import { browserModules } from "./browser-modules.mjs";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    // dist/browser is the other build's.
    clean: ["*", "!browser"],
    sourcemap: true,
    target: "node20",
    platform: "node",
    // Keep `node:` in imports of builtins (tsup 8 strips it by default): Deno and Bun require it.
    removeNodeProtocol: false,
    // p-retry 7 is ESM-only: bundle it (and its one dependency) so that require("@tideway/client") works.
    noExternal: ["p-retry", "is-network-error"],
  },
  {
    // Browsers, Web Workers and edge workers (package.json "browser", "worker", "workerd"): over the
    // runtime's own WebSocket; the types are the Node build's (one API).
    entry: { index: "src/index.ts" },
    outDir: "dist/browser",
    format: ["esm"],
    dts: false,
    clean: true,
    sourcemap: true,
    target: "es2022",
    platform: "browser",
    // eventemitter3 as its ES module build (browser-modules.mjs), so no bundler wraps it as CommonJS.
    noExternal: ["p-retry", "is-network-error", "eventemitter3"],
    esbuildPlugins: [browserModules],
  },
]);
