/**
 * Drives agents through the cases against one server and collects the verdicts. Light cases run a
 * few at a time; heavy ones (section 9) run alone so their timing does not skew the others.
 */
import type { Agent } from "./agents.js";
import { DEFAULT_CASE_TIMEOUT_MS } from "./judge.js";
import type { ConformanceServer } from "./server.js";
import type { CaseResult } from "./types.js";

export interface AgentReport {
  agent: string;
  /** Why the agent did not run; undefined when it ran. */
  unavailable: string | undefined;
  /** Keyed by case id. */
  results: Map<string, CaseResult>;
  durationMs: number;
}

export interface RunOptions {
  /** 1-based case indexes to run; default all of the server's cases. */
  indexes?: readonly number[];
  /** Light cases in flight at once. Default 4. */
  concurrency?: number;
  /** Called after each case. */
  onResult?: (agent: string, result: CaseResult) => void;
}

/** Beyond the case's own timeout, the slack for the handshake and the server's closing steps. */
const CASE_SLACK_MS = 5000;
/** After its verdict, the agent gets this long to notice the end of the connection. */
const AGENT_EXIT_MS = 2000;

const timeout = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms).unref());

/** Runs one case through one agent: connect, let the server judge, make sure the client is gone. */
export async function runOne(server: ConformanceServer, agent: Agent, n: number): Promise<CaseResult> {
  const def = server.cases[n - 1]!;
  server.resetResult(agent.name, n);
  const verdict = server.waitForResult(agent.name, n);
  const run = agent.run(server.caseUrl(n, agent.name), def.client);
  const limit = (def.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS) * 2 + CASE_SLACK_MS;
  const result = await Promise.race([verdict, timeout(limit, undefined)]);
  const exited = await Promise.race([run.done.then(() => true), timeout(AGENT_EXIT_MS, false)]);
  if (!exited) run.stop();
  if (result !== undefined && !exited && result.verdict !== "FAILED") {
    // The server is done and TCP is closed: a client whose API still reports the connection as
    // alive (no close event, a `for await` that never ends) hangs its application.
    return {
      ...result,
      verdict: "FAILED",
      reason: `the client did not report the end of the connection within ${AGENT_EXIT_MS} ms after TCP closed (hang); server side: ${result.reason}`,
    };
  }
  if (result === undefined) {
    run.stop();
    return {
      id: def.id,
      verdict: "FAILED",
      reason: "the case never completed (the client did not connect, or the connection never ended)",
      durationMs: limit,
      clientCloseCode: undefined,
    };
  }
  return result;
}

export async function runAgent(
  server: ConformanceServer,
  agent: Agent,
  options: RunOptions = {},
): Promise<AgentReport> {
  const t0 = performance.now();
  const results = new Map<string, CaseResult>();
  const unavailable = await agent.unavailable();
  if (unavailable !== undefined) return { agent: agent.name, unavailable, results, durationMs: 0 };
  const sections = agent.sections;
  const indexes = (options.indexes ?? server.cases.map((_, i) => i + 1)).filter(
    (n) => sections === undefined || sections.includes(server.cases[n - 1]!.id.split(".")[0]!),
  );
  const light = indexes.filter((n) => server.cases[n - 1]?.heavy !== true);
  const heavy = indexes.filter((n) => server.cases[n - 1]?.heavy === true);
  const record = (r: CaseResult) => {
    results.set(r.id, r);
    options.onResult?.(agent.name, r);
  };
  let next = 0;
  const worker = async () => {
    while (next < light.length) {
      const n = light[next++]!;
      record(await runOne(server, agent, n));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  for (const n of heavy) record(await runOne(server, agent, n));
  // Report in case order, whatever order they completed in.
  const ordered = new Map<string, CaseResult>();
  for (const n of indexes) {
    const id = server.cases[n - 1]!.id;
    const r = results.get(id);
    if (r !== undefined) ordered.set(id, r);
  }
  return { agent: agent.name, unavailable, results: ordered, durationMs: Math.round(performance.now() - t0) };
}
