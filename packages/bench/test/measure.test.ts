// measure() against the real bench server (in this process), through the ws and undici adapters,
// and through adapters that lose or corrupt one message: those must fail, not report a number.
import dc from "node:diagnostics_channel";
import type { Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diagnosticsReceived, load as loadTideway } from "../src/adapters/tideway.js";
import type { Adapter, BenchConnection, BenchMessage } from "../src/adapters/types.js";
import { load as loadUndici } from "../src/adapters/undici.js";
import { wsAdapter } from "../src/adapters/ws-common.js";
import { measure, warmupOf } from "../src/measure.js";
import { jsonMessage } from "../src/payload.js";
import { fullScenarios, quickScenarios, type Scenario } from "../src/scenarios.js";
import { startServer } from "../src/server.js";

let server: Server;
let base: string;
beforeAll(async () => {
  const started = await startServer();
  server = started.server;
  base = `ws://127.0.0.1:${started.port}`;
});
afterAll(() => {
  server.close();
});

const recv = (size: number, count: number, text = false, more: Partial<Scenario> = {}): Scenario =>
  ({
    id: "t",
    title: "t",
    kind: "recv",
    size,
    count,
    payload: text ? "text" : "binary",
    metrics: [],
    ...more,
  }) as Scenario;
const deflate = (kind: "recv-deflate" | "send-deflate", size: number, count: number): Scenario => ({
  id: "t",
  title: "t",
  kind,
  size,
  count,
  metrics: [{ key: size < 65536 ? "rate" : "throughput", unit: "", better: "higher" }],
});
const slow = (compressed: boolean, count: number): Scenario => ({
  id: "t",
  title: "t",
  kind: "slow",
  size: 150,
  count,
  compressed,
  metrics: [],
});
const send = (size: number, count: number): Scenario => ({
  id: "t",
  title: "t",
  kind: "send",
  size,
  count,
  metrics: [],
});

/** Wraps an adapter, rewriting what the user sends and receives. */
function tampered(
  inner: Adapter,
  onSend: (data: Uint8Array | string, index: number) => Uint8Array | string | undefined,
  onReceive: (data: BenchMessage, index: number) => BenchMessage | undefined = (d) => d,
): Adapter {
  return {
    name: `tampered ${inner.name}`,
    async connect(url, options) {
      const conn = await inner.connect(url, options);
      let sent = 0;
      let received = 0;
      const wrapped: BenchConnection = {
        onMessage: (handler) =>
          conn.onMessage((data) => {
            const out = onReceive(data, received++);
            if (out !== undefined) handler(out);
          }),
        onClose: (handler) => conn.onClose(handler),
        send: (data) => {
          const out = onSend(data, sent++);
          return out === undefined ? undefined : conn.send(out);
        },
        close: () => conn.close(),
      };
      return wrapped;
    },
  };
}

describe.each([
  ["ws", async () => wsAdapter("ws")],
  ["undici", loadUndici],
  ["tideway", loadTideway],
])("measure with %s", (_name, load) => {
  it("receives binary messages of each size and reports a rate or a throughput", async () => {
    const adapter = await load();
    expect((await measure(adapter, base, recv(16, 5_000), 10_000)).rate).toBeGreaterThan(0);
    expect((await measure(adapter, base, recv(64 * 1024, 50), 10_000)).throughput).toBeGreaterThan(0);
  });

  it("receives text messages as strings", async () => {
    const adapter = await load();
    expect((await measure(adapter, base, recv(1024, 1_000, true), 10_000)).throughput).toBeGreaterThan(0);
  });

  it("receives mixed UTF-8 text with default options through the iterator where there is one", async () => {
    const adapter = await load();
    const s = recv(1024, 1_000, true, { payload: "utf8", defaults: true, delivery: "iterator" });
    expect((await measure(adapter, base, s, 10_000)).throughput).toBeGreaterThan(0);
  });

  it("feeds a slow consumer JSON, compressed or not, and reports the peak RSS", async () => {
    const adapter = await load();
    for (const compressed of [false, true]) {
      const { rss } = await measure(adapter, base, slow(compressed, 2_000), 20_000);
      expect(rss).toBeGreaterThan(10); // MiB: a Node process never peaks lower
      expect(rss).toBeLessThan(4096);
    }
  });

  it("measures a cold receive: the rate and the time from connect() to the first message", async () => {
    const adapter = await load();
    const s = recv(1024, 200, false, { defaults: true, delivery: "iterator", cold: true });
    const metrics = await measure(adapter, base, s, 10_000);
    expect(metrics.rate).toBeGreaterThan(0);
    expect(metrics.first).toBeGreaterThan(0);
  });

  it("sends messages the sink verifies byte for byte, past the high-water mark", async () => {
    const adapter = await load();
    expect((await measure(adapter, base, send(16, 2_000), 10_000)).rate).toBeGreaterThan(0);
    expect((await measure(adapter, base, send(1024 * 1024, 8), 10_000)).throughput).toBeGreaterThan(0);
  });

  it("streams messages as fragments the sink verifies byte for byte (undici cannot: it refuses)", async () => {
    const adapter = await load();
    const s: Scenario = {
      id: "t",
      title: "t",
      kind: "send-stream",
      size: 4 * 1024 * 1024,
      chunk: 64 * 1024,
      count: 2,
      metrics: [],
    };
    if (_name === "undici") {
      await expect(measure(adapter, base, s, 10_000)).rejects.toThrow("cannot stream a send");
      return;
    }
    expect((await measure(adapter, base, s, 10_000)).throughput).toBeGreaterThan(0);
  });

  it("receives compressed JSON (permessage-deflate, context takeover) in order", async () => {
    const adapter = await load();
    expect((await measure(adapter, base, deflate("recv-deflate", 1200, 500), 10_000)).rate).toBeGreaterThan(
      0,
    );
    const big = await measure(adapter, base, deflate("recv-deflate", 65536, 40), 10_000);
    expect(big.throughput).toBeGreaterThan(0);
  });

  it("measures echo latency percentiles", async () => {
    const adapter = await load();
    const scenario: Scenario = {
      id: "e",
      title: "e",
      kind: "echo",
      size: 64,
      count: 200,
      warmup: 10,
      metrics: [],
    };
    const { p50, p99 } = await measure(adapter, base, scenario, 10_000);
    expect(p50).toBeGreaterThan(0);
    expect(p99).toBeGreaterThanOrEqual(p50!);
  });

  it("measures sequential handshakes", async () => {
    const adapter = await load();
    const scenario: Scenario = { id: "h", title: "h", kind: "handshake", count: 20, metrics: [] };
    expect((await measure(adapter, base, scenario, 10_000)).rate).toBeGreaterThan(0);
  });
});

