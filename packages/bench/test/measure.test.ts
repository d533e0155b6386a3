// measure() against the real bench server (in this process), through the ws and undici adapters,
// and through adapters that lose or corrupt one message: those must fail, not report a number.
import type { Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { load as loadTideway } from "../src/adapters/tideway.js";
import type { Adapter, BenchConnection, BenchMessage } from "../src/adapters/types.js";
import { load as loadUndici } from "../src/adapters/undici.js";
import { wsAdapter } from "../src/adapters/ws-common.js";
import { measure } from "../src/measure.js";
import type { Scenario } from "../src/scenarios.js";
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

const recv = (size: number, count: number, text = false): Scenario => ({
  id: "t",
  title: "t",
  kind: "recv",
  size,
  count,
  text,
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
    async connect(url) {
      const conn = await inner.connect(url);
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

  it("sends messages the sink verifies byte for byte, past the high-water mark", async () => {
    const adapter = await load();
    expect((await measure(adapter, base, send(16, 2_000), 10_000)).rate).toBeGreaterThan(0);
    expect((await measure(adapter, base, send(1024 * 1024, 8), 10_000)).throughput).toBeGreaterThan(0);
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

  it("needs node --expose-gc for the idle scenario", async () => {
    const scenario: Scenario = { id: "i", title: "i", kind: "idle", connections: 10, metrics: [] };
    await expect(measure(ws, base, scenario, 5_000)).rejects.toThrow(
      "the idle scenario needs node --expose-gc",
    );
  });
});
