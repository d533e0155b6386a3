import type { Plugin } from "esbuild";

/** An esbuild plugin: `./X.js` resolves to `./X-browser.ts` where that file exists. */
export declare const browserModules: Plugin;
