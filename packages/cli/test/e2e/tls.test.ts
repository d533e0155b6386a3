// TLS (trust, --insecure, client certificates), redirects and proxies end to end, against the
// client tests' servers and a certificate made at test time.
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
import { createTestCertificate, type TestCertificate } from "../../../client/test/helpers/tls.js";
import { expectFailure, jsonl, runCli } from "../helpers/cli.js";

/** A raw server that answers every upgrade with `response`. */
function answering(response: string): Promise<RawServer> {
  return startRawServer((socket) => onUpgradeRequest(socket, () => socket.end(response)));
}

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
      expect(jsonl(run.stdout).map((e) => e.type)).toEqual(["redirect", "open", "message", "close"]);
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
