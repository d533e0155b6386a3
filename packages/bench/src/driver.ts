// The driver: starts the bench server, forks one client process per measurement (adapters rotated
// every repetition), and collects the results. Every child is bounded in time and killed by PID.
import { type ChildProcess, fork } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ADAPTER_ENV_KEYS, type AdapterName, adapterEnv } from "./adapters/index.js";
import type { Results, Run } from "./results.js";
import type { Scenario } from "./scenarios.js";
import { rotation } from "./stats.js";
import type { Job, Outcome } from "./worker.js";
import { workerBundle } from "./worker-bundle.js";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** The tsx loader (for the server only), resolved from here so the driver works from any directory. */
const TSX = import.meta.resolve("tsx");
/** This package's tsconfig, which has no `paths`. */
const TSCONFIG = here("../tsconfig.json");
/** Extra time the driver grants a worker beyond its own deadline before killing it. */
const KILL_GRACE_MS = 15_000;
/** How long a measurement waits for the previous one's connections to be gone from the server. */
const SERVER_QUIET_MS = 10_000;

const children = new Set<ChildProcess>();

/** Kills every child this driver started, by PID (used on exit and on interrupt). */
export function killChildren(): void {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) child.kill("SIGKILL");
  children.clear();
}

/** How much of a worker's own output is kept, to explain a failure. */
const OUTPUT_TAIL = 2048;

/** Forks `file` with exactly `execArgv` (not the driver's own, which load tsx). */
function spawn(file: string, env: NodeJS.ProcessEnv, execArgv: string[], pipe: boolean): ChildProcess {
  const child = fork(file, [], {
    execArgv,
    env,
    stdio: ["ignore", pipe ? "pipe" : "inherit", pipe ? "pipe" : "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** The bench server process, as the driver sees it. */
export interface ServerProcess {
  /** ws://127.0.0.1:port */
  readonly base: string;
  readonly child: ChildProcess;
  /** Resolves once the server holds no connection, or after `ms` (then false). */
  quiet(ms: number): Promise<boolean>;
}

/** Starts the bench server process. */
export function startServerProcess(): Promise<ServerProcess> {
  const env = { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG };
  const child = spawn(here("./server.ts"), env, ["--import", TSX], false);
  const counts: ((count: number) => void)[] = [];
  const connections = () =>
    new Promise<number>((resolve) => {
      counts.push(resolve);
      child.send({ type: "connections" });
    });
  const quiet = async (ms: number) => {
    const until = performance.now() + ms;
    while (child.exitCode === null) {
      // A server too busy to answer within a second counts as not quiet.
      const count = await Promise.race([connections(), sleep(1_000, -1)]);
      if (count === 0) return true;
      if (performance.now() > until) return false;
      await sleep(20);
    }
    return false;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the bench server did not start in 20 s"));
    }, 20_000);
    child.on("message", (message: { type: string; port?: number; count?: number }) => {
      if (message.type === "listening") {
        clearTimeout(timer);
        resolve({ base: `ws://127.0.0.1:${message.port}`, child, quiet });
      } else if (message.type === "connections") {
        counts.shift()?.(message.count ?? 0);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      for (const pending of counts.splice(0)) pending(0);
      reject(new Error(`the bench server exited with ${code}`));
    });
  });
}

/** Runs one measurement in a fresh process; never rejects, never outlives its deadline. */
export function runJob(job: Job): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ADAPTER_ENV_KEYS) delete env[key];
  Object.assign(env, adapterEnv(job.adapter));
  // A library's own logging stays out of the report; its tail explains a crash.
  // Plain node on plain JavaScript: the measured process loads what a user's would (worker-bundle.ts).
  const child = spawn(workerBundle(), env, ["--expose-gc"], true);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return new Promise((resolve) => {
    let outcome: Outcome | undefined;
    const timer = setTimeout(() => {
      outcome ??= {
        type: "error",
        unavailable: false,
        message: `killed after ${job.timeoutMs + KILL_GRACE_MS} ms`,
      };
      child.kill("SIGKILL");
    }, job.timeoutMs + KILL_GRACE_MS);
    child.once("message", (message: Outcome) => {
      outcome ??= message;
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const tail = output.trim().split("\n").slice(-3).join(" / ");
      resolve(
        outcome ?? {
          type: "error",
          unavailable: false,
          message: `worker exited (${code ?? signal}): ${tail}`,
        },
      );
    });
    child.send(job);
  });
}

export interface Plan {
  readonly adapters: readonly AdapterName[];
  readonly baseline: AdapterName;
  readonly scenarios: readonly Scenario[];
  readonly repetitions: number;
  readonly timeoutMs: number;
  readonly quick: boolean;
  readonly command: string;
  readonly machine: Record<string, string | number>;
  readonly log: (line: string) => void;
  /** How one measurement runs; a fresh forked process (runJob) unless a test replaces it. */
  readonly runJob?: (job: Job) => Promise<Outcome>;
}

export async function runPlan(plan: Plan): Promise<Results> {
  const started = performance.now();
  const runs = new Map(
    plan.scenarios.map((s) => [s.id, new Map<string, Run[]>(plan.adapters.map((a) => [a, []]))]),
  );
  const unavailable: Record<string, string> = {};
  const server = await startServerProcess();
  const base = server.base;
  try {
    for (let rep = 0; rep < plan.repetitions; rep++) {
      for (const scenario of plan.scenarios) {
        for (const adapter of rotation(plan.adapters, rep)) {
          if (adapter in unavailable || scenario.notApplicable?.[adapter] !== undefined) continue;
          if (server.child.exitCode !== null) throw new Error("the bench server died");
          if (!(await server.quiet(SERVER_QUIET_MS))) plan.log(`warning: the server still holds connections`);
          const jobStart = performance.now();
          const outcome = await (plan.runJob ?? runJob)({
            adapter,
            scenario,
            base,
            timeoutMs: plan.timeoutMs,
          });
          const seconds = Math.round(performance.now() - jobStart) / 1000;
          const list = runs.get(scenario.id)!.get(adapter)!;
          if (outcome.type === "result") {
            list.push({ rep, seconds, metrics: outcome.metrics });
            const shown = Object.entries(outcome.metrics).map(([k, v]) => `${k}=${v.toPrecision(4)}`);
            plan.log(`rep ${rep + 1}/${plan.repetitions} ${scenario.id} ${adapter}: ${shown.join(" ")}`);
          } else if (outcome.unavailable) {
            unavailable[adapter] = outcome.message;
            plan.log(`${adapter}: not available (${outcome.message})`);
          } else {
            list.push({ rep, seconds, error: outcome.message });
            plan.log(
              `rep ${rep + 1}/${plan.repetitions} ${scenario.id} ${adapter}: ERROR ${outcome.message}`,
            );
          }
        }
      }
    }
  } finally {
    server.child.kill("SIGTERM");
  }
  return {
    command: plan.command,
    date: new Date().toISOString(),
    quick: plan.quick,
    repetitions: plan.repetitions,
    durationSeconds: (performance.now() - started) / 1000,
    machine: plan.machine,
    baseline: plan.baseline,
    adapters: plan.adapters,
    unavailable,
    scenarios: plan.scenarios.map((s) => ({ ...s, runs: Object.fromEntries(runs.get(s.id)!) })),
  };
}
