// The runtime matrix: the built @tideway/client under Node 20 (the one running the suite), Node 22
// and 24, Bun and Deno, each running the shared subset (runtime-matrix/subset.mjs: connect, iterate,
// send, headers, deflate, ping, reconnect after the server drops, close, an HTTP proxy) against a
// local server and proxy.
// Each runs the ESM and the CJS build; Deno with --allow-net only.
// Then the whole conformance suite (packages/conformance) with the client under Node 22, 24, Bun
// and Deno (Node 20's is the suite's own step): the server and the judge stay on this Node, the
// client echoes each case in the runtime (agent-host.mjs, ESM, Deno with --allow-net only). Every
// case must pass; NON-STRICT and INFORMATIONAL results are listed as the Node run lists them.
// `--subset-only` skips the conformance runs.
// Runtimes come from the npm registry (node@22, node@24, bun, deno) into .cache/runtimes (gitignored),
// reused when present: delete that folder to take newer releases. A runtime npm cannot install here
// is skipped with a message saying so, never silently. Run after the build (`pnpm build`).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cache = join(root, ".cache/runtimes");
const app = join(cache, "app");
const client = join(root, "packages/client");
const { WebSocketServer } = createRequire(join(client, "package.json"))("ws");
/** Per run: start-up, eight checks on loopback and a few short waits; the slowest take ~1 s. */
const RUN_TIMEOUT = 30_000;
/** Per runtime: the whole conformance suite, about a minute on the 2-core CI machine. */
const CONFORMANCE_TIMEOUT = 300_000;
const conformance = join(root, "packages/conformance");

const RUNTIMES = [
  { name: `node ${process.versions.node}`, bin: process.execPath },
  { name: "node 22", spec: "node@22", bin: "node" },
  { name: "node 24", spec: "node@24", bin: "node" },
  { name: "bun", spec: "bun@1", bin: "bun" },
  // ESM with --allow-net only: Deno loads modules without --allow-read. CJS: Deno's require() reads
  // (stats) the files it loads, so the CJS build needs --allow-read of the packages, and no more.
  // No --allow-env: proxy-env.ts takes a refused read as an unset variable.
  {
    name: "deno",
    spec: "deno@2",
    bin: "deno",
    args: ["run", "--allow-net", "--no-prompt", "--no-lock"],
    // Its stdio is not a permission: the conformance agent host needs --allow-net only too.
    cjsArgs: ["run", "--allow-net", `--allow-read=${join(root, "packages")}`, "--no-prompt", "--no-lock"],
  },
];

const ENTRY = { esm: "main.mjs", cjs: "main.cjs" };

function versionOf(bin) {
  const run = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 20_000 });
  // "deno 2.9.6 (stable, ...)" -> "deno 2.9.6"; "1.4.5"; "v22.23.3".
  return run.status === 0 ? run.stdout.split("\n")[0].trim().split(" (")[0] : undefined;
}

/**
 * Resolves with the runtime's executable and version, or with `{ skip }` saying why it cannot run.
 * A failed install is tried once more: a registry hiccup should not cost a runtime its row.
 */
async function install(runtime) {
  const first = await installOnce(runtime);
  return first.skip === undefined || first.retry === false ? first : installOnce(runtime);
}