describe("receive with Tideway's diagnostics subscribed", () => {
  it("subscribes to every channel before connecting, so the client publishes to it", async () => {
    const before = diagnosticsReceived.count;
    const s = recv(16, 2_000, false, { defaults: true, diagnostics: true });
    expect((await measure(await loadTideway(), base, s, 10_000)).rate).toBeGreaterThan(0);
    // At least the upgrade request and response, open and close of the measured connection.
    expect(diagnosticsReceived.count - before).toBeGreaterThanOrEqual(4);
    expect(dc.channel("tideway:client:open").hasSubscribers).toBe(true);
  });

  it("is in the full and quick suites next to the same scenario without a subscriber", () => {
    for (const suite of [fullScenarios(), quickScenarios()]) {
      const ids = suite.map((s) => s.id);
      expect(ids).toContain("recv-defaults-binary-16-diag");
      expect(ids).toContain("recv-defaults-binary-16");
    }
  });
});

describe.each([
  ["ws", async () => wsAdapter("ws")],
  ["tideway", loadTideway],
])("compressed send with %s", (_name, load) => {
  it("sends compressed JSON the sink inflates and verifies byte for byte, past the high-water mark", async () => {
    const adapter = await load();
    expect((await measure(adapter, base, deflate("send-deflate", 1200, 300), 10_000)).rate).toBeGreaterThan(
      0,
    );
    // 40 x 64 KiB: past the 1 MiB high-water mark only if compression were off; 400 is past it anyway.
    const big = await measure(adapter, base, deflate("send-deflate", 65536, 400), 20_000);
    expect(big.throughput).toBeGreaterThan(0);
  });
});

