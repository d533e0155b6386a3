// The browser matrix: headless Chromium (Debian's `chromium` package, at /usr/bin/chromium or
// $CHROMIUM) driven by playwright-core, which downloads no browser. From a local HTTP server, the
// page loads the built @tideway/core and runs a client and a server protocol against each other
// (browser-matrix/core-round-trip.mjs); then the example under examples/browser/ runs the browser
// build of @tideway/client (bundled by esbuild, as an app's bundler would) against a `ws` server on
// the same port, in the page and in a Web Worker. Run after the build. Chromium comes with the
// system peers (ensure-peers.mjs); without one this fails and says how to install it.
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { WebSocketServer } from "ws";

const root = fileURLToPath(new URL("..", import.meta.url));
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** The whole run: start-up of Chromium on a loaded machine, then checks that take milliseconds. */
const RUN_TIMEOUT = 60_000;

/** What the page may load: the built core and the round trip. */
const FILES = {
  "/": ["text/html", () => "<!doctype html><title>tideway browser matrix</title>"],
  "/core/index.js": ["text/javascript", () => readFileSync(join(root, "packages/core/dist/index.js"))],
  "/core-round-trip.mjs": [
    "text/javascript",
    () => readFileSync(join(root, ".ci/browser-matrix/core-round-trip.mjs")),
  ],
};

if (!existsSync(executablePath)) {
  console.log(`browser matrix: no ${executablePath}; apt-get install -y chromium, or set CHROMIUM`);
  process.exit(1);
}
for (const built of ["packages/core/dist/index.js", "packages/client/dist/browser/index.js"]) {
  if (!existsSync(join(root, built))) {
    console.log(`browser matrix: ${built} is missing; build first (pnpm build)`);
    process.exit(1);
  }
}

/** An example script bundled as an app's bundler would: the "browser" condition, no tsconfig paths. */
async function bundle(entry) {
  const result = await build({
    entryPoints: [join(root, "examples/browser", entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    tsconfigRaw: {},
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].contents;
}
const EXAMPLE = {
  "/examples/browser/index.html": ["text/html", readFileSync(join(root, "examples/browser/index.html"))],
  "/examples/browser/app.js": ["text/javascript", await bundle("app.js")],
  "/examples/browser/worker.js": ["text/javascript", await bundle("worker.js")],
};

const started = Date.now();
const watchdog = setTimeout(() => {
  console.log(`browser matrix: FAILED, no result within ${RUN_TIMEOUT} ms`);
  process.exit(1);
}, RUN_TIMEOUT);

/** A module of the built core (its entry imports shared chunks): /core/<name>.js, no other path. */
function coreModule(pathname) {
  const name = /^\/core\/([\w.-]+\.js)$/.exec(pathname)?.[1];
  const file = name === undefined ? undefined : join(root, "packages/core/dist", name);
  return file !== undefined && existsSync(file) ? ["text/javascript", () => readFileSync(file)] : undefined;
}

const http = createServer((request, response) => {
  const pathname = new URL(request.url, "http://localhost").pathname;
  const example = EXAMPLE[pathname];
  const file = FILES[pathname] ?? coreModule(pathname);
  if (example !== undefined) response.writeHead(200, { "content-type": example[0] }).end(example[1]);
  else if (file === undefined) response.writeHead(404).end();
  else response.writeHead(200, { "content-type": file[0] }).end(file[1]());
});
// The example's server (examples/browser/app.js): echoes, answers "ping" with "pong", drops on "drop".
const wss = new WebSocketServer({
  server: http,
  path: "/echo",
  handleProtocols: (offered) => offered.values().next().value ?? false,
});
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? undefined : String(data);
    if (text === "drop") ws.terminate();
    else ws.send(text === "ping" ? "pong" : data, { binary: isBinary });
  });
});
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${http.address().port}`;

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = 0;
try {
  const version = browser.version();
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  await page.goto(`${origin}/`);
  const checks = await page.evaluate(async () => (await import("/core-round-trip.mjs")).run());
  for (const c of checks) {
    if (!c.ok) failed++;
    console.log(
      `${c.ok ? "ok  " : "FAIL"} chromium ${version} core: ${c.check}${c.ok ? "" : `\n    ${c.error}`}`,
    );
  }
  await page.goto(`${origin}/examples/browser/index.html`);
  // Where the runtime has WebSocketStream, the client's checks below run over it (stream-socket.ts).
  const stream = await page.evaluate(() => typeof globalThis.WebSocketStream);
  const streamCheck = { check: "WebSocketStream exists: the client runs over it", ok: stream === "function" };
  if (!streamCheck.ok) streamCheck.error = `typeof WebSocketStream is ${stream}`;
  const pageResults = await page.evaluate(() => globalThis.results);
  const inPage = [streamCheck, ...pageResults];
  const inWorker = await page.evaluate(
    (url) =>
      new Promise((resolve, reject) => {
        const worker = new Worker("/examples/browser/worker.js", { type: "module" });
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event) => reject(new Error(event.message));
        worker.postMessage(url);
      }),
    `${origin.replace("http:", "ws:")}/echo`,
  );
  for (const [where, results] of [
    ["client (page)", inPage],
    ["client (worker)", inWorker],
  ]) {
    for (const c of results) {
      checks.push(c);
      if (!c.ok) failed++;
      console.log(
        `${c.ok ? "ok  " : "FAIL"} chromium ${version} ${where}: ${c.check}${c.ok ? "" : `\n    ${c.error}`}`,
      );
    }
  }
  if (checks.length === 0 || pageResults.length === 0 || inWorker.length === 0 || pageErrors.length > 0) {
    failed++;
    console.log(`FAIL chromium: no checks ran, or the page threw: ${pageErrors.join(" | ")}`);
  }
  console.log(
    `browser matrix: ${checks.length - failed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
} finally {
  await browser.close();
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  http.close();
  clearTimeout(watchdog);
}
process.exit(failed > 0 ? 1 : 0);
