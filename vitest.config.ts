import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a test run needs no build first.
    alias: { "@tideway/core": src("core"), "@tideway/client": src("client") },
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
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
