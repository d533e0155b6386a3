// --listen end to end: the server child with its own clients (the bin in pipe mode) and raw sockets.
import net from "node:net";
import { describe, expect, it } from "vitest";
import { runCli, startCli, startServer } from "../helpers/cli.js";

describe("tideway --listen", () => {
  it("binds 127.0.0.1 by default and reports each client with its path and subprotocol", async () => {
    const server = await startServer(["--echo", "-v", "--subprotocol", "b"]);
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const run = await runCli(
      ["--subprotocol", "a", "--subprotocol", "b", "--count", "1", `${server.url}/room?x=1`],
      "hi\n",
    );
    expect(run).toMatchObject({ code: 0, stdout: "hi\n" });
    await server.waitFor(/#1 connected: \/room\?x=1 from 127\.0\.0\.1:\d+, protocol b/, "stderr");
    await server.waitFor(/#1 close: 1000/, "stderr");
    expect(server.stdout()).toBe("hi\n");
  });

  it("--broadcast relays a message to every other client, not back to its sender", async () => {
    const server = await startServer(["--broadcast", "-v"]);
    const listener = await startCli(["--count", "1", server.url]);
    await server.waitFor(/#1 connected/, "stderr");
    const talker = await runCli(["--send", "to all", "--timeout", "0.5", server.url]);
    expect(await listener.exited()).toBe(0);
    expect(listener.stdout()).toBe("to all\n");
    expect(talker).toMatchObject({ code: 0, stdout: "" });
  });

  it("sends its stdin lines to every client (hex-decoded with --binary --hex)", async () => {
    const server = await startServer(["--binary", "--hex", "-v"]);
    const client = await startCli(["--count", "1", "--hex", server.url]);
    await server.waitFor(/#1 connected/, "stderr");
    server.write("c0ffee\n");
    expect(await client.exited()).toBe(0);
    expect(client.stdout()).toBe("c0ffee\n");
  });

  it("stops on SIGTERM: clients get 1001 (a normal end for them), the server exits 0", async () => {
    const server = await startServer([]);
    const client = await startCli(["--jsonl", server.url]);
    await client.waitFor(/"type":"open"/);
    server.child.kill("SIGTERM");
    expect(await server.exited()).toBe(0);
    expect(await client.exited()).toBe(0);
    expect(client.stdout()).toMatch(/"type":"close".*"code":1001,"reason":"server stopping"/);
  });

  it("answers a request that is not an upgrade with 400 and keeps serving", async () => {
    const server = await startServer(["--echo"]);
    const port = Number(new URL(server.url).port);
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString("latin1")));
      socket.on("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await runCli(["--count", "1", server.url], "still here\n")).stdout).toBe("still here\n");
  });

  it("a port in use: exit 1 with the reason; --echo without --listen: exit 2", async () => {
    const server = await startServer([]);
    const port = new URL(server.url).port;
    const busy = await runCli(["--listen", port]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(
      new RegExp(`^tideway: cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE\\n$`),
    );
    const usage = await runCli(["--echo", "ws://127.0.0.1:1/"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--echo and --broadcast need --listen/);
  });
});
