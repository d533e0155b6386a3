// Assembles src/mask-kernel.wat with wabt into src/mask-kernel-wasm.ts, the bytes the core ships.
// Run: node --import tsx packages/core/scripts/build-mask-kernel.ts (a test checks the committed
// module matches what this produces).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const SOURCE = fileURLToPath(new URL("../src/mask-kernel.wat", import.meta.url));
export const OUTPUT = fileURLToPath(new URL("../src/mask-kernel-wasm.ts", import.meta.url));

/** The text of mask-kernel-wasm.ts for the current .wat source. */
export async function renderMaskKernelModule(): Promise<string> {
  const wabt = await wabtInit();
  const module = wabt.parseWat("mask-kernel.wat", readFileSync(SOURCE, "utf8"), { simd: true });
  try {
    module.validate();
    const { buffer } = module.toBinary({ log: false, write_debug_names: false });
    const hex = Array.from(buffer, (byte) => byte.toString(16).padStart(2, "0")).join("");
    const lines: string[] = [];
    for (let i = 0; i < hex.length; i += 64) lines.push(`  "${hex.slice(i, i + 64)}",`);
    return [
      "// Generated from mask-kernel.wat by scripts/build-mask-kernel.ts: do not edit.",
      "",
      "/** The compiled masking kernel (WebAssembly with SIMD), in hexadecimal. */",
      "export const MASK_KERNEL_WASM_HEX: string = /* @__PURE__ */ [",
      ...lines,
      '].join("");',
      "",
    ].join("\n");
  } finally {
    module.destroy();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OUTPUT, await renderMaskKernelModule());
  console.log(`wrote ${OUTPUT}`);
}
