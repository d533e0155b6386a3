// Exit codes end to end: each way a session fails gives its code and one line on stderr. Peers
// that misbehave on purpose come from the client's test helpers.
import { describe, expect, it } from "vitest";
import {
  onUpgradeRequest,
  type RawServer,
  serverFrame,
  startRawServer,
  startWsServer,
  switchingProtocols,
} from "../../../client/test/helpers/servers.js";
import { deadUrl, expectFailure, jsonl, runCli, startCli } from "../helpers/cli.js";

/** A raw server that answers every upgrade with `response`. */
function answering(response: string): Promise<RawServer> {
  return startRawServer((socket) => onUpgradeRequest(socket, () => socket.end(response)));
}

describe("pipe mode failures: exit codes and one-line reasons", () => {
  it("a refused connection: exit 1", async () => {
    expectFailure(await runCli([await deadUrl()]), 1, /^tideway: connection failed: .*ECONNREFUSED/);
  });

  it("an HTTP 404 answer to the upgrade: exit 3 with the status", async () => {
    const server = await answering(
      "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    try {
      const run = await runCli(["-v", `ws://127.0.0.1:${server.port}/missing`]);
      expectFailure(run, 3, /^tideway: the server refused the upgrade: HTTP 404 Not Found$/);
      expect(run.stderr).toMatch(/^< HTTP\/1\.1 404 Not Found$/m);
    } finally {
      await server.close();
    }
  });

  it("an HTTP 503 answer: exit 3 at once without --reconnect", async () => {
    const server = await answering("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
    try {
      expectFailure(await runCli([`ws://127.0.0.1:${server.port}/`]), 3, /HTTP 503 Service Unavailable$/);
    } finally {
      await server.close();
    }
  });

  it("a close code that is not a normal one: exit 6 with the code and reason", async () => {
    const server = await startWsServer({ echo: false });
    server.wss.on("connection", (ws) => ws.close(4001, "not today"));
    try {
      expectFailure(await runCli([server.url], null), 6, /^tideway: closed abnormally: 4001 not today$/);
    } finally {
      await server.close();
    }
  });

  it("a close 1001 from the server is a normal end: exit 0", async () => {
    const server = await startWsServer({ echo: false });
    server.wss.on("connection", (ws) => ws.close(1001, "bye"));
    try {
      const run = await runCli([server.url], null);
      expect(run).toMatchObject({ code: 0, stderr: "" });
    } finally {
      await server.close();
    }
  });

  it("a protocol error: exit 6 with the close code", async () => {
    const server = await startRawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        socket.write(serverFrame(0x3, "reserved opcode"));
        socket.on("data", () => socket.end()); // the client's close frame
      }),
    );
    try {
      expectFailure(await runCli([server.url], null), 6, /^tideway: protocol error: .*\(close code 1002\)$/);
    } finally {
      await server.close();
    }
  });

  it("our close that the server answers by dropping the connection: exit 6, not 0", async () => {
    const server = await startRawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        socket.on("data", () => socket.destroy()); // the client's close frame: no answer
      }),
    );
    try {
      expectFailure(await runCli([server.url], ""), 6, /^tideway: the close handshake failed \(1006\)$/);
    } finally {
      await server.close();
    }
  });

  it("a message over --max-payload: exit 6 with close code 1009", async () => {
    const server = await startWsServer({ echo: false });
    server.wss.on("connection", (ws) => ws.send("x".repeat(100)));
    try {
      expectFailure(await runCli(["--max-payload", "10", server.url], null), 6, /\(close code 1009\)$/);
    } finally {
      await server.close();
    }
  });

  it("a dropped connection: exit 6; with --reconnect the client connects again", async () => {
    const server = await startWsServer();
    let connections = 0;
    server.wss.on("connection", (ws) => {
      if (++connections === 1) ws.terminate();
    });
    try {
      expectFailure(await runCli([server.url], null), 6, /connection lost without a close frame \(1006\)/);
      connections = 0;
      const cli = await startCli(["--reconnect", "--jsonl", server.url]);
      await cli.waitFor(/"type":"reconnecting".*\n(.*\n)*.*"type":"open"/);
      expect(jsonl(cli.stdout()).filter((e) => e.type === "open")).toHaveLength(2);
      cli.child.stdin?.end();
      expect(await cli.exited()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("bad arguments: exit 2 with one line", async () => {
    expectFailure(await runCli(["--count", "0", "ws://127.0.0.1:9/"]), 2, /--count must be an integer/);
    expectFailure(await runCli(["--bogus", "ws://127.0.0.1:9/"]), 2, /unknown option '--bogus'/);
    expectFailure(await runCli(["ftp://127.0.0.1/"]), 2, /Invalid URL ftp:\/\/127\.0\.0\.1\/: expected ws:/);
    expectFailure(
      await runCli(["--ca", "/nonexistent.pem", "wss://127.0.0.1:9/"]),
      2,
      /cannot read --ca \/nonexistent\.pem: ENOENT/,
    );
  });

  it("--version prints the package's version; --help shows examples; both exit 0", async () => {
    const { version } = (await import("../../package.json", { with: { type: "json" } })).default;
    expect(await runCli(["--version"])).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}tideway ws:\/\//);
    expect(help.stdout).toMatch(/Exit codes: 0 normal close/);
  });
});
