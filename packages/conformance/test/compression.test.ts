/**
 * Sections 12 and 13: the server's deflate tooling checked on its own (it must inflate what a correct
 * client sends and reject what a client that breaks its agreement sends), the judge's bomb latitude,
 * and three compression cases run through `ws` (which must pass) and through a client that does not
 * offer compression (which must FAIL).
 */
import { constants, deflateRawSync } from "node:zlib";
import {
  decodeFrameHeader,
  parseExtensionList,
  parseUpgradeRequest,
  RequestHeadParser,
} from "@tideway/core/internals";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Agent, wsAgent } from "../src/agents.js";
import { ALL_CASES, SECTIONS } from "../src/cases/index.js";
import { ClientInflater, compressedFrames, negotiate, ServerDeflater } from "../src/deflate.js";
import { judge } from "../src/judge.js";
import { runAgent, runOne } from "../src/runner.js";
import { ConformanceServer } from "../src/server.js";
import type { Observation } from "../src/types.js";

const params = (o: Partial<ReturnType<typeof defaults>> = {}) => ({ ...defaults(), ...o });
const defaults = () => ({
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
});
const json = (i: number) =>
  new TextEncoder().encode(
    JSON.stringify({ id: i, symbol: "BTC-USD", price: 100 + i, side: "buy" }).repeat(20),
  );

describe("the server's deflate tooling", () => {
  it("round-trips messages through a persistent compressor and the window-checked inflater", async () => {
    for (const bits of [8, 9, 12, 15]) {
      for (const noContext of [false, true]) {
        const p = params({
          serverMaxWindowBits: bits,
          clientMaxWindowBits: bits,
          serverNoContextTakeover: noContext,
          clientNoContextTakeover: noContext,
        });
        const deflater = new ServerDeflater(p);
        const inflater = new ClientInflater(p);
        for (let i = 0; i < 5; i++) {
          const compressed = await deflater.compress(json(i));
          expect(compressed.length).toBeLessThan(json(i).length);
          // The inflater is given the whole message at once and in three pieces.
          const cut = Math.floor(compressed.length / 3);
          inflater.decompress(compressed.subarray(0, cut), false, 1e6);
          inflater.decompress(compressed.subarray(cut, 2 * cut), false, 1e6);
          expect(inflater.decompress(compressed.subarray(2 * cut), true, 1e6)).toEqual(Buffer.from(json(i)));
        }
        expect(inflater.compressedMessages).toBe(5);
        deflater.close();
      }
    }
  });

  it("rejects a client that uses context it agreed to drop", async () => {
    // A compressor that keeps its context, read by an inflater told client_no_context_takeover.
    const withContext = new ServerDeflater(params());
    const strict = new ClientInflater(params({ clientNoContextTakeover: true }));
    expect(strict.decompress(await withContext.compress(json(1)), true, 1e6).length).toBe(json(1).length);
    const second = await withContext.compress(json(1)); // refers back to the first message
    expect(() => strict.decompress(second, true, 1e6)).toThrow(
      /does not inflate: invalid distance too far back/,
    );
    withContext.close();
  });

  it("rejects a back-reference beyond the agreed window, and stops a bomb at maxOutput", () => {
    let x = 12345;
    const history = new Uint8Array(4000).map(() => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x >>> 24;
    });
    const inflater = new ClientInflater(params({ clientMaxWindowBits: 8 }));
    const flush = { finishFlush: constants.Z_SYNC_FLUSH };
    inflater.decompress(deflateRawSync(history, flush).subarray(0, -4), true, 1e6);
    // Compressed against 4000 bytes of history: it references bytes ~4000 back, past a 256-byte window.
    const far = deflateRawSync(history.subarray(0, 200), { ...flush, dictionary: history }).subarray(0, -4);
    expect(() => inflater.decompress(far, true, 1e6)).toThrow(/too far back/);
    const bomb = deflateRawSync(new Uint8Array(2 ** 20), flush).subarray(0, -4);
    expect(() => new ClientInflater(params()).decompress(bomb, true, 1000)).toThrow(
      /inflates past 1000 bytes/,
    );
  });

  it("puts RSV1 on the first frame of a compressed message only", () => {
    const frames = compressedFrames(0x1, new Uint8Array(600).fill(7), 256);
    const headers = frames.map((f) => decodeFrameHeader(f)!.header);
    expect(headers.map((h) => [h.opcode, h.rsv1, h.fin, h.payloadLength])).toEqual([
      [0x1, true, false, 256],
      [0x0, false, false, 256],
      [0x0, false, true, 88],
    ]);
  });

  it("negotiates with the case's config, or declines", () => {
    const head = new RequestHeadParser().push(
      new TextEncoder().encode(
        "GET /runCase HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
      ),
    )!;
    const upgrade = parseUpgradeRequest(head.request);
    expect(upgrade.extensions).toEqual(parseExtensionList("permessage-deflate; client_max_window_bits"));
    const n = negotiate(upgrade, { server: { clientMaxWindowBits: 9, serverNoContextTakeover: true } });
    expect(n.answer).toBe("permessage-deflate; server_no_context_takeover; client_max_window_bits=9");
    expect(n.params).toMatchObject({ clientMaxWindowBits: 9, serverNoContextTakeover: true });
    expect(negotiate(upgrade, { server: {}, decline: true })).toEqual({
      offered: "permessage-deflate; client_max_window_bits",
      answer: undefined,
      params: undefined,
    });
  });
});

