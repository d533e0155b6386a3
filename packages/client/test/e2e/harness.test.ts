/**
 * Tests of the interop harness itself: an oracle that never fails, or a proxy that does not really
 * cut, would make the interop tests pass for any client.
 */

import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkReceived, checkSent, parseNumbered, type SentLog } from "../helpers/accounting.js";
import { startProxy, type TcpProxy } from "../helpers/tcp-proxy.js";
import { createTestCertificate } from "../helpers/tls.js";

describe("parseNumbered", () => {
  it("parses numbered messages and end markers, and nothing else", () => {
    expect(parseNumbered("3:17")).toEqual({ connId: 3, seq: 17 });
    expect(parseNumbered("0:end")).toEqual({ connId: 0, end: true });
    for (const bad of ["", "3:", ":1", "3:1x", "3:17 ", "3:-1", "a:1"])
      expect(parseNumbered(bad)).toBeUndefined();
  });
});

describe("checkReceived", () => {
  const sent: SentLog[] = [
    { id: 0, sent: 4, endSent: false },
    { id: 1, sent: 3, endSent: true },
  ];
  const good = ["0:0", "0:1", "1:0", "1:1", "1:2", "1:end"];

  it("accepts a prefix per connection, then the next connection", () => {
    const summary = checkReceived(good, sent, 7);
    expect(summary.violations).toEqual([]);
    expect(summary.totalReceived).toBe(5);
    expect(summary.lostInFlight).toBe(2);
    expect([...summary.receivedPerConnection]).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it.each([
    ["a gap", ["0:0", "0:2", "1:0", "1:1", "1:2", "1:end"], /0:2: expected 0:1/],
    ["a duplicate", ["0:0", "0:0", "1:0", "1:1", "1:2", "1:end"], /0:0: expected 0:1/],
    ["a reordering", ["0:1", "0:0", "1:0", "1:1", "1:2", "1:end"], /0:1: expected 0:0/],
    ["a mangled message", ["0:0", "0:", "1:0", "1:1", "1:2", "1:end"], /is not a numbered message/],
    [
      "a return to an older connection",
      ["0:0", "1:0", "0:1", "1:1", "1:2", "1:end"],
      /from connection 0, after 1/,
    ],
    ["a message never sent", ["0:0", "0:1", "0:2", "0:3", "0:4", "1:0", "1:1", "1:2", "1:end"], /never sent/],
    ["a missing end marker", ["0:0", "1:0", "1:1", "1:2"], /end marker never arrived/],
    ["an end marker before the last messages", ["0:0", "1:0", "1:end"], /after 1 of its 3 messages/],
    ["a message after the end marker", [...good, "1:3"], /came after the end marker/],
  ])("reports %s", (_name, yielded, expected) => {
    expect(checkReceived(yielded, sent, 7).violations).toContainEqual(expect.stringMatching(expected));
  });

  it("reports a server that did not spend its budget", () => {
    expect(checkReceived(good, sent, 8).violations).toContainEqual(expect.stringMatching(/sent 7 .* not 8/));
  });
});

describe("checkSent", () => {
  it("accepts in-order runs without gaps, with losses between connections", () => {
    expect(
      checkSent(
        [["0", "1"], [], ["4", "5", "6"]],
        ["resolved", "resolved", "resolved", "rejected", "resolved", "resolved", "resolved"],
      ),
    ).toEqual([]);
  });

  it.each([
    ["a send that never settled", [["0"]], ["resolved", "pending"], /1 sends never settled/],
    ["a gap inside a connection", [["0", "2"]], ["resolved", "resolved", "resolved"], /got 2 right after 0/],
    [
      "a duplicate across connections",
      [
        ["0", "1"],
        ["1", "2"],
      ],
      ["resolved", "resolved", "resolved"],
      /got 1 after 1/,
    ],
    ["a delivered send that rejected", [["0", "1"]], ["resolved", "rejected"], /whose send\(\) rejected/],
    ["a message never sent", [["0", "x"]], ["resolved"], /"x", never sent/],
  ] as const)("reports %s", (_name, received, outcomes, expected) => {
    expect(checkSent(received, outcomes)).toContainEqual(expect.stringMatching(expected));
  });
});

describe("startProxy", () => {
  let upstream: Server | undefined;
  let proxy: TcpProxy | undefined;
  const upstreamSockets: Socket[] = [];
  afterEach(async () => {
    await proxy?.close();
    for (const socket of upstreamSockets.splice(0)) socket.destroy();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  async function echoBehindProxy(): Promise<TcpProxy> {
    upstream = createServer((socket) => {
      upstreamSockets.push(socket);
      socket.on("error", () => {});
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => upstream?.listen(0, "127.0.0.1", resolve));
    proxy = await startProxy({ port: (upstream.address() as AddressInfo).port });
    return proxy;
  }

  async function connected(port: number): Promise<Socket> {
    const socket = connect({ host: "127.0.0.1", port });
    await once(socket, "connect");
    return socket;
  }

  it("forwards both ways and counts connections", async () => {
    const proxy = await echoBehindProxy();
    const a = await connected(proxy.port);
    const b = await connected(proxy.port);
    a.write("hello");
    const [data] = await once(a, "data");
    expect(String(data)).toBe("hello");
    await proxy.waitForConnections(2);
    expect(proxy.connectionCount).toBe(2);
    expect(proxy.activeCount).toBe(2);
    a.destroy();
    b.destroy();
  });

  it("resetAll cuts with a TCP RST (ECONNRESET on the client)", async () => {
    const proxy = await echoBehindProxy();
    const client = await connected(proxy.port);
    await proxy.waitForConnections(1);
    const error = once(client, "error");
    expect(proxy.resetAll()).toBe(1);
    const [err] = await error;
    expect((err as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    // The upstream side is cut too.
    await expect.poll(() => upstreamSockets[0]?.destroyed).toBe(true);
  });

  it("endAll cuts with a FIN (a clean end on the client)", async () => {
    const proxy = await echoBehindProxy();
    const client = await connected(proxy.port);
    client.on("error", (err) => expect.unreachable(String(err)));
    await proxy.waitForConnections(1);
    const ended = once(client, "end");
    expect(proxy.endAll()).toBe(1);
    await ended;
    client.end();
    await expect.poll(() => proxy.activeCount).toBe(0);
  });
});

describe("createTestCertificate", () => {
  it("makes a certificate for 127.0.0.1, ::1 and localhost, and cleans up", () => {
    const certificate = createTestCertificate();
    try {
      const x509 = new X509Certificate(certificate.cert);
      expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
      expect(x509.checkIP("::1")).toBeDefined();
      expect(x509.checkHost("localhost")).toBe("localhost");
      expect(x509.checkHost("example.com")).toBeUndefined();
      expect(certificate.key).toContain("PRIVATE KEY");
    } finally {
      certificate.cleanup();
    }
  });
});