function installOnce(runtime) {
  if (runtime.spec === undefined)
    return Promise.resolve({ bin: runtime.bin, version: `v${process.versions.node}` });
  const prefix = join(cache, runtime.spec.replace("@", "-"));
  const bin = join(prefix, "node_modules/.bin", runtime.bin);
  const cached = existsSync(bin) ? versionOf(bin) : undefined;
  if (cached !== undefined) return Promise.resolve({ bin, version: cached, cached: true });
  return new Promise((resolve) => {
    mkdirSync(prefix, { recursive: true });
    const args = ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error", runtime.spec];
    const npm = spawn("npm", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    npm.stderr.on("data", (d) => {
      stderr += d;
    });
    npm.on("error", (err) => resolve({ skip: `npm could not be started: ${err.message}`, retry: false }));
    npm.on("close", (code) => {
      const version = code === 0 && existsSync(bin) ? versionOf(bin) : undefined;
      if (version !== undefined) resolve({ bin, version, cached: false });
      else {
        const why =
          stderr.trim().split("\n").slice(0, 3).join(" | ") || `exit ${code}, no ${runtime.bin} binary`;
        resolve({ skip: `npm install ${runtime.spec} failed: ${why}` });
      }
    });
  });
}

/** An app as a user's: a package.json and node_modules/@tideway/client (the built workspace package). */
function makeApp() {
  mkdirSync(join(app, "node_modules/@tideway"), { recursive: true });
  writeFileSync(join(app, "package.json"), '{ "private": true, "type": "module" }\n');
  const link = join(app, "node_modules/@tideway/client");
  rmSync(link, { force: true, recursive: true });
  symlinkSync(client, link, "dir");
  for (const file of ["subset.mjs", "main.mjs", "main.cjs"]) {
    copyFileSync(join(root, ".ci/runtime-matrix", file), join(app, file));
  }
  copyFileSync(join(conformance, "src/agent-host.mjs"), join(app, "agent-host.mjs"));
}

/** Echoes messages; answers "header?", "bytes?" (bytes read on this TCP connection); "drop" kills TCP. */
function startServer() {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: true });
  wss.on("connection", (ws, request) => {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? undefined : data.toString();
      if (text === "header?") ws.send(request.headers["x-tideway-matrix"] ?? "");
      else if (text === "bytes?") ws.send(String(request.socket.bytesRead));
      else if (text === "drop") ws.terminate();
      else ws.send(data, { binary: isBinary });
    });
  });
  return new Promise((resolve) => wss.on("listening", () => resolve(wss)));
}

/** An HTTP CONNECT proxy that knows one host, tideway-matrix.invalid: the WebSocket server. */
function startProxy(serverPort) {
  const proxy = createServer((_request, response) => response.writeHead(405).end());
  proxy.on("connect", (request, socket, head) => {
    const [host, port] = request.url.split(":");
    if (host !== "tideway-matrix.invalid" || Number(port) !== serverPort) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = net.connect(serverPort, "127.0.0.1", () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  return new Promise((resolve) => proxy.listen(0, "127.0.0.1", () => resolve(proxy)));
}

// Deno keeps the CommonJS it transpiled in DENO_DIR and can serve it after a rebuild renamed the
// chunks it requires ("Cannot find module './chunk-....cjs'"): every run starts with an empty one.
const denoDir = join(cache, "deno-dir");
rmSync(denoDir, { recursive: true, force: true });
const childEnv = {
  ...process.env,
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
  DENO_DIR: denoDir,
};
// The client reads proxy variables by default; a CI proxy must not capture loopback connections.
for (const name of ["ws_proxy", "wss_proxy", "http_proxy", "https_proxy", "all_proxy", "no_proxy"]) {
  delete childEnv[name];
  delete childEnv[name.toUpperCase()];
}

/** Runs one command; resolves with its exit code, its output and its time (killed after `timeout`). */
function runCommand(bin, args, cwd, timeout) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(bin, args, { cwd, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    const done = (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: Date.now() - started });
    };
    child.on("error", (err) => {
      out += String(err);
      done(-1);
    });
    child.on("close", done);
  });
}

/** Runs one entry of the subset; resolves with the checks it reported, its output and its time. */
async function runEntry(bin, args) {
  const result = await runCommand(bin, args, app, RUN_TIMEOUT);
  const checks = result.out
    .split("\n")
    .filter((line) => line.startsWith('{"check"'))
    .map((line) => JSON.parse(line));
  return { ...result, checks };
}

