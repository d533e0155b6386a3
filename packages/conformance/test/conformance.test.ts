/**
 * The suite checked three ways: its judge on hand-made observations (pure), its registry and frame
 * writer, and a real run of a subset of cases through `ws` (the reference client, which must pass)
 * and through deliberately broken clients (which must FAIL, or the suite proves nothing).
 */
import { connect as netConnect } from "node:net";
import { decodeFrameHeader } from "@tideway/core/internals";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Agent, wsAgent } from "../src/agents.js";
import { ALL_CASES, SECTIONS } from "../src/cases/index.js";
import { judge } from "../src/judge.js";
import { anyFailed, countVerdicts, renderJson, renderMarkdown } from "../src/report.js";
import { runAgent, runOne } from "../src/runner.js";
import { ConformanceServer } from "../src/server.js";
import { emptyObservation } from "../src/session.js";
import type { Item } from "../src/types.js";
import { closePayload, rawFrame } from "../src/wire.js";

const text = (s: string): Item => ({ type: "text", data: new TextEncoder().encode(s) });

const observation = emptyObservation;

const clientClosed = (code: number | undefined, at = 10) => ({
  clientClose: { code, reason: "", at },
  clientStartedClose: true,
  serverCloseAt: at,
});

describe("judge", () => {
  it("an echo case is OK when the items match and the client answers close 1000", () => {
    const obs = observation({
      items: [text("hi")],
      serverCloseAt: 5,
      clientClose: { code: 1000, reason: "", at: 6 },
    });
    expect(judge(obs, false, { kind: "echo", items: [text("hi")] }).verdict).toBe("OK");
  });

  it("an echo case FAILS on a wrong echo, a missing close answer or a hang", () => {
    const closed = { serverCloseAt: 5, clientClose: { code: 1000, reason: "", at: 6 } };
    const wrong = judge(observation({ items: [text("ho")], ...closed }), false, {
      kind: "echo",
      items: [text("hi")],
    });
    expect(wrong).toEqual({
      verdict: "FAILED",
      reason: 'item #1 is text "ho", expected text "hi" (echoed 1, expected 1)',
    });
    const silent = judge(observation({ items: [text("hi")], serverCloseAt: 5 }), true, {
      kind: "echo",
      items: [text("hi")],
    });
    expect(silent.verdict).toBe("FAILED");
    expect(silent.reason).toContain("did not answer");
    const hung = judge(observation({ items: [text("hi")], ...closed, hungAfterServerClose: true }), false, {
      kind: "echo",
      items: [text("hi")],
    });
    expect(hung.verdict).toBe("FAILED");
    expect(hung.reason).toContain("hung");
  });

  it("a fail case: the precise code is OK, another error code NON-STRICT, a normal close or accepting the data FAILED", () => {
    const e = { kind: "fail", code: 1007 } as const;
    expect(judge(observation(clientClosed(1007)), false, e).verdict).toBe("OK");
    expect(judge(observation(clientClosed(1002)), false, e)).toEqual({
      verdict: "NON-STRICT",
      reason: "failed the connection with 1002; 1007 is the precise code",
    });
    expect(judge(observation(clientClosed(1000)), false, e).verdict).toBe("FAILED");
    expect(judge(observation({ ...clientClosed(1007), items: [text("bad")] }), false, e).reason).toContain(
      "accepted invalid data",
    );
    expect(judge(observation({ clientTcpEndAt: 3 }), false, e).verdict).toBe("NON-STRICT");
    expect(judge(observation(), true, e).verdict).toBe("FAILED");
  });

  it("a fail-fast case is NON-STRICT when the client failed only after the rest was sent", () => {
    const e = { kind: "fail", code: 1007, failFastMark: "rest-sent" } as const;
    const late = observation({ ...clientClosed(1007, 500), marks: new Map([["rest-sent", 450]]) });
    expect(judge(late, false, e).verdict).toBe("NON-STRICT");
    const fast = observation({ ...clientClosed(1007, 100) });
    expect(judge(fast, false, e)).toEqual({
      verdict: "OK",
      reason: "failed the connection with 1007; fail-fast",
    });
  });

  it("a close case rejects a valid code answered with an error, and a frame after the client's close", () => {
    const e = { kind: "close", codes: [3000, 1000] } as const;
    const answered = (code: number) =>
      observation({ serverCloseAt: 1, clientClose: { code, reason: "", at: 2 } });
    expect(judge(answered(3000), false, e).verdict).toBe("OK");
    expect(judge(answered(1002), false, e).verdict).toBe("FAILED");
    expect(judge(answered(1001), false, e).verdict).toBe("NON-STRICT");
    const late = observation({
      serverCloseAt: 1,
      clientClose: { code: 1000, reason: "", at: 2 },
      violations: ["x"],
    });
    expect(judge(late, false, { kind: "close", codes: [1000] }).verdict).toBe("FAILED");
  });
});

