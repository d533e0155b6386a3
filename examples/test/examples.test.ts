import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The examples run as a user runs them: a Node process importing the BUILT packages (run `pnpm build`
// first; `pnpm test` does). Each must finish by itself, with exit code 0.
const examples = fileURLToPath(new URL("..", import.meta.url));

function run(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", file],
      { cwd: examples, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("examples", () => {
  it("demo.ts shows the handshake, survives a dropped connection and exits by itself", async () => {
    const { code, stdout, stderr } = await run("demo.ts");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("status: 101");
    expect(stdout.match(/\[proxy\] CONNECT 127\.0\.0\.1:\d+/g)).toHaveLength(2); // both connections

    expect(stdout).toContain("cookie: session=demo");
    expect(stdout).toContain("echo: hello");
    expect(stdout).toMatch(/reconnecting \(attempt 1/);
    expect(stdout).toContain("tick 5/5 on connection #2");
    expect(stdout).toContain("done: 2 connections");
  });

  it("workerman-port.ts runs the Workerman callbacks in order", async () => {
    const { code, stdout } = await run("workerman-port.ts");
    expect(code).toBe(0);
    const order = [
      "handshake response: 101",
      "message: echo: hello",
      "message: echo: second message",
      "closed with 1000",
    ];
    const positions = order.map((line) => stdout.indexOf(line));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("stream-download.ts streams a 64 MiB message through a hash with flat memory", async () => {
    const { code, stdout } = await run("stream-download.ts");
    expect(code).toBe(0);
    const match = /downloaded (\d+) MiB, sha-256 (\w+); peak RSS growth ([\d.]+) MiB/.exec(stdout);
    expect(match?.slice(1, 3)).toEqual(["64", "matches"]);
    expect(Number(match?.[3])).toBeLessThan(48);
  });

  it("streaming-consumer.ts receives every message in order with a bounded heap", async () => {
    const { code, stdout } = await run("streaming-consumer.ts");
    expect(code).toBe(0);
    const match = /received (\d+) messages in order; peak heap ([\d.]+) MiB/.exec(stdout);
    expect(match?.[1]).toBe("20000");
    expect(Number(match?.[2])).toBeLessThan(64);
  });

  it("stream-upload.ts uploads a file as one streamed message, then text from a generator and the streams adapter", async () => {
    const { code, stdout, stderr } = await run("stream-upload.ts");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const file = /file \(sha256 (\w+)\): binary, 8388608 bytes, sha256 (\w+)/.exec(stdout);
    expect(file?.[2]).toBe(file?.[1]);
    expect(stdout).toContain("lines: text, 8890 bytes");
    expect(stdout).toContain("writer: text, 17 bytes");
    expect(stdout).toContain("closed: readyState 3");
  });

  it("graphql-subscription.ts runs graphql-ws on the WebSocket facade; the subscription resumes after a server restart", async () => {
    const { code, stdout, stderr } = await run("graphql-subscription.ts");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const order = [
      "connected",
      "tick 2",
      "server down",
      "server up again",
      "reconnected",
      "tick 0 (after the restart)",
      "tick 2 (after the restart)",
      "done: 6 events",
    ];
    const positions = order.map((line) => stdout.indexOf(line));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("proxied.ts goes through an HTTP CONNECT proxy, after a 407 without credentials", async () => {
    const { code, stdout } = await run("proxied.ts");
    expect(code).toBe(0);
    expect(stdout).toMatch(/proxy: CONNECT 127\.0\.0\.1:\d+/);
    expect(stdout).toContain("refused: WS_ERR_PROXY status 407");
    expect(stdout).toContain("connected through the proxy");
    expect(stdout).toContain("message: echo: hello");
    expect(stdout).toContain("message: echo: through a proxy");
    expect(stdout).toContain("closed");
  });
});
