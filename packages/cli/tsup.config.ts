import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts"],
  // A bin, not a library: one ESM file, no type declarations.
  format: ["esm"],
  clean: true,
  sourcemap: true,
  target: "node20",
  platform: "node",
});
