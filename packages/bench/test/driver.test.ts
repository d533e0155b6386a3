// The driver's schedule and bookkeeping (with a fake job runner), then the real thing: forked
// workers with --expose-gc against the server process.

import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { AdapterUnavailableError } from "../src/adapters/types.js";
import { type Plan, runPlan, startServerProcess } from "../src/driver.js";
import type { Scenario } from "../src/scenarios.js";
import { type Job, type Outcome, runInProcess } from "../src/worker.js";

const idle: Scenario = {
  id: "i",
  title: "i",
  kind: "idle",
  connections: 50,
  metrics: [{ key: "heap", unit: "KiB/conn", better: "lower" }],
};
const base: Omit<Plan, "adapters" | "scenarios" | "repetitions" | "log"> = {
  baseline: "ws",
  timeoutMs: 20_000,
  quick: true,
  command: "test",
  machine: {},
};

describe("runInProcess", () => {
  const job: Job = { adapter: "tideway", scenario: idle, base: "ws://127.0.0.1:1", timeoutMs: 1_000 };
  it("reports an adapter that cannot load as unavailable", async () => {
    const outcome = await runInProcess(job, async () => {
      throw new AdapterUnavailableError("no WebSocketClient export");
    });
    expect(outcome).toEqual({ type: "error", unavailable: true, message: "no WebSocketClient export" });
  });
  it("reports any other failure as an error of this measurement", async () => {
    const outcome = await runInProcess(job, async () => {
      throw new Error("boom");
    });
    expect(outcome).toEqual({ type: "error", unavailable: false, message: "boom" });
  });
});

describe("runPlan", () => {
  it("does not schedule an adapter the scenario marks not applicable", async () => {
    const jobs: string[] = [];
    const out = await runPlan({
      ...base,
      adapters: ["tideway", "ws", "undici"],
      scenarios: [{ ...idle, notApplicable: { undici: "cannot" } }],
      repetitions: 2,
      log: () => {},
      runJob: async (job) => {
        jobs.push(job.adapter);
        return { type: "result", metrics: { heap: 1 } };
      },
    });
    expect(jobs.sort()).toEqual(["tideway", "tideway", "ws", "ws"]);
    expect(out.scenarios[0]?.runs.undici).toEqual([]);
    expect(out.unavailable).toEqual({});
  });

  it("rotates adapters, stops scheduling an unavailable one, and keeps errors apart from values", async () => {
    const jobs: string[] = [];
    const fake = async (job: Job): Promise<Outcome> => {
      jobs.push(job.adapter);
      if (job.adapter === "tideway") return { type: "error", unavailable: true, message: "not built" };
      if (job.adapter === "undici" && jobs.length > 4)
        return { type: "error", unavailable: false, message: "lost" };
      return { type: "result", metrics: { heap: job.adapter === "ws" ? 4 : 8 } };
    };
    const out = await runPlan({
      ...base,
      adapters: ["tideway", "ws", "undici"],
      scenarios: [idle],
      repetitions: 3,
      log: () => {},
      runJob: fake,
    });
    // Order per repetition: A B C, then B C A (A unavailable: skipped), then C A B.
    expect(jobs).toEqual(["tideway", "ws", "undici", "ws", "undici", "undici", "ws"]);
    expect(out.unavailable).toEqual({ tideway: "not built" });
    const runs = out.scenarios[0]!.runs;
    expect(runs.tideway).toEqual([]);
    expect(runs.ws?.map((r) => r.metrics?.heap)).toEqual([4, 4, 4]);
    expect(runs.undici?.map((r) => r.error ?? r.metrics?.heap)).toEqual([8, "lost", "lost"]);
  });

  it("runs each measurement in a forked worker against the server process", async () => {
    const lines: string[] = [];
    const out = await runPlan({
      ...base,
      adapters: ["ws", "undici"],
      scenarios: [idle],
      repetitions: 2,
      log: (line) => lines.push(line),
    });
    expect(lines.filter((l) => l.includes("ERROR"))).toEqual([]);
    // Rotated order, and the idle scenario got its --expose-gc.
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "rep 1/2 i ws",
      "rep 1/2 i undici",
      "rep 2/2 i undici",
      "rep 2/2 i ws",
    ]);
    expect(out.scenarios[0]?.runs.ws?.[0]?.metrics?.heap).toBeGreaterThan(0);
  }, 60_000);
});

describe("startServerProcess", () => {
  it("reports whether the server still holds a connection", async () => {
    const server = await startServerProcess();
    try {
      expect(await server.quiet(1_000)).toBe(true);
      const socket = connect(Number(new URL(server.base).port), "127.0.0.1");
      // Once the 101 arrives the server has surely accepted the connection.
      socket.write(
        "GET /idle HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
      );
      const answer = await new Promise<Buffer>((resolve) => socket.once("data", resolve));
      expect(answer.toString()).toMatch(/^HTTP\/1.1 101 /);
      expect(await server.quiet(200)).toBe(false);
      socket.destroy();
      expect(await server.quiet(5_000)).toBe(true);
    } finally {
      server.child.kill("SIGTERM");
    }
  }, 30_000);
});
