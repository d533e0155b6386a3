/**
 * The harness's own tests. The quick matrix runs every real peer with small messages (the full run,
 * up to 16 MiB, is `pnpm interop`); the rest proves the checks can fail: a harness whose oracle
 * never fails would report green for any client.
 */
import { describe, expect, it } from "vitest";
import {
  ALL_PEERS,
  binaryOfBytes,
  buildChecks,
  type Check,
  COMPRESSION_CHECKS,
  DEBIAN_PYTHON,
  describeMismatch,
  failures,
  jsonOfBytes,
  type MatrixResult,
  type PeerSpec,
  parseReportLine,
  ReportBus,
  renderJson,
  renderMarkdown,
  requireDebian,
  runMatrix,
  startWsPeer,
  textOfBytes,
  wsPeer,
} from "../src/index.js";

const QUICK_SIZES = [0, 1, 125, 126, 65535, 65536];

describe("quick matrix against the real peers", () => {
  it("passes every check on ws, Python websockets, aiohttp and nginx (TLS)", async () => {
    const checks = buildChecks(QUICK_SIZES);
    const matrix = await runMatrix(ALL_PEERS, checks);
    const failed = matrix.servers.flatMap((s) =>
      s.results.filter((r) => r.status === "fail").map((r) => `${s.server}: ${r.check}: ${r.detail}`),
    );
    expect(failed).toEqual([]);
    expect(matrix.servers.map((s) => s.server)).toEqual(["ws", "python-websockets", "aiohttp", "nginx-tls"]);
    for (const server of matrix.servers) {
      expect(server.results).toHaveLength(checks.length);
      // Every peer supports permessage-deflate: nothing is "n/a", and every compression check ran.
      expect(server.results.filter((r) => r.status === "n/a")).toEqual([]);
      const compression = server.results.filter((r) => r.group === "compression");
      expect(compression).toHaveLength(COMPRESSION_CHECKS.length);
      expect(compression.find((r) => r.check === "echo text 64 KiB JSON")?.detail).toMatch(
        /^intact; wire up \d+\.\d%, down \d+\.\d%$/,
      );
    }
    expect(matrix.servers.find((s) => s.server === "nginx-tls")?.version).toMatch(/^nginx \d+\.\d+.* -> ws /);
  }, 60_000);
});

/** Binary echoes come back with byte 100 (or the last byte) flipped, and an empty one with a byte added. */
const corruptingPeer: PeerSpec = {
  name: "corrupting-ws",
  description: "ws peer that corrupts binary echoes",
  start: () =>
    startWsPeer({
      tamper: (data, isBinary) => {
        if (!isBinary) return data;
        if (data.length === 0) return Buffer.from([0x2a]);
        const copy = Buffer.from(data);
        const at = Math.min(100, copy.length - 1);
        copy[at] = (copy[at] ?? 0) ^ 0xff;
        return copy;
      },
    }),
};

