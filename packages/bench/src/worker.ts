// A client process: the driver forks one per measurement, so that no library's state, JIT
// warm-up or heap carries over from one measurement to the next.
import { type AdapterName, loadAdapter } from "./adapters/index.js";
import { type Adapter, AdapterUnavailableError } from "./adapters/types.js";
import { type Metrics, measure } from "./measure.js";
import type { Scenario } from "./scenarios.js";

/** What the driver sends to a worker. */
export interface Job {
  readonly adapter: AdapterName;
  readonly scenario: Scenario;
  /** ws://host:port of the bench server. */
  readonly base: string;
  readonly timeoutMs: number;
}

/** What a worker answers: metrics, or why there are none. */
export type Outcome =
  | { readonly type: "result"; readonly metrics: Metrics }
  | { readonly type: "error"; readonly unavailable: boolean; readonly message: string };

/** Loads the job's adapter and measures; every failure becomes an outcome, never a rejection. */
export async function runInProcess(
  job: Job,
  load: (name: AdapterName) => Promise<Adapter> = loadAdapter,
): Promise<Outcome> {
  try {
    const adapter = await load(job.adapter);
    return { type: "result", metrics: await measure(adapter, job.base, job.scenario, job.timeoutMs) };
  } catch (error) {
    const unavailable = error instanceof AdapterUnavailableError;
    return { type: "error", unavailable, message: (error as Error)?.message ?? String(error) };
  }
}

/**
 * The file "@tideway/client" resolves to in this process: it must be the built package (dist/),
 * never the TypeScript sources (see build.ts for why).
 */
export function checkBuiltClient(resolve: (specifier: string) => string = import.meta.resolve): void {
  const entry = resolve("@tideway/client");
  if (!/\/dist\/index\.js$/.test(entry)) {
    throw new Error(`@tideway/client resolves to ${entry}, not to the built dist/index.js`);
  }
}

// Forked as the bundle worker-bundle.ts builds (see driver.ts), never under a loader.
if (process.send !== undefined && process.argv[1]?.endsWith("worker.mjs")) {
  // The driver going away ends the worker too, so an interrupted run leaves no process behind.
  process.on("disconnect", () => process.exit(1));
  process.once("message", (job: Job) => {
    const load = (name: AdapterName) => {
      if (name === "tideway") checkBuiltClient();
      return loadAdapter(name);
    };
    void runInProcess(job, load).then((outcome) => {
      process.send!(outcome, () => process.exit(0));
    });
  });
}
