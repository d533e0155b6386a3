/**
 * Drives the `tideway` bin as a child process (bundled from the sources, so no build is needed):
 * to completion with a given stdin, or as a long-running child whose output a test waits on, in
 * pipes or in a pseudo-terminal (pty-run.py). Every child is killed by its PID when the test ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, expect } from "vitest";
import { bundledBin } from "./bundle.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const PTY_RUN = fileURLToPath(new URL("./pty-run.py", import.meta.url));

/** How long a child may wait for an expected output before the test fails. */
const WAIT_MS = 8_000;

/** Children started by a test (killed after it) and by a beforeAll hook (killed after the file). */
const started = { test: new Set<ChildProcess>(), file: new Set<ChildProcess>() };
function killAll(children: Set<ChildProcess>): void {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
}
afterEach(() => killAll(started.test));
afterAll(() => killAll(started.file));

/** A child's environment: no proxy or colour settings from the machine running the tests. */
function environment(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm", ...extra };
  for (const name of [
    "NO_COLOR",
    "FORCE_COLOR",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "ws_proxy",
    "wss_proxy",
  ]) {
    if (!(name in extra)) {
      delete env[name];
      delete env[name.toUpperCase()];
    }
  }
  for (const [name, value] of Object.entries(extra)) if (value === undefined) delete env[name];
  return env;
}

export interface Cli {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the first match of `pattern` in stdout (or stderr) without its terminal escape
   * sequences (colours, cursor moves), failing after WAIT_MS.
   */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<RegExpMatchArray>;
  write(text: string): void;
  /** Resolves with the exit code once the child exited (its output complete). */
  exited(): Promise<number | null>;
}

const ESC = String.fromCharCode(0x1b);
const ESCAPE_SEQUENCE = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, "g");
/** SGR colour sequences (readline's own cursor moves are not colours). */
export const COLOUR = new RegExp(`${ESC}\\[3\\dm`);

/** Text without its terminal escape sequences. */
export function plain(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "");
}

/** How long a child may live: until the end of the test (default) or of the file (started in beforeAll). */
export type Lifetime = "test" | "file";

function track(child: ChildProcess, lifetime: Lifetime = "test"): Cli {
  started[lifetime].add(child);
  const out = { stdout: "", stderr: "" };
  let changed: () => void = () => {};
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    out.stdout += s;
    changed();
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    out.stderr += s;
    changed();
  });
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    waitFor: (pattern, stream = "stdout") =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          changed = () => {};
          reject(
            new Error(
              `no ${pattern} in ${stream} within ${WAIT_MS} ms:\n${out[stream]}\n--- stderr:\n${out.stderr}`,
            ),
          );
        }, WAIT_MS);
        const check = () => {
          const match = plain(out[stream]).match(pattern);
          if (match === null) return;
          clearTimeout(timer);
          changed = () => {};
          resolve(match);
        };
        changed = check;
        check();
        void exit.then(() => setTimeout(check, 0));
      }),
    write: (text) => child.stdin?.write(text),
    exited: () => exit,
  };
}

/** Starts `tideway args...` with stdin, stdout and stderr as pipes. */
export async function startCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  lifetime: Lifetime = "test",
): Promise<Cli> {
  const bin = await bundledBin();
  return track(
    spawn(process.execPath, [bin, ...args], { cwd: ROOT, env: environment(env), stdio: "pipe" }),
    lifetime,
  );
}

/** Starts `tideway args...` on a pseudo-terminal: stdin and stdout are a TTY (stderr too). */
export async function startInteractive(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<Cli> {
  const command = [PTY_RUN, process.execPath, await bundledBin(), ...args];
  return track(spawn("python3", command, { cwd: ROOT, env: environment(env), stdio: "pipe" }));
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `tideway args...` to its end with `stdin` as its whole input, or with stdin left open (null:
 * for sessions the server ends, which must not race the end of the input).
 */
export async function runCli(
  args: readonly string[],
  stdin: string | null = "",
  env: Record<string, string | undefined> = {},
): Promise<Finished> {
  const cli = await startCli(args, env);
  if (stdin !== null) cli.child.stdin?.end(stdin);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () =>
        reject(new Error(`tideway ${args.join(" ")} still running after ${WAIT_MS} ms:\n${cli.stderr()}`)),
      WAIT_MS,
    ).unref(),
  );
  const code = await Promise.race([cli.exited(), timeout]);
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Starts `tideway --listen 0 args...` and resolves with it and its ws:// URL. */
export async function startServer(
  args: readonly string[] = ["--echo"],
  lifetime: Lifetime = "test",
): Promise<Cli & { url: string }> {
  const server = await startCli(["--listen", "0", ...args], {}, lifetime);
  const [url] = await server.waitFor(/ws:\/\/\S+/, "stderr");
  return { ...server, url };
}

/** A ws:// URL on a loopback port where nothing listens (a refused connection). */
export async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `ws://127.0.0.1:${port}/`;
}

/** Parses --jsonl output: one object per line. */
export function jsonl(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Asserts a failed run: the exit code, the reason as the last line of stderr, no stack trace. */
export function expectFailure(run: Finished, code: number, reason: RegExp): void {
  expect(run.code).toBe(code);
  expect(run.stderr.trim().split("\n").at(-1)).toMatch(reason);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}
