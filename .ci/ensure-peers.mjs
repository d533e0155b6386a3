// Makes sure the real servers the interop tests talk to are installed: Python's `websockets` and
// aiohttp, nginx, tinyproxy and openssl, all from Debian; and Chromium, the browser matrix's browser. Installs them with apt-get when running as
// root (as CI does); otherwise says exactly what to install and fails, rather than letting the
// tests that need them skip.
import { spawnSync } from "node:child_process";

const PYTHON = "/usr/bin/python3";
const checks = [
  { what: "python3-websockets", ok: () => run(PYTHON, ["-c", "import websockets"]) },
  { what: "python3-aiohttp", ok: () => run(PYTHON, ["-c", "import aiohttp"]) },
  { what: "nginx-light", ok: () => run("sh", ["-c", "command -v nginx || test -x /usr/sbin/nginx"]) },
  { what: "tinyproxy", ok: () => run("sh", ["-c", "command -v tinyproxy || test -x /usr/bin/tinyproxy"]) },
  { what: "openssl", ok: () => run("sh", ["-c", "command -v openssl"]) },
  { what: "chromium", ok: () => run("sh", ["-c", "test -x /usr/bin/chromium"]) },
];

function run(command, args) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

const missing = checks.filter((check) => !check.ok()).map((check) => check.what);
if (missing.length === 0) {
  console.log("system peers: all present");
  process.exit(0);
}
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot || !run("sh", ["-c", "command -v apt-get"])) {
  console.error(
    `Missing Debian packages: ${missing.join(" ")}. Install them: sudo apt-get install -y ${missing.join(" ")}`,
  );
  process.exit(1);
}
console.log(`system peers: installing ${missing.join(" ")} with apt-get`);
const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const update = spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env: aptEnv });
const install = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {
  stdio: "inherit",
  env: aptEnv,
});
if (update.status !== 0 || install.status !== 0) process.exit(1);
const still = checks.filter((check) => !check.ok()).map((check) => check.what);
if (still.length > 0) {
  console.error(`still missing after apt-get: ${still.join(" ")}`);
  process.exit(1);
}