/**
 * The conformance suite with the client in `bin` (run.ts --remote): its exit code, its output, its
 * time and its counts ("487 OK, 11 NON-STRICT, 3 INFORMATIONAL, 0 FAILED"), undefined if it never
 * got that far.
 */
async function runConformance(name, bin, args) {
  const suite = ["--import", "tsx", "src/run.ts", "--require-all", "--no-write"];
  const remote = ["--remote", `tideway (${name})`, "--remote-cwd", app, "--", bin, ...args, "agent-host.mjs"];
  const result = await runCommand(process.execPath, [...suite, ...remote], conformance, CONFORMANCE_TIMEOUT);
  const counts = /\d+ OK, \d+ NON-STRICT, \d+ INFORMATIONAL, (\d+) FAILED/.exec(result.out);
  return { ...result, counts: counts?.[0], failed: counts === null ? undefined : Number(counts[1]) };
}

const CHECKS = 8;
const started = Date.now();
if (!existsSync(join(client, "dist/index.js")) || !existsSync(join(client, "dist/index.cjs"))) {
  console.log("runtime matrix: packages/client/dist is missing; build first (pnpm build)");
  process.exit(1);
}
mkdirSync(cache, { recursive: true });
makeApp();
const installs = await Promise.all(RUNTIMES.map(install));
console.log(`runtimes ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
const wss = await startServer();
const url = `ws://127.0.0.1:${wss.address().port}/`;
const proxy = await startProxy(wss.address().port);
const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
const rows = [];
const skipped = [];
let failed = 0;
for (const [i, runtime] of RUNTIMES.entries()) {
  const installed = installs[i];
  if (installed.skip !== undefined) {
    console.log(`SKIPPED ${runtime.name}: ${installed.skip}`);
    skipped.push(runtime.name);
    continue;
  }
  for (const build of ["esm", "cjs"]) {
    const args = (build === "cjs" ? runtime.cjsArgs : undefined) ?? runtime.args ?? [];
    const result = await runEntry(installed.bin, [...args, ENTRY[build], url, proxyUrl]);
    const passed = result.checks.filter((c) => c.ok).length;
    const ok = result.code === 0 && passed === CHECKS;
    if (!ok) failed++;
    const source = installed.cached === undefined ? "" : installed.cached ? " (cached)" : " (installed)";
    rows.push(
      `${ok ? "ok  " : "FAIL"} ${`${runtime.name} ${build}`.padEnd(16)} ${installed.version}${source}: ${passed}/${CHECKS} checks in ${result.ms} ms`,
    );
    console.log(rows.at(-1));
    if (!ok) console.log(result.out.replace(/^/gm, "    "));
  }
}
wss.close();
proxy.close();
proxy.closeAllConnections();
for (const c of wss.clients) c.terminate();
if (!process.argv.includes("--subset-only")) {
  // One runtime at a time: the suite judges timing (fail-fast, hangs), and four runs at once on two
  // cores pushed the large compressed cases past their timeouts.
  for (const [i, runtime] of RUNTIMES.entries()) {
    const installed = installs[i];
    if (runtime.spec === undefined || installed.skip !== undefined) continue;
    const result = await runConformance(runtime.name, installed.bin, runtime.args ?? []);
    const ok = result.code === 0 && result.failed === 0;
    if (!ok) failed++;
    rows.push(
      `${ok ? "ok  " : "FAIL"} ${`${runtime.name} conformance`.padEnd(16)} ${installed.version}: ${result.counts ?? "no result"} in ${result.ms} ms`,
    );
    console.log(rows.at(-1));
    // As the Node run prints them: every case that is not OK, with the reason.
    console.log(result.out.trim().replace(/^/gm, "    "));
  }
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const skipNote = skipped.length > 0 ? `; SKIPPED (could not install): ${skipped.join(", ")}` : "";
console.log(`runtime matrix: ${rows.length - failed} passed, ${failed} failed in ${seconds}s${skipNote}`);
process.exit(failed > 0 ? 1 : 0);
