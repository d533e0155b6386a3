// The browser build's one difference from the Node build, shared by tsup.config.ts and
// .ci/size-report.mjs: a module with a `-browser.ts` sibling is replaced by it (platform-browser.ts
// for the Node transport, node-options-browser.ts for the Node-only options, redirect-browser.ts for
// redirects, diagnostics-channels-browser.ts, stream-inflate-browser.ts, node-duplex-browser.ts...),
// so none of the Node-only code ships to a browser.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** An esbuild plugin: `./X.js` resolves to `./X-browser.ts` where that file exists. */
export const browserModules = {
  name: "tideway-browser-modules",
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      const browser = join(dirname(args.importer), args.path.replace(/\.js$/, "-browser.ts"));
      // The browser module itself may import the module it replaces (for its types or a shared part).
      return browser !== args.importer && existsSync(browser) ? { path: browser } : undefined;
    });
  },
};
