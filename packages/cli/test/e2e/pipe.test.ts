// Pipe mode end to end: the bin as a child process with stdin and stdout as pipes, against its own
// --listen server or the client tests' servers (TLS, raw HTTP, close codes, redirects, proxy).
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpsConnectProxy } from "../../../client/test/helpers/proxies.js";
import {
  onUpgradeRequest,
  type RawServer,
  serverFrame,
  startRawServer,
  startWsServer,
  startWssServer,
  switchingProtocols,
} from "../../../client/test/helpers/servers.js";
import { createTestCertificate, type TestCertificate } from "../../../client/test/interop/helpers/tls.js";
import { runCli, startCli, startServer } from "../helpers/cli.js";

/** Parses --jsonl output. */
function events(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A raw server that answers every upgrade with `response`. */
function answering(response: string): Promise<RawServer> {
  return startRawServer((socket) => onUpgradeRequest(socket, () => socket.end(response)));
}

/** Asserts a failed run: the exit code and one line on stderr, no stack trace. */
function expectFailure(run: { code: number | null; stderr: string }, code: number, reason: RegExp): void {
  expect(run.code).toBe(code);
  const lines = run.stderr.trim().split("\n");
  expect(lines.at(-1)).toMatch(reason);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

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
    const all = events(run.stdout);
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
    const message = events(run.stdout).find((e) => e.type === "message");
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
    expect(events(run.stdout)[0]).toMatchObject({ type: "open", protocol: "chat.v2" });
  });

  it("--heartbeat pings at the interval; --jsonl shows the pongs", async () => {
    const cli = await startCli(["--heartbeat", "0.1", "--jsonl", url]);
    await cli.waitFor(/"type":"pong"/);
    cli.child.stdin?.end();
    expect(await cli.exited()).toBe(0);
  });
});

describe("pipe mode failures: exit codes and one-line reasons", () => {
  it("a refused connection: exit 1", async () => {
    const { url, child } = await startServer([]);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    expectFailure(await runCli([url]), 1, /^tideway: connection failed: .*ECONNREFUSED/);
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
      expect(events(cli.stdout()).filter((e) => e.type === "open")).toHaveLength(2);
      cli.child.stdin?.end();
      expect(await cli.exited()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it("bad arguments: exit 2 with one line", async () => {
    expectFailure(await runCli(["--count", "0", "ws://127.0.0.1:9/"]), 2, /--count must be an integer/);
    expectFailure(await runCli(["--bogus", "ws://127.0.0.1:9/"]), 2, /unknown option '--bogus'/);
    expectFailure(await runCli(["ftp://127.0.0.1/"]), 2, /Unsupported URL scheme/);
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

describe("TLS, redirects and proxies", () => {
  let cert: TestCertificate;
  let wss: Awaited<ReturnType<typeof startWssServer>>;
  beforeAll(async () => {
    cert = createTestCertificate();
    wss = await startWssServer(cert);
  });
  afterAll(async () => {
    await wss.close();
    cert.cleanup();
  });

  it("an untrusted certificate: exit 4", async () => {
    expectFailure(await runCli([wss.url]), 4, /^tideway: TLS failed: self[- ]signed certificate/);
  });

  it("--ca trusts the certificate; the echo comes back", async () => {
    const run = await runCli(["--ca", cert.certPath, "--count", "1", wss.url], "secure\n");
    expect(run).toMatchObject({ code: 0, stdout: "secure\n" });
  });

  it("--insecure connects without checking, and warns", async () => {
    const run = await runCli(["--insecure", "--count", "1", wss.url], "anyway\n");
    expect(run).toMatchObject({ code: 0, stdout: "anyway\n" });
    expect(run.stderr).toMatch(/warning: --insecure/);
  });

  it("-v over TLS shows the request head too", async () => {
    const run = await runCli(["-v", "--ca", cert.certPath, wss.url]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^> Host: localhost:\d+$/m);
    expect(wss.servernames.at(-1)).toBe("localhost");
  });

  it("--follow-redirects follows a 301; without it the 301 is exit 3", async () => {
    const echo = await startWsServer();
    const redirect = await answering(
      `HTTP/1.1 301 Moved\r\nLocation: ${echo.url}/moved\r\nContent-Length: 0\r\n\r\n`,
    );
    try {
      expectFailure(await runCli([redirect.url]), 3, /HTTP 301 Moved$/);
      const run = await runCli(["--follow-redirects", "--count", "1", "--jsonl", redirect.url], "hop\n");
      expect(run.code).toBe(0);
      expect(events(run.stdout).map((e) => e.type)).toEqual(["redirect", "open", "message", "close"]);
      expect(echo.requests.at(-1)?.url).toBe("/moved");
    } finally {
      await redirect.close();
      await echo.close();
    }
  });

  it("--proxy tunnels through an https:// CONNECT proxy", async () => {
    const proxy = await startHttpsConnectProxy(cert);
    const echo = await startWsServer();
    try {
      const args = ["--proxy", `https://127.0.0.1:${proxy.port}`, "--ca", cert.certPath, "--count", "1"];
      const run = await runCli([...args, echo.url], "tunnelled\n");
      expect(run).toMatchObject({ code: 0, stdout: "tunnelled\n" });
      expect(proxy.connects.map((c) => c.target)).toEqual([`127.0.0.1:${echo.port}`]);
    } finally {
      await proxy.close();
      await echo.close();
    }
  });

  it("--cert and --key present a client certificate", async () => {
    // A server that requires a client certificate signed by the test CA, and sends its CN.
    const server = tls.createServer(
      { key: cert.key, cert: cert.cert, ca: cert.cert, requestCert: true },
      (socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(switchingProtocols(key));
          socket.write(serverFrame(0x1, String(socket.getPeerCertificate().subject?.CN)));
          socket.on("data", () => socket.end(serverFrame(0x8, new Uint8Array([0x03, 0xe8])))); // close 1000
        }),
    );
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `wss://localhost:${(server.address() as AddressInfo).port}`;
    try {
      const base = ["--ca", cert.certPath, "--count", "1"];
      const run = await runCli([...base, "--cert", cert.certPath, "--key", cert.keyPath, url]);
      expect(run).toMatchObject({ code: 0, stdout: "localhost\n" });
      expect((await runCli([...base, url])).code).not.toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
