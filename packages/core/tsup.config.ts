import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/internals.ts"],
  // One copy of each module for both entries, in CommonJS too: an error thrown by a primitive from
  // "internals" must be an instance of the class "@tideway/core" exports.
  splitting: true,
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
});