describe("checks that must fail", () => {
  it("reports corrupted echoes with the sizes and the first differing byte", async () => {
    const checks = buildChecks([0, 1000]).filter((c) => c.group.endsWith("echo"));
    const matrix = await runMatrix([corruptingPeer], checks);
    const byName = new Map(matrix.servers[0]?.results.map((r) => [r.check, r]));
    expect(byName.get("text 0 B")?.status).toBe("pass");
    expect(byName.get("text 1000 B")?.status).toBe("pass");
    expect(byName.get("binary 0 B")).toMatchObject({
      status: "fail",
      detail: "sent 0 B, got 1 B (identical up to the shorter length)",
    });
    expect(byName.get("binary 1000 B")?.status).toBe("fail");
    expect(byName.get("binary 1000 B")?.detail).toMatch(
      /^sent 1000 B, got 1000 B; first difference at byte 100: /,
    );
    expect(failures(matrix)).toBe(2);
  });

  it("fails the compression checks of a peer that claims permessage-deflate but does not negotiate it", async () => {
    const pretender: PeerSpec = {
      name: "pretender",
      description: "ws peer without permessage-deflate that claims it",
      start: async () => ({ ...(await startWsPeer({ perMessageDeflate: false })), deflate: true }),
    };
    const matrix = await runMatrix([pretender], COMPRESSION_CHECKS);
    const results = matrix.servers[0]?.results ?? [];
    expect(results).toHaveLength(COMPRESSION_CHECKS.length);
    for (const r of results) {
      expect(r.status).toBe("fail");
      expect(r.detail).toBe('permessage-deflate not negotiated: response.extensions is ""');
    }
  });

  it("fails when the server negotiates permessage-deflate but sends plain frames (the relay sees the wire)", async () => {
    const lazy: PeerSpec = {
      name: "lazy",
      description: "ws peer that negotiates but never compresses",
      start: () => startWsPeer({ compressEchoes: false }),
    };
    const checks = COMPRESSION_CHECKS.filter((c) => /64 KiB JSON|context takeover/.test(c.name));
    const matrix = await runMatrix([lazy], checks);
    const results = matrix.servers[0]?.results ?? [];
    expect(results.map((r) => r.check)).toEqual([
      "echo text 64 KiB JSON",
      "echo binary 64 KiB JSON",
      "context takeover: 50 x 1200 B JSON",
    ]);
    for (const r of results) {
      expect(r.status).toBe("fail");
      expect(r.detail).toMatch(
        /^server -> client: \d+ B on the wire for \d+ B of JSON \(10\d\.\d% > (50|20)\.0%\)/,
      );
    }
  });

  it("records the compression checks as n/a, with the reason, for a peer without permessage-deflate", async () => {
    const plain: PeerSpec = {
      name: "plain",
      description: "ws peer without permessage-deflate",
      start: () => startWsPeer({ perMessageDeflate: false }),
    };
    const matrix = await runMatrix([plain], COMPRESSION_CHECKS);
    for (const r of matrix.servers[0]?.results ?? []) {
      expect(r).toMatchObject({ status: "n/a", detail: "n/a (server does not support permessage-deflate)" });
    }
    expect(matrix.servers[0]?.deflate).toBe(false);
  });

  it("fails a check that overruns its limit and terminates the clients it opened", async () => {
    let opened: { readyState: number } | undefined;
    const hangs: Check = {
      group: "handshake",
      name: "hangs",
      timeoutMs: 200,
      async run(ctx) {
        const { WebSocketClient } = await import("@tideway/client");
        const client = new WebSocketClient(`${ctx.peer.url}/echo`, { heartbeat: false, reconnect: false });
        ctx.track(client);
        opened = client;
        await client.connect();
        return new Promise(() => {});
      },
    };
    const matrix = await runMatrix([wsPeer], [hangs]);
    expect(matrix.servers[0]?.results[0]).toMatchObject({ status: "fail" });
    expect(matrix.servers[0]?.results[0]?.detail).toMatch(/timed out after 200 ms/);
    expect(opened?.readyState).toBe(3); // CLOSED
  });

  it("fails every check of a peer that cannot start, naming the Debian package to install", async () => {
    const missing: PeerSpec = {
      name: "missing",
      description: "a peer whose Python module is not installed",
      start: async () => {
        requireDebian("python3-tideway-missing", DEBIAN_PYTHON, ["-c", "import tideway_missing_module"]);
        throw new Error("unreachable");
      },
    };
    const checks = buildChecks([0]);
    const matrix = await runMatrix([missing], checks);
    const results = matrix.servers[0]?.results ?? [];
    expect(results).toHaveLength(checks.length);
    for (const r of results) {
      expect(r.status).toBe("fail");
      expect(r.detail).toMatch(
        /missing Debian package python3-tideway-missing.*apt-get install -y python3-tideway-missing/,
      );
    }
  });
});