describe("registry and frames", () => {
  it("has well over 300 cases with unique ids, each described", () => {
    expect(ALL_CASES.length).toBeGreaterThan(300);
    expect(new Set(ALL_CASES.map((c) => c.id)).size).toBe(ALL_CASES.length);
    for (const c of ALL_CASES) {
      expect(c.description.length).toBeGreaterThan(10);
      expect(c.expectation.length).toBeGreaterThan(10);
    }
    const count = (id: string) => SECTIONS.find((s) => s.id === id)!.cases.length;
    expect(count("1")).toBe(20);
    expect(count("6")).toBe(145);
    expect(count("9")).toBe(54);
    expect(count("12") + count("13")).toBe(143);
  });

  it("rawFrame writes what it is told, even what the RFC forbids", () => {
    const frame = rawFrame(0xb, new Uint8Array(126), { fin: false, rsv: 5 });
    const decoded = decodeFrameHeader(frame)!;
    expect(decoded.header).toMatchObject({ fin: false, rsv1: true, rsv2: false, rsv3: true, opcode: 0xb });
    expect(decoded.header.payloadLength).toBe(126);
    expect(frame.length).toBe(decoded.headerSize + 126);
    expect(Array.from(closePayload(1000, "ok"))).toEqual([0x03, 0xe8, 0x6f, 0x6b]);
  });
});

/** A client that skips UTF-8 validation: it must fail the invalid-UTF-8 cases. */
const lenientAgent: Agent = {
  ...wsAgent,
  name: "ws-no-utf8-check",
  run(url) {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
    const done = new Promise<void>((resolve) => {
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      ws.on("error", () => {});
      ws.on("close", () => resolve());
    });
    return { done, stop: () => ws.terminate() };
  },
};

/** A client that echoes everything as binary. */
const binaryAgent: Agent = {
  ...wsAgent,
  name: "ws-all-binary",
  run(url) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const done = new Promise<void>((resolve) => {
      ws.on("message", (data) => ws.send(data as Buffer, { binary: true }));
      ws.on("error", () => {});
      ws.on("close", () => resolve());
    });
    return { done, stop: () => ws.terminate() };
  },
};

