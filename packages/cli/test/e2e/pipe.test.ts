// Pipe mode end to end: the bin as a child process with stdin and stdout as pipes, against its own
// --listen echo server.
import { beforeAll, describe, expect, it } from "vitest";
import { expectFailure, jsonl, runCli, startCli, startServer } from "../helpers/cli.js";

describe("pipe mode against the --listen echo server", () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await startServer(["--echo"], "file"));
  });

  it("sends stdin lines, prints the replies, and exits 0 after --count messages", async () => {
    const run = await runCli(["--count", "3", url], "hello\nwörld\n\n");
    expect(run).toMatchObject({ code: 0, stdout: "hello\nwörld\n\n", stderr: "" });
  });

  it("closes normally at the end of stdin and exits 0", async () => {
    const run = await runCli([url], "one\n");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
  });

  it("--wait keeps receiving after the end of stdin", async () => {
    const run = await runCli(["--wait", "0.5", url], "a\nb\nc\n");
    expect(run).toMatchObject({ code: 0, stdout: "a\nb\nc\n" });
  });

  it("--send is repeatable, does not read stdin, and --jsonl prints one object per event", async () => {
    const run = await runCli(["--send", "x", "--send", "y", "--count", "2", "--jsonl", url], "never sent\n");
    expect(run.code).toBe(0);
    const all = jsonl(run.stdout);
    expect(all.map((e) => e.type)).toEqual(["open", "message", "message", "close"]);
    expect(all[0]).toMatchObject({ status: 101, protocol: "" });
    expect(all.slice(1, 3).map((e) => e.data)).toEqual(["x", "y"]);
    expect(all[3]).toMatchObject({ code: 1000, wasClean: true });
    for (const e of all) expect(Number.isNaN(Date.parse(e.time as string))).toBe(false);
  });

  it("--binary --hex sends hex lines as binary, prints binary as hex, and skips a line that is not hex", async () => {
    const run = await runCli(["--binary", "--hex", "--count", "2", url], "00ff10\nzz\nCAFE\n");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("00ff10\ncafe\n");
    expect(run.stderr).toMatch(/line 2 skipped: not hex/);
  });

  it("--binary --base64 round-trips, and --jsonl marks binary data with its encoding", async () => {
    const run = await runCli(["--binary", "--base64", "--count", "1", "--jsonl", url], "AAEC/w==\n");
    const message = jsonl(run.stdout).find((e) => e.type === "message");
    expect(message).toMatchObject({ data: "AAEC/w==", binary: true, encoding: "base64" });
  });

  it("--binary without an encoding sends the line's UTF-8 bytes as a binary message", async () => {
    const run = await runCli(["--binary", "--hex", "--count", "1", "--send", "é"], "");
    expect(run.code).toBe(2); // a URL is missing: checked before anything is sent
    const sent = await runCli(["--binary", "--count", "1", url], "é\n");
    expect(sent.stdout).toBe(`${Buffer.from("é").toString("base64")}\n`);
  });

  it("--timeout ends a session that waits too long: exit 5", async () => {
    const { url: silent } = await startServer([]);
    const run = await runCli(["--send", "x", "--count", "1", "--timeout", "0.3", silent]);
    expectFailure(run, 5, /^tideway: timed out after 0\.3 s$/);
  });

  it("-v prints the upgrade request and response heads on stderr; --no-compress offers no extension", async () => {
    const run = await runCli(
      ["-v", "--no-compress", "-H", "X-Trace: 42", "--origin", "http://o.test", url],
      "",
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^> GET \/ HTTP\/1\.1$/m);
    expect(run.stderr).toMatch(/^> X-Trace: 42$/m);
    expect(run.stderr).toMatch(/^> Origin: http:\/\/o\.test$/m);
    expect(run.stderr).not.toMatch(/Sec-WebSocket-Extensions/);
    expect(run.stderr).toMatch(/^< HTTP\/1\.1 101 Switching Protocols$/m);
    expect(run.stderr).toMatch(/open: 101 Switching Protocols/);
  });

  it("--subprotocol is offered, and the server's choice is reported", async () => {
    const { url: chat } = await startServer(["--echo", "--subprotocol", "chat.v2"]);
    const run = await runCli(["--subprotocol", "chat.v1", "--subprotocol", "chat.v2", "--jsonl", chat], "");
    expect(jsonl(run.stdout)[0]).toMatchObject({ type: "open", protocol: "chat.v2" });
  });

  it("--heartbeat pings at the interval; --jsonl shows the pongs", async () => {
    const cli = await startCli(["--heartbeat", "0.1", "--jsonl", url]);
    await cli.waitFor(/"type":"pong"/);
    cli.child.stdin?.end();
    expect(await cli.exited()).toBe(0);
  });
});
