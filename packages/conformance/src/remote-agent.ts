/**
 * An agent whose client runs in another process, typically another runtime (Node 22, Bun, Deno):
 * that process runs agent-host.mjs, which echoes each case's connection with the Tideway client and
 * speaks JSON lines over stdio. The server, the runner and the verdicts stay in this process.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Agent } from "./agents.js";
import type { AgentConfig } from "./types.js";

export interface RemoteAgentOptions {
  /** The agent host's working directory (where `@tideway/client` resolves). Default: this process's. */
  cwd?: string;
  /** The agent host's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** How long the host may take to start and say it is ready. Default 30 s (a cold Deno or Bun). */
  startTimeoutMs?: number;
}

export interface RemoteAgent extends Agent {
  /** What the host reported at start-up ("deno 2.1.4"); undefined until it is ready. */
  readonly runtime: string | undefined;
  /** Ends the host: closes its stdin, then kills it if it has not exited within a second. */
  close(): Promise<void>;
}

/** After its stdin closes, the host gets this long to exit by itself. */
const EXIT_GRACE_MS = 1000;

/**
 * Starts `command` (e.g. `["deno", "run", "--allow-net", "agent-host.mjs"]`) on the first use and
 * drives it as the agent `name`. A host that cannot start, or exits before it is ready, makes the
 * agent unavailable with the reason; one that exits later ends every run in flight.
 */
export function remoteAgent(
  name: string,
  command: readonly string[],
  options: RemoteAgentOptions = {},
): RemoteAgent {
  let child: ChildProcess | undefined;
  let started: Promise<string | undefined> | undefined;
  let runtime: string | undefined;
  let nextId = 0;
  const pending = new Map<number, () => void>();

  const endAll = () => {
    for (const resolve of pending.values()) resolve();
    pending.clear();
  };

  const start = () =>
    new Promise<string | undefined>((resolve) => {
      const [bin, ...args] = command;
      if (bin === undefined) return resolve("no agent host command");
      let output = "";
      const host = spawn(bin, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
      child = host;
      const timer = setTimeout(() => {
        host.kill("SIGKILL");
        resolve(`the agent host was not ready within ${options.startTimeoutMs ?? 30_000} ms: ${output}`);
      }, options.startTimeoutMs ?? 30_000);
      host.stderr?.on("data", (d) => {
        output += d;
      });
      host.on("error", (err) => {
        clearTimeout(timer);
        resolve(`the agent host did not start: ${err.message}`);
      });
      host.on("exit", (code, signal) => {
        clearTimeout(timer);
        endAll();
        resolve(`the agent host exited (${signal ?? `code ${code}`}) before it was ready: ${output.trim()}`);
      });
      createInterface({ input: host.stdout! }).on("line", (line) => {
        let event: { ready?: string; done?: number };
        try {
          event = JSON.parse(line);
        } catch {
          output += `${line}\n`;
          return;
        }
        if (event.ready !== undefined) {
          clearTimeout(timer);
          runtime = event.ready;
          resolve(undefined);
        } else if (event.done !== undefined) {
          pending.get(event.done)?.();
          pending.delete(event.done);
        }
      });
    });

  const write = (command: object) => {
    if (child?.stdin?.writable) child.stdin.write(`${JSON.stringify(command)}\n`);
  };

  return {
    name,
    get runtime() {
      return runtime;
    },
    unavailable() {
      started ??= start();
      return started;
    },
    run(url: string, config: AgentConfig = {}) {
      const id = nextId++;
      const done = new Promise<void>((resolve) => {
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return resolve();
        pending.set(id, resolve);
        write({ run: id, url, config });
      });
      return { done, stop: () => write({ stop: id }) };
    },
    async close() {
      const host = child;
      if (host === undefined || host.exitCode !== null || host.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => host.once("exit", () => resolve()));
      host.stdin?.end();
      const timer = setTimeout(() => host.kill("SIGKILL"), EXIT_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
