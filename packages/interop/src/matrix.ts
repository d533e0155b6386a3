/** Runs every check against every peer: start the peer, run the checks one by one, stop the peer. */
import type { WebSocketClient } from "@tideway/client";
import type { Check, CheckGroup } from "./checks.js";
import type { Peer, PeerSpec } from "./servers/peer.js";
import { withTimeout } from "./session.js";

export type Status = "pass" | "fail" | "n/a";

export interface CheckResult {
  readonly group: CheckGroup;
  readonly check: string;
  readonly status: Status;
  readonly ms: number;
  readonly detail: string;
}

export interface ServerResult {
  readonly server: string;
  readonly description: string;
  /** Library versions, once started. */
  readonly version: string;
  readonly deflate: boolean | null;
  readonly results: readonly CheckResult[];
}

export interface MatrixResult {
  readonly startedAt: string;
  readonly node: string;
  readonly servers: readonly ServerResult[];
}

const START_TIMEOUT_MS = 20_000;

export function failures(matrix: MatrixResult): number {
  return matrix.servers.reduce((n, s) => n + s.results.filter((r) => r.status === "fail").length, 0);
}

let ids = 0;

async function runCheck(peer: Peer, check: Check): Promise<CheckResult> {
  const clients: WebSocketClient[] = [];
  const started = performance.now();
  let status: Status;
  let detail: string;
  try {
    const outcome = await withTimeout(
      check.run({ peer, track: (c) => clients.push(c), newId: () => `c${++ids}` }),
      check.timeoutMs,
      `the whole check (limit ${check.timeoutMs} ms)`,
    );
    status = outcome.status;
    detail = outcome.detail;
  } catch (err) {
    status = "fail";
    detail =
      err instanceof Error
        ? `${err.name === "CheckFailed" ? "" : `${err.name}: `}${err.message}`
        : String(err);
  }
  const ms = performance.now() - started;
  // Whatever happened, nothing outlives the check: a failed check must not disturb the next one.
  for (const client of clients) client.terminate();
  return { group: check.group, check: check.name, status, ms: Math.round(ms * 10) / 10, detail };
}

/** Runs `checks` against each peer in turn. A peer that cannot start fails every one of its checks. */
export async function runMatrix(
  specs: readonly PeerSpec[],
  checks: readonly Check[],
  log: (line: string) => void = () => {},
): Promise<MatrixResult> {
  const startedAt = new Date().toISOString();
  const servers: ServerResult[] = [];
  for (const spec of specs) {
    let peer: Peer;
    try {
      peer = await withTimeout(spec.start(), START_TIMEOUT_MS, `${spec.name} to start`);
    } catch (err) {
      const reason = `server did not start: ${err instanceof Error ? err.message : String(err)}`;
      log(`${spec.name}: ${reason}`);
      servers.push({
        server: spec.name,
        description: spec.description,
        version: "not started",
        deflate: null,
        results: checks.map((c) => ({
          group: c.group,
          check: c.name,
          status: "fail",
          ms: 0,
          detail: reason,
        })),
      });
      continue;
    }
    log(`${spec.name}: ${peer.version} at ${peer.url}`);
    const results: CheckResult[] = [];
    try {
      for (const check of checks) {
        const result = await runCheck(peer, check);
        results.push(result);
        log(
          `  ${result.status.padEnd(4)} ${check.name} (${result.ms} ms)${result.status === "fail" ? `: ${result.detail}` : ""}`,
        );
      }
    } finally {
      await peer.stop();
    }
    servers.push({
      server: spec.name,
      description: spec.description,
      version: peer.version,
      deflate: peer.deflate,
      results,
    });
  }
  return { startedAt, node: process.version, servers };
}
