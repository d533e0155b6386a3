import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { defineConfig } from "tsup";

/**
 * The browser build's one difference: a module with a `-browser.ts` sibling is replaced by it
 * (platform-browser.ts for the Node transport, node-options-browser.ts for the Node-only options,
 * redirect-browser.ts for redirects, diagnostics-channels-browser.ts, stream-inflate-browser.ts and
 * node-duplex-browser.ts for node:diagnostics_channel, node:zlib and node:stream), so none of the
 * Node-only code ships to a browser.
 */
const browserPlatform = {
  name: "tideway-browser-platform",
  setup(build: {
    onResolve(
      o: { filter: RegExp },
      cb: (a: { importer: string; path: string }) => { path: string } | undefined,
    ): void;
  }) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      const browser = join(dirname(args.importer), args.path.replace(/\.js$/, "-browser.ts"));
      // The browser module itself may import the module it replaces (for its types or a shared part).
      return browser !== args.importer && existsSync(browser) ? { path: browser } : undefined;
    });
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