describe("the compression cases", () => {
  it("registers sections 12 and 13 with unique ids", () => {
    const count = (id: string) => SECTIONS.find((s) => s.id === id)!.cases.length;
    expect(count("12")).toBe(62);
    expect(count("13")).toBe(81);
    for (const c of ALL_CASES.filter((c) => c.id.startsWith("12.") || c.id.startsWith("13."))) {
      expect(c.deflate).toBeDefined();
    }
  });

  it("a bomb echoed by an agent with a larger limit is NON-STRICT, not OK and not FAILED", () => {
    const big = { type: "binary" as const, data: new Uint8Array(3) };
    const obs = (o: Partial<Observation>): Observation => ({
      items: [],
      pings: 0,
      clientClose: undefined,
      clientStartedClose: false,
      serverCloseAt: 1,
      clientTcpEndAt: undefined,
      serverTcpEndAt: undefined,
      hungAfterServerClose: false,
      violations: [],
      marks: new Map(),
      ...o,
    });
    const e = { kind: "fail", code: 1009, tolerate: { items: [big], note: "limit above" } } as const;
    const echoed = obs({ items: [big], clientClose: { code: 1000, reason: "", at: 2 } });
    expect(judge(echoed, false, e)).toEqual({
      verdict: "NON-STRICT",
      reason: "echoed the message and closed cleanly: limit above",
    });
    const refused = obs({ clientClose: { code: 1009, reason: "", at: 2 }, clientStartedClose: true });
    expect(judge(refused, false, e).verdict).toBe("OK");
  });
});

describe("compression cases against real clients", () => {
  let server: ConformanceServer;
  const index = (id: string) => ALL_CASES.findIndex((c) => c.id === id) + 1;
  beforeAll(async () => {
    server = await ConformanceServer.start();
  });
  afterAll(() => server.close());

  it("ws passes a payload case, an 8-bit no-context-takeover case and the configured bomb", async () => {
    const ids = ["12.1.5", "13.5.6", "12.7.9"];
    const report = await runAgent(server, wsAgent, { indexes: ids.map(index) });
    expect([...report.results.values()].map((r) => r.verdict)).toEqual(["OK", "OK", "OK"]);
    expect(report.results.get("13.5.6")?.reason).toContain(
      "server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8",
    );
    expect(report.results.get("12.7.9")).toMatchObject({ clientCloseCode: 1009 });
  });

  it("a client that does not offer permessage-deflate FAILS a compression case, saying why", async () => {
    const plain: Agent = {
      ...wsAgent,
      name: "ws-no-deflate",
      run(url) {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        const done = new Promise<void>((resolve) => {
          ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
          ws.on("error", () => {});
          ws.on("close", () => resolve());
        });
        return { done, stop: () => ws.terminate() };
      },
    };
    const r = await runOne(server, plain, index("12.1.1"));
    expect(r).toMatchObject({ verdict: "FAILED", clientCloseCode: 1000 });
    expect(r.reason).toBe(
      "the client did not negotiate permessage-deflate (it offered no extension); the case needs it",
    );
  });
});