describe("measure refuses numbers it cannot vouch for", () => {
  const ws = wsAdapter("ws");

  it("fails when a received message is lost", async () => {
    const lossy = tampered(
      ws,
      (d) => d,
      (d, i) => (i === 7 ? undefined : d),
    );
    await expect(measure(lossy, base, recv(16, 100), 5_000)).rejects.toThrow(
      "message 7: object of 16, first byte 97",
    );
  });

  it("fails when the sink sees a corrupted byte", async () => {
    const corrupt = tampered(ws, (d, i) => {
      if (i !== 3 || typeof d === "string") return d;
      const copy = d.slice();
      copy[100] = copy[100]! ^ 1;
      return copy;
    });
    await expect(measure(corrupt, base, send(1024, 10), 5_000)).rejects.toThrow(
      "sink: error: message 3: payload differs from the pattern near byte",
    );
  });

  it("fails when a sent message is lost in the middle", async () => {
    const lossy = tampered(ws, (d, i) => (i === 5 ? undefined : d));
    await expect(measure(lossy, base, send(16, 10), 5_000)).rejects.toThrow(
      "sink: error: message 5: payload differs from the pattern near byte 0",
    );
  });

  it("times out when the last sent message is lost", async () => {
    const lossy = tampered(ws, (d, i) => (i === 9 ? undefined : d));
    await expect(measure(lossy, base, send(16, 10), 500)).rejects.toThrow(
      "timed out after 500 ms: no verdict from the sink after 10 messages",
    );
  });

  it("fails when a message arrives out of order", async () => {
    // Message 1 carries the payload of message 2 ('c' instead of 'b').
    const early = tampered(ws, (d, i) => (i === 1 ? new Uint8Array(16).fill(0x63) : d));
    await expect(measure(early, base, send(16, 4), 5_000)).rejects.toThrow(
      "sink: error: message 1: payload differs",
    );
  });

  it("fails a compressed scenario with a client that does not offer permessage-deflate", async () => {
    const plain: Adapter = { name: "plain", connect: (url) => ws.connect(url, { perMessageDeflate: false }) };
    await expect(measure(plain, base, deflate("recv-deflate", 1200, 10), 5_000)).rejects.toThrow(/400/);
  });

  it("fails a compressed send when the library sends uncompressed (undici)", async () => {
    const undici = await loadUndici();
    await expect(measure(undici, base, deflate("send-deflate", 1200, 10), 5_000)).rejects.toThrow(
      "sink: error: message 0: opcode 1 fin true rsv1 false",
    );
  });

  it("fails when a compressed JSON message is corrupted before compression", async () => {
    const corrupt = tampered(ws, (d, i) => (i === 4 && typeof d === "string" ? `${d.slice(0, -2)}}]` : d));
    await expect(measure(corrupt, base, deflate("send-deflate", 1200, 10), 5_000)).rejects.toThrow(
      "sink: error: message 4: inflated byte 1198 differs from the expected JSON",
    );
  });

  it("fails when a received compressed message is lost", async () => {
    const lossy = tampered(
      ws,
      (d) => d,
      (d, i) => (i === 3 ? undefined : d),
    );
    await expect(measure(lossy, base, deflate("recv-deflate", 1200, 10), 5_000)).rejects.toThrow(
      'message 3: "{"seq":"0000000004..." of 1200',
    );
  });

  it("fails when the slow consumer loses a message, compressed or not", async () => {
    const lossy = tampered(
      ws,
      (d) => d,
      (d, i) => (i === 7 ? undefined : d),
    );
    for (const compressed of [false, true]) {
      await expect(measure(lossy, base, slow(compressed, 20), 5_000)).rejects.toThrow(
        'message 7: "{"seq":"0000000008..." of 150',
      );
    }
  });

  it("fails when a sent compressed message repeats the previous one", async () => {
    const twice = tampered(ws, (d, i) => (i === 3 ? jsonMessage(1200, 2) : d));
    await expect(measure(twice, base, deflate("send-deflate", 1200, 10), 5_000)).rejects.toThrow(
      "sink: error: message 3: inflated byte 17 differs from the expected JSON",
    );
  });

  it("needs node --expose-gc for the idle scenario", async () => {
    const scenario: Scenario = { id: "i", title: "i", kind: "idle", connections: 10, metrics: [] };
    await expect(measure(ws, base, scenario, 5_000)).rejects.toThrow(
      "the idle scenario needs node --expose-gc",
    );
  });
});

describe("warm-up", () => {
  it("runs 15% of a counted scenario's full count first, unmeasured, and none for echo or idle", () => {
    expect(warmupOf(send(16, 1000))).toMatchObject({ kind: "send", size: 16, count: 150 });
    // The same warm-up in --quick as in a full run: 15% of the full count.
    const quickSend16 = quickScenarios().find((s) => s.id === "send-binary-16")!;
    const fullSend16 = fullScenarios().find((s) => s.id === "send-binary-16")!;
    expect(warmupOf(quickSend16)).toMatchObject({
      count: Math.round(0.15 * (fullSend16 as { count: number }).count),
    });
    expect(warmupOf(recv(16, 3))).toMatchObject({ count: 1 });
    expect(warmupOf({ id: "e", title: "e", kind: "echo", size: 64, count: 10, warmup: 2, metrics: [] })).toBe(
      undefined,
    );
    expect(warmupOf({ id: "i", title: "i", kind: "idle", connections: 10, metrics: [] })).toBe(undefined);
    expect(warmupOf(slow(true, 100))).toBe(undefined);
    expect(warmupOf(recv(1024, 1000, false, { cold: true }))).toBe(undefined);
  });

  it("opens a warm-up connection before the measured one", async () => {
    const urls: string[] = [];
    const counting: Adapter = {
      name: "counting",
      connect: (url, options) => {
        urls.push(url);
        return wsAdapter("ws").connect(url, options);
      },
    };
    await measure(counting, base, recv(16, 100), 5_000);
    expect(urls.map((u) => new URL(u).search)).toEqual([
      "?size=16&count=15&text=0",
      "?size=16&count=100&text=0",
    ]);
  });
});
