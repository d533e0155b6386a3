import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string, entry = "index") =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a test run needs no build first.
    alias: [
      { find: /^@tideway\/core$/, replacement: src("core") },
      { find: /^@tideway\/core\/internals$/, replacement: src("core", "internals") },
      { find: /^@tideway\/client$/, replacement: src("client") },
    ],
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", ".ci/**/*.test.mjs"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    coverage: {
      provider: "v8",
      include: ["packages/core/src/**/*.ts", "packages/client/src/**/*.ts"],
      reporter: ["text-summary", "json-summary"],
      reportsDirectory: "coverage",
      // The core is the protocol: every line of it is tested (issue: >= 95% lines, kept in CI).
      thresholds: { "packages/core/src/**": { lines: 95 } },
    },
  },
});
