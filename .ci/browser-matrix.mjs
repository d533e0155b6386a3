// The browser matrix: headless Chromium (Debian's `chromium` package, at /usr/bin/chromium or
// $CHROMIUM) driven by playwright-core, which downloads no browser. The page loads the built
// @tideway/core from a local HTTP server and runs a client and a server protocol against each other
// (browser-matrix/core-round-trip.mjs). Run after the build. Chromium comes with the system peers
// (ensure-peers.mjs); without one this fails and says how to install it.
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

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
if (!existsSync(join(root, "packages/core/dist/index.js"))) {
  console.log("browser matrix: packages/core/dist is missing; build first (pnpm build)");
  process.exit(1);
}

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
  const file = FILES[pathname] ?? coreModule(pathname);
  if (file === undefined) response.writeHead(404).end();
  else response.writeHead(200, { "content-type": file[0] }).end(file[1]());
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
  if (checks.length === 0 || pageErrors.length > 0) {
    failed++;
    console.log(`FAIL chromium: no checks ran, or the page threw: ${pageErrors.join(" | ")}`);
  }
  console.log(
    `browser matrix: ${checks.length - failed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );
} finally {
  await browser.close();
  http.close();
  clearTimeout(watchdog);
}
process.exit(failed > 0 ? 1 : 0);
