// The browser client's size, measured as a user's bundler would ship it: esbuild bundles an import
// of each library (with its dependencies), minified, for browsers; the bytes are then gzipped (level
// 9). Tideway's browser build next to PartySocket and reconnecting-websocket, measured the same way.
// Fails (exit 1) when Tideway's WebSocketClient is over its budget, or its bundle imports a `node:`
// module (a Node transport leaking into the browser build). Run after the build; `--json` prints the
// figures as JSON; `--modules` prints where the bytes of `import { WebSocketClient }` come from, per
// source module (the same bundle built from the sources, as tsup.config.ts swaps the browser modules).
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { browserModules } from "../packages/client/browser-modules.mjs";

/**
 * The budget of `import { WebSocketClient }` in min+gzip bytes: the goal, 10 KB (docs/runtimes.md,
 * "Size"), so that growth past it is a decision.
 */
const LIMIT = 10 * 1024;

const root = new URL("..", import.meta.url).pathname;
/** Resolved from examples/, which depends on @tideway/client as an app would: its "browser" condition. */
const app = new URL("../examples", import.meta.url).pathname;

const SUBJECTS = [
  {
    name: "@tideway/client: WebSocketClient",
    code: `export { WebSocketClient } from "@tideway/client";`,
    from: app,
    limit: LIMIT,
  },
  {
    name: "@tideway/client: WebSocketClient + appHeartbeat",
    code: `export { WebSocketClient, appHeartbeat } from "@tideway/client";`,
    from: app,
  },
  { name: "@tideway/client: whole entry", code: `export * from "@tideway/client";`, from: app },
  {
    name: "p-retry + eventemitter3 (in the client's bundle)",
    code: `export { default as pRetry } from "p-retry"; export { EventEmitter } from "eventemitter3";`,
    from: new URL("../packages/client", import.meta.url).pathname,
    // eventemitter3 as the browser build bundles it.
    plugins: [browserModules],
  },
  { name: "partysocket: PartySocket", code: `export { PartySocket } from "partysocket";` },
  { name: "partysocket/ws: ReconnectingWebSocket", code: `export { default } from "partysocket/ws";` },
  { name: "reconnecting-websocket", code: `export { default } from "reconnecting-websocket";` },
];

/** How every bundle here is built: as a user's bundler ships it to browsers. */
const BROWSER_BUNDLE = {
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  conditions: ["browser"],
  write: false,
  metafile: true,
  logLevel: "silent",
};

async function measure(code, from = root, plugins = []) {
  const result = await build({
    ...BROWSER_BUNDLE,
    plugins,
    stdin: { contents: code, resolveDir: from, loader: "js" },
    // As a user's bundler sees the packages: no tsconfig.json "paths" to the sources.
    tsconfigRaw: {},
  });
  const bytes = result.outputFiles[0].contents;
  const nodeImports = Object.values(result.metafile.inputs)
    .flatMap((input) => input.imports)
    .filter((i) => i.path.startsWith("node:"))
    .map((i) => i.path);
  return { minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length, nodeImports };
}

if (process.argv.includes("--modules")) {
  const client = new URL("../packages/client", import.meta.url).pathname;
  const result = await build({
    ...BROWSER_BUNDLE,
    stdin: {
      contents: `export { WebSocketClient } from "./src/index.ts";`,
      resolveDir: client,
      loader: "ts",
    },
    plugins: [browserModules],
  });
  const output = Object.values(result.metafile.outputs)[0];
  const bytes = result.outputFiles[0].contents;
  console.log("| module | minified bytes |\n|---|---|");
  for (const [path, input] of Object.entries(output.inputs).sort(
    (a, b) => b[1].bytesInOutput - a[1].bytesInOutput,
  )) {
    if (input.bytesInOutput > 0)
      console.log(
        `| ${path.replace(/^(\.\.\/)+node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")} | ${input.bytesInOutput} |`,
      );
  }
  console.log(
    `| total (from the sources) | ${bytes.length} minified, ${gzipSync(bytes, { level: 9 }).length} min+gzip |`,
  );
  process.exit(0);
}

const rows = [];
let failed = false;
for (const s of SUBJECTS) {
  const m = await measure(s.code, s.from, s.plugins);
  const over = s.limit !== undefined && m.gzipped > s.limit;
  if (over || m.nodeImports.length > 0) failed = true;
  rows.push({ name: s.name, ...m, limit: s.limit, over });
}
if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 2));
else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log("| bundle | minified | min+gzip |\n|---|---|---|");
  for (const r of rows) console.log(`| ${r.name} | ${kb(r.minified)} | ${kb(r.gzipped)} |`);
  for (const r of rows) {
    if (r.over) console.log(`FAIL ${r.name}: ${r.gzipped} bytes min+gzip, over the ${r.limit}-byte limit`);
    if (r.nodeImports.length > 0) console.log(`FAIL ${r.name}: imports ${r.nodeImports.join(", ")}`);
  }
}
process.exit(failed ? 1 : 0);
