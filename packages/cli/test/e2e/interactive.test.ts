// Interactive mode end to end: the bin on a pseudo-terminal (pty-run.py), typed lines and commands,
// against its own --listen server.
import { beforeAll, describe, expect, it } from "vitest";
import { type Cli, COLOUR, deadUrl, runCli, startInteractive, startServer } from "../helpers/cli.js";

describe("interactive mode on a terminal", () => {
  let server: Cli & { url: string };
  beforeAll(async () => {
    server = await startServer(["--echo", "-v"], "file");
  });

  it("prompts, sends typed lines, prints replies with time and direction, in colour", async () => {
    const cli = await startInteractive([server.url]);
    await cli.waitFor(/open: 101 Switching Protocols/);
    await cli.waitFor(/> /);
    cli.write("hello there\r");
    await cli.waitFor(/\d\d:\d\d:\d\d\.\d{3} < hello there/);
    expect(cli.stdout()).toMatch(COLOUR);
    cli.write("\x04"); // Ctrl-D: close normally and exit
    expect(await cli.exited()).toBe(0);
    expect(cli.stdout()).toMatch(/close: 1000/);
  });

  it("/ping prints the round trip, /binary sends bytes, /close sends the code and reason", async () => {
    const cli = await startInteractive(["--hex", server.url]);
    await cli.waitFor(/> /);
    cli.write("/ping\r");
    await cli.waitFor(/pong: round trip \d+\.\d ms/);
    cli.write("/binary 00ff\r");
    await cli.waitFor(/< \[hex\] 00ff/);
    cli.write("/binary base64 AAE=\r");
    await cli.waitFor(/< \[hex\] 0001/);
    cli.write("//not a command\r");
    await cli.waitFor(/< \/not a command/);
    cli.write("/close 4000 done here\r");
    expect(await cli.exited()).toBe(0);
    await server.waitFor(/#\d+ close: 4000 done here/, "stderr");
  });

  it("reports mistakes without ending the session: unknown command, bad data, bad close code", async () => {
    const cli = await startInteractive(["--no-reconnect", server.url]);
    await cli.waitFor(/> /);
    cli.write("/frobnicate\r");
    await cli.waitFor(/unknown command \/frobnicate/);
    cli.write("/binary hex 0g\r");
    await cli.waitFor(/\/binary: not hex/);
    cli.write("/binary A\r");
    await cli.waitFor(/\/binary: not base64/);
    cli.write("/close 1005\r");
    await cli.waitFor(/\/close: .*1005/);
    cli.write("still open\r");
    await cli.waitFor(/< still open/);
    cli.write("\x03"); // Ctrl-C: close normally and exit
    expect(await cli.exited()).toBe(0);
  });

  it("/reconnect opens a new connection; a server going away is retried (reconnect is on by default)", async () => {
    const own = await startServer(["--echo", "-v"]);
    const cli = await startInteractive([own.url]);
    await cli.waitFor(/> /);
    cli.write("/reconnect\r");
    await cli.waitFor(/close: 1000[\s\S]*open: 101/);
    await own.waitFor(/#2 connected/, "stderr");
    own.child.kill("SIGTERM");
    await cli.waitFor(/close: 1001 server stopping[\s\S]*reconnecting: attempt \d+ in \d+ ms/);
    cli.write("\x03"); // Ctrl-C stops retrying
    expect(await cli.exited()).toBe(0);
  });

  it("NO_COLOR turns colours off", async () => {
    const cli = await startInteractive([server.url], { NO_COLOR: "1" });
    await cli.waitFor(/> /);
    cli.write("plain\r");
    await cli.waitFor(/< plain/);
    cli.write("\x04");
    expect(await cli.exited()).toBe(0);
    expect(cli.stdout()).not.toMatch(COLOUR);
  });

  it("a refused connection: reconnecting is shown; with --no-reconnect exit 1 with one line", async () => {
    const url = await deadUrl();
    const retrying = await startInteractive([url]);
    await retrying.waitFor(/reconnecting: attempt \d+ in \d+ ms \(.*ECONNREFUSED/);
    retrying.write("\x03");
    expect(await retrying.exited()).toBe(0);
    const once = await startInteractive(["--no-reconnect", url]);
    expect(await once.exited()).toBe(1);
    expect(once.stdout()).toMatch(/tideway: connection failed: .*ECONNREFUSED/);
    expect(once.stdout()).not.toMatch(/^\s+at /m);
  });

  it("bad arguments on a terminal: exit 2", async () => {
    const cli = await startInteractive(["--heartbeat", "soon", "ws://127.0.0.1:1/"]);
    expect(await cli.exited()).toBe(2);
    expect(cli.stdout()).toMatch(/--heartbeat must be a number of seconds/);
    // The same check in pipe mode, for comparison: the same code.
    expect((await runCli(["--heartbeat", "soon", "ws://127.0.0.1:1/"])).code).toBe(2);
  });
});
