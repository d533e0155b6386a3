// The browser build's differences from the Node build, shared by tsup.config.ts and
// .ci/size-report.mjs: a module with a `-browser.ts` sibling is replaced by it (platform-browser.ts
// for the Node transport, node-options-browser.ts for the Node-only options, redirect-browser.ts for
// redirects, diagnostics-channels-browser.ts, stream-inflate-browser.ts, node-duplex-browser.ts...),
// so none of the Node-only code ships to a browser; and eventemitter3 is its own ES module build.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * eventemitter3's ES module build, which its package.json does not export: a bundler resolving the
 * package reaches its CommonJS file and wraps it in interop helpers. The browser build bundles this one.
 */
const eventEmitterEsm = join(
  dirname(createRequire(import.meta.url).resolve("eventemitter3")),
  "dist/eventemitter3.esm.js",
);

/** An esbuild plugin: `./X.js` resolves to `./X-browser.ts` where that file exists; eventemitter3 to its ES module build. */
export const browserModules = {
  name: "tideway-browser-modules",
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      const browser = join(dirname(args.importer), args.path.replace(/\.js$/, "-browser.ts"));
      // The browser module itself may import the module it replaces (for its types or a shared part).
      return browser !== args.importer && existsSync(browser) ? { path: browser } : undefined;
    });
    build.onResolve({ filter: /^eventemitter3$/ }, () => ({ path: eventEmitterEsm }));
  },
};