/** Completes the handshake, then ignores everything (never echoes, never answers a close). */
const deafAgent: Agent = {
  ...wsAgent,
  name: "deaf",
  run(url) {
    const u = new URL(url);
    const socket = netConnect(Number(u.port), u.hostname);
    socket.write(
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    socket.on("error", () => {});
    const done = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    return { done, stop: () => socket.destroy() };
  },
};

describe("a run against real clients", () => {
  let server: ConformanceServer;
  const index = (id: string) => ALL_CASES.findIndex((c) => c.id === id) + 1;
  beforeAll(async () => {
    server = await ConformanceServer.start();
  });
  afterAll(() => server.close());

  it("ws passes a subset of every section, and the report counts it", async () => {
    const ids = ["1.1.1", "1.1.6", "1.2.8", "2.5", "2.10", "3.2", "3.8.9", "4.2.5", "5.6", "5.18", "5.20"];
    ids.push(
      "6.2.4",
      "6.3.1",
      "6.4.1",
      "6.20.1",
      "6.22.34",
      "7.1.2",
      "7.3.1",
      "7.3.2",
      "7.5.1",
      "7.7.13",
      "7.9.12",
      "10.1.3",
    );
    const report = await runAgent(server, wsAgent, { indexes: ids.map(index) });
    expect([...report.results.keys()]).toEqual(ids);
    const failed = [...report.results.values()].filter((r) => r.verdict === "FAILED");
    expect(failed).toEqual([]);
    expect(report.results.get("2.5")).toMatchObject({ verdict: "OK", clientCloseCode: 1002 });
    expect(report.results.get("6.3.1")).toMatchObject({ verdict: "OK", clientCloseCode: 1007 });
    // ws validates a fragmented message only once it is complete: late, hence NON-STRICT.
    expect(report.results.get("6.4.1")?.verdict).toBe("NON-STRICT");
    expect(anyFailed([report])).toBe(false);
    const broken = {
      ...report,
      results: new Map(report.results).set("x", {
        ...report.results.get("2.5")!,
        verdict: "FAILED" as const,
      }),
    };
    expect(anyFailed([report, broken])).toBe(true);
    expect(anyFailed([{ ...broken, unavailable: "not built" }])).toBe(false);
    const sections = SECTIONS.map((s) => ({ ...s, cases: s.cases.filter((c) => ids.includes(c.id)) }));
    const meta = { generatedAt: "now", node: process.version, durationMs: 1 };
    const md = renderMarkdown(sections, [report], meta);
    expect(md).toContain("| 6.3.1 |");
    expect(md).toContain("**OK**: failed the connection with 1007");
    const json = JSON.parse(renderJson(sections, [report], meta));
    expect(json.agents[0].counts).toEqual(countVerdicts(report));
  });

  it("a client without UTF-8 validation FAILS the invalid UTF-8 cases", async () => {
    const r = await runOne(server, lenientAgent, index("6.3.1"));
    expect(r.verdict).toBe("FAILED");
    // The echo is invalid UTF-8 in a text frame: the core's reader, reading it, names the violation.
    expect(r.reason).toBe("client protocol violation: Invalid UTF-8 in a text message");
    const close = await runOne(server, lenientAgent, index("7.5.1"));
    expect(close.verdict).toBe("FAILED");
  });

  it("a client that turns text into binary FAILS the echo cases", async () => {
    const r = await runOne(server, binaryAgent, index("1.1.2"));
    expect(r).toMatchObject({ verdict: "FAILED" });
    expect(r.reason).toContain("is binary (125 B), expected text");
  });

  it("a client that never answers FAILS within the case's time", async () => {
    const t0 = Date.now();
    const r = await runOne(server, deafAgent, index("7.3.3"));
    expect(r.verdict).toBe("FAILED");
    expect(r.reason).toContain("did not answer the close frame");
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it("a client whose API never reports the end of the connection FAILS (hang)", async () => {
    const stuck: Agent = {
      ...wsAgent,
      name: "stuck",
      run(url) {
        const inner = wsAgent.run(url);
        return { done: new Promise<void>(() => {}), stop: inner.stop };
      },
    };
    const r = await runOne(server, stuck, index("7.11.1"));
    expect(r.verdict).toBe("FAILED");
    expect(r.reason).toContain("did not report the end of the connection");
    expect(await runOne(server, wsAgent, index("7.11.1"))).toMatchObject({ verdict: "OK" });
  });

  it("serves the case count and case info over plain HTTP and over WebSocket", async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/getCaseInfo?case=1`);
    expect(await res.json()).toMatchObject({ id: "1.1.1" });
    const count = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(server.url("/getCaseCount"));
      ws.on("message", (data) => resolve(String(data)));
      ws.on("error", reject);
    });
    expect(Number(count)).toBe(ALL_CASES.length);
  });
});
