import { dirname, join } from "node:path";
import { defineConfig } from "tsup";

/**
 * The browser build's differences: platform-browser.ts in place of platform.ts (the Node transport),
 * diagnostics-channels-browser.ts in place of diagnostics-channels.ts (node:diagnostics_channel),
 * stream-inflate-browser.ts in place of stream-inflate.ts (node:zlib), node-duplex-browser.ts in
 * place of node-duplex.ts (node:stream).
 */
const browserPlatform = {
  name: "tideway-browser-platform",
  setup(build: {
    onResolve(o: { filter: RegExp }, cb: (a: { importer: string; path: string }) => { path: string }): void;
  }) {
    build.onResolve(
      { filter: /^\.\/(platform|diagnostics-channels|stream-inflate|node-duplex)\.js$/ },
      (args) => ({
        path: join(dirname(args.importer), args.path.replace(/\.js$/, "-browser.ts")),
      }),
    );
  },
};

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
    noExternal: ["p-retry", "is-network-error"],
    esbuildPlugins: [browserPlatform],
  },
]);
