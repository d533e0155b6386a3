/**
 * Drives the `tideway` bin as a child process (run from the sources with tsx, so no build is needed):
 * to completion with a given stdin, or as a long-running child whose output a test waits on, in
 * pipes or in a pseudo-terminal (pty-run.py). Every child is killed by its PID when the test ends.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const MAIN = "packages/cli/src/main.ts";
const PTY_RUN = fileURLToPath(new URL("./pty-run.py", import.meta.url));
const NODE = [process.execPath, "--import", "tsx", MAIN];

/** How long a child may wait for an expected output before the test fails. */
const WAIT_MS = 8_000;

const started = new Set<ChildProcess>();
afterEach(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  started.clear();
});

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
  /** Resolves with the first match of `pattern` in stdout (or stderr), failing after WAIT_MS. */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<RegExpMatchArray>;
  write(text: string): void;
  /** Resolves with the exit code once the child exited (its output complete). */
  exited(): Promise<number | null>;
}

function track(child: ChildProcess): Cli {
  started.add(child);
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
          const match = out[stream].match(pattern);
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
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): Cli {
  const [command, ...rest] = NODE as [string, ...string[]];
  return track(spawn(command, [...rest, ...args], { cwd: ROOT, env: environment(env), stdio: "pipe" }));
}

/** Starts `tideway args...` on a pseudo-terminal: stdin and stdout are a TTY (stderr too). */
export function startInteractive(args: readonly string[], env: Record<string, string | undefined> = {}): Cli {
  return track(
    spawn("python3", [PTY_RUN, ...NODE, ...args], { cwd: ROOT, env: environment(env), stdio: "pipe" }),
  );
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tideway args...` to its end with `stdin` as its whole input (none: stdin closed at once). */
export async function runCli(
  args: readonly string[],
  stdin = "",
  env: Record<string, string | undefined> = {},
): Promise<Finished> {
  const cli = startCli(args, env);
  cli.child.stdin?.end(stdin);
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
export async function startServer(args: readonly string[] = ["--echo"]): Promise<Cli & { url: string }> {
  const server = startCli(["--listen", "0", ...args]);
  const [url] = await server.waitFor(/ws:\/\/\S+/, "stderr");
  return { ...server, url };
}
