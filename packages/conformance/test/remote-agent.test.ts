/**
 * The remote agent: the Tideway client in another process (here Node itself, through tsx so the
 * sources are under test), driven over stdio through real cases; and a host that cannot start or
 * exits early makes the agent unavailable with the reason, never a hang.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_CASES } from "../src/cases/index.js";
import { type RemoteAgent, remoteAgent } from "../src/remote-agent.js";
import { runAgent } from "../src/runner.js";
import { ConformanceServer } from "../src/server.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const host = fileURLToPath(new URL("../src/agent-host.mjs", import.meta.url));

describe("a remote agent running agent-host.mjs", () => {
  let server: ConformanceServer;
  let agent: RemoteAgent;
  // Echo, ping, fail-fast, close and both compression sections, context takeover included.
  const ids = ["1.1.1", "1.2.8", "2.3", "4.1.1", "6.4.1", "7.3.1", "12.1.3", "13.1.2", "13.3.1"];

  beforeAll(async () => {
    server = await ConformanceServer.start({ cases: ALL_CASES.filter((c) => ids.includes(c.id)) });
    agent = remoteAgent("tideway (remote)", [process.execPath, "--import", "tsx", host], { cwd: root });
  });
  afterAll(async () => {
    await agent.close();
    await server.close();
  });

  it("passes real cases, and names the runtime the host reported", async () => {
    const report = await runAgent(server, agent);
    expect(report.unavailable).toBeUndefined();
    expect(agent.runtime).toBe(`node ${process.version}`);
    expect([...report.results.keys()]).toEqual(ids);
    for (const r of report.results.values()) expect([r.id, r.verdict]).not.toEqual([r.id, "FAILED"]);
  });

  it("ends a run that is stopped, and close() ends the host", async () => {
    // A port nobody answers on the first try: the run ends by itself either way; stop must not throw.
    const run = agent.run("ws://127.0.0.1:9/", {});
    run.stop();
    await run.done;
    await agent.close();
    const after = agent.run(server.caseUrl(1, "late"), {});
    await after.done; // resolves at once: the host is gone
  });
});

describe("a remote agent whose host cannot run", () => {
  it("is unavailable when the command does not exist", async () => {
    const agent = remoteAgent("missing", ["/nonexistent/tideway-runtime"]);
    expect(await agent.unavailable()).toMatch(/did not start: .*ENOENT/);
  });

  it("is unavailable when the host exits before it is ready, with what it printed", async () => {
    const agent = remoteAgent("broken", [
      process.execPath,
      "-e",
      "console.error('no client'); process.exit(3)",
    ]);
    expect(await agent.unavailable()).toMatch(/exited \(code 3\) before it was ready: no client/);
  });

  it("is unavailable when the host never says it is ready", async () => {
    const agent = remoteAgent("silent", [process.execPath, "-e", "setTimeout(() => {}, 60000)"], {
      startTimeoutMs: 300,
    });
    expect(await agent.unavailable()).toMatch(/not ready within 300 ms/);
    await agent.close();
  });
});