describe("report", () => {
  const matrix: MatrixResult = {
    startedAt: "2026-01-01T00:00:00.000Z",
    node: "v20.0.0",
    servers: [
      {
        server: "peer",
        description: "a peer",
        version: "peer 1.0",
        deflate: true,
        results: [
          { group: "handshake", check: "hs", status: "pass", ms: 1.5, detail: "ok" },
          { group: "close", check: "c1", status: "pass", ms: 2, detail: "ok" },
          { group: "close", check: "c2", status: "fail", ms: 3, detail: "got 1006 | not 1000" },
          {
            group: "compression",
            check: "deflate",
            status: "n/a",
            ms: 0,
            detail: "n/a (server does not support permessage-deflate); x",
          },
        ],
      },
    ],
  };

  it("summarizes each group and lists each check with its result and time", () => {
    const md = renderMarkdown(matrix);
    const squeezed = md.replace(/ +/g, " ");
    expect(md).toContain("Failed checks: 1.");
    expect(squeezed).toContain(
      "| peer | pass 1/1 | - | - | - | FAIL 1/2 | n/a (server does not support permessage-deflate) |",
    );
    expect(squeezed).toContain("| close: c2 | FAIL | 3 | got 1006 \\| not 1000 |");
    expect(squeezed).toContain(
      "| compression: deflate | n/a | 0 | n/a (server does not support permessage-deflate); x |",
    );
  });

  it("pads every table to aligned columns, as Biome formats Markdown", () => {
    const tables = renderMarkdown(matrix)
      .split("\n\n")
      .map((block) => block.split("\n").filter((line) => line.startsWith("|")))
      .filter((rows) => rows.length > 0);
    expect(tables).toHaveLength(2);
    for (const rows of tables) {
      const widths = new Set(rows.map((row) => [...row].length));
      expect(widths.size).toBe(1);
    }
    expect(tables[1]?.[1]).toMatch(/^\| -+ \| -+ \| -+: \| -+ \|$/);
  });

  it("writes JSON that reads back to the same matrix", () => {
    expect(JSON.parse(renderJson(matrix))).toEqual(matrix);
  });
});

describe("payloads", () => {
  const encoder = new TextEncoder();
  it.each([0, 1, 9, 10, 11, 125, 126, 127, 65535, 65536, 100_003])(
    "text of %i bytes is exactly that long in UTF-8",
    (n) => {
      expect(encoder.encode(textOfBytes(n)).length).toBe(n);
    },
  );

  it.each([0, 1, 2, 3, 100, 1024, 1200, 65536])("JSON of %i bytes is exactly that long and parses", (n) => {
    const json = jsonOfBytes(n, 7);
    expect(encoder.encode(json).length).toBe(n);
    if (n >= 2) expect(Array.isArray(JSON.parse(json))).toBe(true);
    if (n >= 1024) expect(jsonOfBytes(n, 8)).not.toBe(json);
  });

  it("text mixes multi-byte characters and does not repeat with a short period", () => {
    const text = textOfBytes(65536);
    expect(text).toMatch(/é€😀/);
    expect(text.slice(0, 1000)).not.toBe(text.slice(1000, 2000));
  });

  it("binary is deterministic per seed and differs between seeds", () => {
    expect(binaryOfBytes(64, 7)).toEqual(binaryOfBytes(64, 7));
    expect(binaryOfBytes(64, 7)).not.toEqual(binaryOfBytes(64, 8));
    expect(new Set(binaryOfBytes(4096)).size).toBeGreaterThan(200);
  });

  it("describes mismatches in bytes", () => {
    expect(describeMismatch("abc", "abc")).toBeUndefined();
    expect(describeMismatch(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBeUndefined();
    expect(describeMismatch("é", "e")).toBe(
      "sent 2 B, got 1 B; first difference at byte 0: sent [c3 a9], got [65]",
    );
    expect(describeMismatch(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(
      "sent 3 B, got 2 B (identical up to the shorter length)",
    );
  });
});

describe("peer reports", () => {
  it("parses listening and close lines and ignores anything else", () => {
    expect(parseReportLine('{"event": "listening", "port": 1234, "version": "10.4"}')).toEqual({
      event: "listening",
      port: 1234,
      version: "10.4",
    });
    expect(parseReportLine('{"event": "close", "id": "c1", "code": 4000, "reason": "bye"}')).toEqual({
      event: "close",
      id: "c1",
      code: 4000,
      reason: "bye",
    });
    expect(parseReportLine('{"event": "close", "id": "c2", "code": 1000, "reason": null}')).toMatchObject({
      reason: null,
    });
    for (const line of ["", "not json", "42", '{"event": "listening"}', '{"event": "close", "code": 1000}']) {
      expect(parseReportLine(line)).toBeUndefined();
    }
  });

  it("delivers a report pushed before or after the wait, and times out without one", async () => {
    const bus = new ReportBus();
    bus.push({ event: "close", id: "early", code: 1000, reason: "" });
    await expect(bus.waitFor("early", 100)).resolves.toMatchObject({ code: 1000 });
    const late = bus.waitFor("late", 1_000);
    bus.push({ event: "close", id: "late", code: 4000, reason: "x" });
    await expect(late).resolves.toMatchObject({ code: 4000, reason: "x" });
    await expect(bus.waitFor("never", 50)).rejects.toThrow(/no close for never within 50 ms/);
  });
});
