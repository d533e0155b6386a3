/**
 * Child processes of the harness: started with a deadline to become ready, stopped by their PID, and
 * killed when the harness exits, whatever the reason, so that no peer outlives a run.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { PeerStartError } from "./peer.js";

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // "exit" listeners must be synchronous: a SIGKILL by PID is.
  process.on("exit", () => {
    for (const child of live) if (child.pid !== undefined) safeKill(child.pid, "SIGKILL");
  });
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export interface Spawned {
  readonly child: ChildProcess;
  /** stderr so far (bounded), for error messages. */
  stderr(): string;
  /** SIGTERM by PID, SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `command`; its stdout lines go to `onLine`. stdin stays an open pipe (peers exit at its EOF). */
export function spawnPeer(command: string, args: readonly string[], onLine: (line: string) => void): Spawned {
  installExitHook();
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  live.add(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    if (stderr.length < 16_384) stderr += chunk;
  });
  // A peer that dies makes its stdin pipe fail with EPIPE: that is reported by the checks, not thrown.
  child.stdin?.on("error", () => {});
  child.on("error", () => {});
  if (child.stdout !== null) createInterface({ input: child.stdout }).on("line", onLine);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once("exit", () => resolve());
  });
  exited.then(() => live.delete(child));
  return {
    child,
    stderr: () => stderr,
    async stop(graceMs = 2_000) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.stdin?.end();
      safeKill(child.pid, "SIGTERM");
      const timer = setTimeout(() => child.pid !== undefined && safeKill(child.pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves when `check` returns a value, polling; rejects with `describe()` at the deadline or if the child exits. */
export async function waitUntil<T>(
  spawned: Spawned,
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const { exitCode, signalCode } = spawned.child;
    if (exitCode !== null || signalCode !== null) {
      throw new PeerStartError(
        `${what}: the process exited (${exitCode ?? signalCode}) before it was ready: ${spawned.stderr().trim()}`,
      );
    }
    if (Date.now() > deadline) {
      throw new PeerStartError(`${what}: not ready after ${timeoutMs} ms: ${spawned.stderr().trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Fails with the Debian package to install when a system peer is missing: the matrix never skips a
 * server silently.
 */
export function requireDebian(debianPackage: string, command: string, args: readonly string[]): void {
  const run = spawnSync(command, args, { stdio: "ignore", timeout: 10_000 });
  if (run.status !== 0) {
    throw new PeerStartError(
      `missing Debian package ${debianPackage} (\`${[command, ...args].join(" ")}\` failed): ` +
        `install it with \`apt-get install -y ${debianPackage}\``,
    );
  }
}
