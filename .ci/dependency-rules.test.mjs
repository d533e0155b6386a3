// The dependency rules (.dependency-cruiser.cjs) catch what they are meant to: each deliberate
// violation below, in a small fixture tree laid out like the monorepo, fails `depcruise` with the
// rule's name, and the same tree without it passes.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const depcruise = join(root, "node_modules/.bin/depcruise");
const fixture = mkdtempSync(join(tmpdir(), "tideway-deps-"));
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

/** A tree that follows every rule. */
const CLEAN = {
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      module: "ESNext",
      moduleResolution: "Bundler",
      paths: { "@tideway/core": ["./packages/core/src/index.ts"] },
    },
  }),
  "packages/core/src/index.ts": 'export { frame } from "./frame.js";\n',
  "packages/core/src/frame.ts": "export const frame = 1;\n",
  "packages/client/src/index.ts": 'import { frame } from "@tideway/core";\nexport const client = frame;\n',
  "packages/client/src/transport.ts": 'import net from "node:net";\nexport const socket = net.Socket;\n',
  "packages/conformance/src/server.ts":
    'import net from "node:net";\nimport { frame } from "@tideway/core";\nexport const s = [net, frame];\n',
};

/** Writes CLEAN plus `extra` into a fresh copy of the fixture and runs the rules on it. */
function cruise(extra = {}) {
  rmSync(join(fixture, "packages"), { recursive: true, force: true });
  for (const [path, text] of Object.entries({ ...CLEAN, ...extra })) {
    mkdirSync(dirname(join(fixture, path)), { recursive: true });
    writeFileSync(join(fixture, path), text);
  }
  const run = spawnSync(depcruise, ["packages", "--config", join(root, ".dependency-cruiser.cjs")], {
    cwd: fixture,
    encoding: "utf8",
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("the dependency rules", () => {
  it("pass a tree that follows them", () => {
    const { status, output } = cruise();
    expect(output).toContain("no dependency violations found");
    expect(status).toBe(0);
  });

  const violations = [
    [
      "core-is-self-contained",
      { "packages/core/src/frame.ts": 'import "node:net";\nexport const frame = 1;\n' },
    ],
    [
      "no-circular",
      {
        "packages/core/src/frame.ts": 'import { mask } from "./mask.js";\nexport const frame = mask;\n',
        "packages/core/src/mask.ts":
          'import { frame } from "./frame.js";\nexport const mask = 1;\nexport const f = () => frame;\n',
      },
    ],
    [
      "only-transports-open-sockets",
      { "packages/client/src/helper.ts": 'import tls from "node:tls";\nexport const t = tls;\n' },
    ],
    [
      "packages-import-each-other-by-name",
      {
        "packages/conformance/src/wire.ts":
          'import { frame } from "../../core/src/frame.js";\nexport const w = frame;\n',
      },
    ],
  ];

  it.each(violations)("fail on a deliberate %s violation", (rule, extra) => {
    const { status, output } = cruise(extra);
    expect(output).toContain(`error ${rule}:`);
    expect(status).not.toBe(0);
  });
});
