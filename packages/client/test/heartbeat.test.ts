import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { Heartbeat, type HeartbeatOptions, MAX_OUTSTANDING_USER_PINGS } from "../src/heartbeat.js";
import { HeartbeatTimeoutError } from "../src/index.js";
import { client, nextEvent, rawServer, recordEvents, take, within, wsServer } from "./helpers/harness.js";
import { ManualClock } from "./helpers/manual-clock.js";
import { onUpgradeRequest, serverFrame, sleep, switchingProtocols, waitFor } from "./helpers/servers.js";

/** A heartbeat on a manual clock that records what it sends and when it gives up. */
function setup(options: Partial<HeartbeatOptions> = {}) {
  const clock = new ManualClock(1000);
  const pings: { at: number; payload: Uint8Array }[] = [];
  const deaths: number[] = [];
  const hb = new Heartbeat({
    interval: 100,
    timeout: 50,
    ...options,
    clock,
    sendPing: (payload) => pings.push({ at: clock.now(), payload }),
    onDead: (elapsed) => deaths.push(elapsed),
  });
  const last = () => pings.at(-1)!.payload;
  return { clock, hb, pings, deaths, last };
}

/** Settles microtasks so promise reactions run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("Heartbeat schedule", () => {
  it("sends the first ping one interval after start, then one per interval while pongs come back", () => {
    const { clock, hb, pings, last, deaths } = setup();
    hb.start();
    clock.advance(99);
    expect(pings).toHaveLength(0);
    clock.advance(1);
    expect(pings.map((p) => p.at)).toEqual([1100]);
    for (let i = 0; i < 4; i++) {
      clock.advance(10);
      hb.onPong(last());
      clock.advance(90);
    }
    expect(pings.map((p) => p.at)).toEqual([1100, 1200, 1300, 1400, 1500]);
    expect(deaths).toEqual([]);
  });

  it("gives every ping a distinct 8-byte payload", () => {
    const { clock, hb, pings, last } = setup();
    hb.start();
    for (let i = 0; i < 5; i++) {
      clock.advance(100);
      hb.onPong(last());
    }
    const keys = new Set(pings.map((p) => Array.from(p.payload).join(",")));
    expect(pings.every((p) => p.payload.byteLength === 8)).toBe(true);
    expect(keys.size).toBe(5);
  });

  it("sends no periodic ping when interval is 0, but ping() still works", async () => {
    const { clock, hb, pings, last } = setup({ interval: 0 });
    hb.start();
    clock.advance(10_000);
    expect(pings).toHaveLength(0);
    const rtt = hb.ping();
    clock.advance(7);
    hb.onPong(last());
    await expect(rtt).resolves.toBe(7);
  });

  it("rejects invalid options", () => {
    const base = { clock: new ManualClock(), sendPing: () => {}, onDead: () => {} };
    expect(() => new Heartbeat({ ...base, interval: Number.NaN, timeout: 1 })).toThrow(RangeError);
    expect(() => new Heartbeat({ ...base, interval: 1, timeout: -1 })).toThrow(RangeError);
  });
});

describe("Heartbeat dead-peer detection", () => {
  it("declares the peer dead once, timeout ms after an unanswered ping", () => {
    const { clock, hb, deaths, pings } = setup();
    hb.start();
    clock.advance(100); // ping at 1100
    clock.advance(49);
    expect(deaths).toEqual([]);
    clock.advance(1);
    expect(deaths).toEqual([50]);
    clock.advance(10_000);
    expect(deaths).toEqual([50]);
    expect(pings).toHaveLength(1); // no more pings once dead
    expect(clock.pendingTimers).toBe(0);
  });

  it("a pong just before the deadline keeps the peer alive", () => {
    const { clock, hb, deaths, last } = setup();
    hb.start();
    clock.advance(149); // ping at 1100, deadline at 1150
    hb.onPong(last());
    clock.advance(50); // 1199: past the old deadline, before the next ping
    expect(deaths).toEqual([]);
    expect(clock.pendingTimers).toBe(1); // only the next tick
  });

  it("a pong resets the deadline: the peer dies only after a later unanswered ping", () => {
    const { clock, hb, deaths, pings, last } = setup();
    hb.start();
    clock.advance(100); // ping 1 at 1100
    clock.advance(40);
    hb.onPong(last());
    clock.advance(60); // ping 2 at 1200
    expect(pings).toHaveLength(2);
    clock.advance(49);
    expect(deaths).toEqual([]);
    clock.advance(1); // 1250: ping 2 unanswered for 50 ms
    expect(deaths).toEqual([50]);
  });

  it("never declares the peer dead when timeout is 0", () => {
    const { clock, hb, deaths, pings } = setup({ timeout: 0 });
    hb.start();
    clock.advance(1000);
    expect(deaths).toEqual([]);
    // Only one heartbeat ping is ever outstanding: no answer, no new ping.
    expect(pings).toHaveLength(1);
    expect(hb.outstandingPings).toBe(1);
  });

  it("when timeout > interval, waits for the first ping's deadline without piling up pings", () => {
    const { clock, hb, deaths, pings } = setup({ interval: 100, timeout: 250 });
    hb.start();
    clock.advance(100); // ping at 1100
    clock.advance(249);
    expect(pings).toHaveLength(1);
    expect(deaths).toEqual([]);
    clock.advance(1);
    expect(deaths).toEqual([250]);
  });
});

describe("Heartbeat pongs", () => {
  it("measures latency from the matching ping", () => {
    const { clock, hb, last } = setup();
    hb.start();
    expect(hb.latency).toBeUndefined();
    clock.advance(100);
    clock.advance(12);
    hb.onPong(last());
    expect(hb.latency).toBe(12);
    clock.advance(88); // next ping at 1200
    clock.advance(3);
    hb.onPong(last());
    expect(hb.latency).toBe(3);
  });

  it("a pong acknowledges its ping and every earlier one, all resolved with its round trip", async () => {
    const { clock, hb, pings } = setup({ interval: 0 });
    hb.start();
    const first = hb.ping();
    clock.advance(10);
    const second = hb.ping();
    clock.advance(10);
    const third = hb.ping();
    expect(hb.outstandingPings).toBe(3);
    clock.advance(5);
    hb.onPong(pings[1]!.payload); // answers only the second (RFC 6455 5.5.3 allows it)
    await expect(first).resolves.toBe(15);
    await expect(second).resolves.toBe(15);
    expect(hb.latency).toBe(15);
    expect(hb.outstandingPings).toBe(1);
    let thirdSettled = false;
    void third.then(() => (thirdSettled = true));
    await flush();
    expect(thirdSettled).toBe(false);
    hb.onPong(pings[2]!.payload);
    await expect(third).resolves.toBe(5);
  });

  it("a heartbeat pong acknowledges earlier user pings", async () => {
    const { clock, hb, pings } = setup({ interval: 100, timeout: 1000 });
    hb.start();
    clock.advance(50);
    const user = hb.ping(); // pings[0] at 1050
    clock.advance(10);
    hb.onActivity(); // proof of life: the next tick sends a heartbeat ping
    clock.advance(40); // pings[1] at 1100
    expect(pings).toHaveLength(2);
    clock.advance(5);
    hb.onPong(pings[1]!.payload);
    await expect(user).resolves.toBe(5);
    expect(hb.outstandingPings).toBe(0);
  });

  it("ping(data) sends the caller's payload and resolves on the pong that echoes it", async () => {
    const { clock, hb, pings } = setup({ interval: 0 });
    hb.start();
    const data = Uint8Array.of(1, 2, 3);
    const withData = hb.ping(data);
    expect(pings[0]!.payload).toBe(data);
    const plain = hb.ping();
    clock.advance(7);
    let settled = false;
    void withData.then(() => (settled = true));
    hb.onPong(Uint8Array.of(1, 2, 4)); // another payload: not its pong
    hb.onPong(pings[1]!.payload.slice(0, 8).fill(0)); // not ours either
    await flush();
    expect(settled).toBe(false);
    hb.onPong(Uint8Array.of(1, 2, 3));
    await expect(withData).resolves.toBe(7);
    expect(hb.outstandingPings).toBe(1);
    hb.onPong(pings[1]!.payload);
    await expect(plain).resolves.toBe(7);
  });

  it("ignores unsolicited pongs with unknown payloads", () => {
    const { clock, hb, deaths, last } = setup();
    hb.start();
    clock.advance(100);
    const ours = last();
    const forged = ours.slice();
    forged[0] = (forged[0]! ^ 0xff) & 0xff; // same sequence number, other nonce
    const later = ours.slice();
    later[7] = (later[7]! + 1) & 0xff; // our nonce, a sequence number never sent
    for (const payload of [new Uint8Array(0), new Uint8Array([1, 2, 3]), forged, later, ours.slice(0, 7)]) {
      hb.onPong(payload);
    }
    expect(hb.latency).toBeUndefined();
    expect(hb.outstandingPings).toBe(1);
    clock.advance(50);
    expect(deaths).toEqual([50]);
  });

  it("matches a pong payload that is a view into a larger buffer", () => {
    const { clock, hb, last } = setup();
    hb.start();
    clock.advance(104);
    const frame = new Uint8Array(20);
    frame.set(last(), 5);
    hb.onPong(frame.subarray(5, 13));
    expect(hb.latency).toBe(4);
  });

  it("a late pong of a superseded heartbeat ping is ignored", () => {
    const { clock, hb, pings } = setup({ interval: 100, timeout: 1000 });
    hb.start();
    clock.advance(100); // ping 0 at 1100
    hb.onActivity(); // proof of life without a pong
    clock.advance(100); // ping 1 at 1200 replaces ping 0
    expect(pings).toHaveLength(2);
    expect(hb.outstandingPings).toBe(1);
    hb.onPong(pings[0]!.payload);
    expect(hb.latency).toBeUndefined();
    hb.onPong(pings[1]!.payload);
    expect(hb.latency).toBe(0);
  });
});

describe("Heartbeat activity", () => {
  it("any received data counts as proof of life", () => {
    const { clock, hb, deaths, pings } = setup();
    hb.start();
    clock.advance(100); // ping at 1100, deadline 1150
    clock.advance(40);
    hb.onActivity();
    clock.advance(50); // past 1150
    expect(deaths).toEqual([]);
    clock.advance(10); // 1200: a fresh ping, because the previous deadline was satisfied
    expect(pings).toHaveLength(2);
    clock.advance(50);
    expect(deaths).toEqual([50]);
  });

  it("activity with no ping outstanding changes nothing", () => {
    const { clock, hb, deaths, pings } = setup();
    hb.start();
    hb.onActivity();
    clock.advance(100);
    expect(pings).toHaveLength(1);
    clock.advance(50);
    expect(deaths).toEqual([50]);
  });
});

describe("Heartbeat pause/resume", () => {
  it("pause suppresses death and resume restarts the deadline fresh", () => {
    const { clock, hb, deaths, pings, last } = setup();
    hb.start();
    clock.advance(100); // ping at 1100
    clock.advance(40);
    hb.pause();
    clock.advance(10_000);
    expect(deaths).toEqual([]);
    expect(pings).toHaveLength(1); // no pings while paused either
    expect(clock.pendingTimers).toBe(0);
    hb.resume();
    clock.advance(49);
    expect(deaths).toEqual([]);
    hb.onPong(last()); // the pong was sitting unread in the socket
    clock.advance(1);
    expect(deaths).toEqual([]);
    expect(hb.latency).toBe(10_089);
  });

  it("after resume, a still-unanswered ping kills the peer a full timeout later", () => {
    const { clock, hb, deaths } = setup();
    hb.start();
    clock.advance(145);
    hb.pause();
    clock.advance(500);
    hb.resume();
    clock.advance(49);
    expect(deaths).toEqual([]);
    clock.advance(1);
    expect(deaths).toEqual([50]);
  });

  it("resume without an outstanding ping resumes the schedule", () => {
    const { clock, hb, pings } = setup();
    hb.start();
    hb.pause();
    clock.advance(1000);
    expect(pings).toHaveLength(0);
    hb.resume();
    clock.advance(100);
    expect(pings.map((p) => p.at)).toEqual([2100]);
  });

  it("a ping() while paused arms its deadline only on resume", () => {
    const { clock, hb, deaths } = setup({ interval: 0 });
    hb.start();
    hb.pause();
    void hb.ping().catch(() => {});
    clock.advance(1000);
    expect(deaths).toEqual([]);
    hb.resume();
    clock.advance(50);
    expect(deaths).toEqual([50]);
  });

  it("pause before start keeps the schedule off until resume", () => {
    const { clock, hb, pings } = setup();
    hb.pause();
    hb.start();
    clock.advance(500);
    expect(pings).toHaveLength(0);
    hb.resume();
    clock.advance(100);
    expect(pings).toHaveLength(1);
  });
});

describe("Heartbeat stop", () => {
  it("clears every timer and rejects pending ping() with the given reason", async () => {
    const { clock, hb, deaths } = setup();
    hb.start();
    clock.advance(100); // heartbeat ping outstanding, deadline armed
    const a = hb.ping();
    const b = hb.ping();
    expect(clock.pendingTimers).toBe(1); // the wheel: one timer for the tick and the deadline
    const reason = new Error("connection closed");
    hb.stop(reason);
    expect(clock.pendingTimers).toBe(0);
    await expect(a).rejects.toBe(reason);
    await expect(b).rejects.toBe(reason);
    expect(hb.outstandingPings).toBe(0);
    clock.advance(10_000);
    expect(deaths).toEqual([]);
  });

  it("rejects with a default Error without a reason, and ping() after stop rejects too", async () => {
    const { hb } = setup();
    hb.start();
    const p = hb.ping();
    hb.stop();
    await expect(p).rejects.toThrow("Heartbeat stopped");
    await expect(hb.ping()).rejects.toThrow("Heartbeat stopped");
    hb.stop(new Error("again")); // idempotent
    await expect(hb.ping()).rejects.toThrow("Heartbeat stopped");
  });

  it("ignores pongs after stop and cannot restart", () => {
    const { clock, hb, last } = setup();
    hb.start();
    clock.advance(100);
    hb.stop();
    hb.onPong(last());
    expect(hb.latency).toBeUndefined();
    expect(() => hb.start()).toThrow(/cannot restart/);
  });

  it("ping() before start or after death rejects", async () => {
    const { clock, hb, deaths } = setup();
    await expect(hb.ping()).rejects.toThrow(/idle/);
    hb.start();
    clock.advance(150);
    expect(deaths).toEqual([50]);
    await expect(hb.ping()).rejects.toThrow(/dead/);
    hb.stop(); // the connection stops it after onDead: no pending timer, no throw
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("Heartbeat bounds", () => {
  it(`keeps at most one heartbeat ping and ${MAX_OUTSTANDING_USER_PINGS} user pings outstanding`, async () => {
    const { clock, hb, pings } = setup({ interval: 10, timeout: 0 });
    hb.start();
    clock.advance(1000); // the peer never answers: still one heartbeat ping
    expect(hb.outstandingPings).toBe(1);
    const accepted = Array.from({ length: MAX_OUTSTANDING_USER_PINGS }, () => hb.ping());
    expect(hb.outstandingPings).toBe(1 + MAX_OUTSTANDING_USER_PINGS);
    const sent = pings.length;
    await expect(hb.ping()).rejects.toThrow(RangeError);
    expect(pings).toHaveLength(sent); // the refused ping was not written
    expect(hb.outstandingPings).toBe(1 + MAX_OUTSTANDING_USER_PINGS);
    // Answering the newest frees every slot, and a new ping() is accepted again.
    hb.onPong(pings.at(-1)!.payload);
    await Promise.all(accepted);
    expect(hb.outstandingPings).toBe(0);
    const again = hb.ping();
    hb.onPong(pings.at(-1)!.payload);
    await expect(again).resolves.toBe(0);
  });

  it("a ping() whose send throws rejects with that error and frees its slot", async () => {
    const clock = new ManualClock();
    const boom = new Error("socket gone");
    const hb = new Heartbeat({
      interval: 0,
      timeout: 50,
      clock,
      sendPing: () => {
        throw boom;
      },
      onDead: () => {},
    });
    hb.start();
    await expect(hb.ping()).rejects.toBe(boom);
    expect(hb.outstandingPings).toBe(0);
    expect(clock.pendingTimers).toBe(0); // no deadline for a ping never sent
  });
});

// Never killed because the client itself paused reading; server pings answered; latency measured; a peer
// that sends data but never answers pings is alive.
describe("on real connections", () => {
  const HEARTBEAT = { interval: 50, timeout: 100 };

  describe("the heartbeat and backpressure", () => {
    it("a consumer that stalls for many timeouts while the socket is paused: no timeout, no reconnect, all in order", async () => {
      const server = await wsServer({ echo: false });
      const chunk = Buffer.alloc(64 * 1024, 7);
      const count = 320; // 20 MiB: far more than the socket buffers hold, so the server must wait
      server.wss.on("connection", (ws) => {
        for (let i = 0; i < count; i++) {
          chunk.writeUInt32BE(i, 0);
          ws.send(Buffer.from(chunk));
        }
      });
      const c = client(server.url, { heartbeat: HEARTBEAT, highWaterMark: 128 * 1024 });
      const events = recordEvents(c);
      await c.connect();
      const it = c[Symbol.asyncIterator]();
      expect(await take(it, 1)).toHaveLength(1);
      // Stall for 8 heartbeat timeouts. The client has stopped reading: its pings' pongs, if any, sit
      // behind megabytes of unread data, so only the pause of the heartbeat keeps the connection alive.
      await sleep(8 * HEARTBEAT.timeout);
      // The pause is real: most of the 20 MiB still waits on the server side.
      expect(server.clients[0]?.bufferedAmount).toBeGreaterThan(4 * 2 ** 20);
      const rest = await within(take(it, count - 1), 10_000, "the rest of the flood");
      expect(rest.map((m) => Buffer.from(m as Uint8Array).readUInt32BE(0))).toEqual(
        Array.from({ length: count - 1 }, (_, i) => i + 1),
      );
      // After resuming, the heartbeat still runs and the connection is healthy: a ping round trip works.
      await sleep(2 * HEARTBEAT.interval);
      expect(await within(c.ping(), 2000, "a ping after the flood")).toBeGreaterThanOrEqual(0);
      expect(events).toEqual(["connect", "open"]);
      expect(server.requests).toHaveLength(1);
    }, 20_000);

    it("a steadily slow consumer (pause/resume cycles) keeps a healthy connection", async () => {
      const server = await wsServer({ echo: false });
      const count = 120;
      server.wss.on("connection", (ws) => {
        for (let i = 0; i < count; i++) {
          const b = Buffer.alloc(32 * 1024, 1);
          b.writeUInt32BE(i, 0);
          ws.send(b);
        }
      });
      const c = client(server.url, { heartbeat: { interval: 20, timeout: 40 }, highWaterMark: 64 * 1024 });
      const events = recordEvents(c);
      await c.connect();
      const got: number[] = [];
      for await (const m of c) {
        got.push(Buffer.from(m as Uint8Array).readUInt32BE(0));
        await sleep(5); // 600 ms in all: 15 timeouts
        if (got.length === count) break;
      }
      expect(got).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(events).toEqual(["connect", "open"]);
    }, 20_000);
  });

  describe("heartbeat behaviour on a real connection", () => {
    it("answers the server's pings with pongs carrying the same payload, and emits 'ping'", async () => {
      const server = await wsServer({ echo: false });
      const c = client(server.url);
      const pinged = nextEvent(c, "ping");
      await c.connect();
      const ws = server.clients[0];
      const pong = new Promise<string>((resolve) => ws?.once("pong", (d) => resolve(d.toString())));
      ws?.ping("are you there");
      expect(await within(pong, 2000, "the pong")).toBe("are you there");
      expect(Buffer.from(await pinged).toString()).toBe("are you there");
    });

    it("sends heartbeat pings every interval and records latency without any ping() call", async () => {
      const server = await wsServer({ echo: false });
      const c = client(server.url, { heartbeat: { interval: 30, timeout: 1000 } });
      await c.connect();
      let pings = 0;
      server.clients[0]?.on("ping", () => pings++);
      expect(c.latency).toBeUndefined();
      await waitFor(() => pings >= 3, 2000, "three heartbeat pings");
      expect(c.latency).toBeGreaterThanOrEqual(0);
      expect(c.latency).toBeLessThan(1000);
    });

    it("client.latency keeps the last round trip after the client is closed", async () => {
      const server = await wsServer();
      const c = client(server.url);
      await c.connect();
      const rtt = await c.ping();
      await c.close();
      expect(c.latency).toBe(rtt);
    });

    it("a peer that streams data but never answers pings is not declared dead", async () => {
      const server = await rawServer((socket) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(switchingProtocols(key));
          let i = 0;
          const timer = setInterval(() => {
            if (socket.destroyed) clearInterval(timer);
            else socket.write(serverFrame(1, `tick ${i++}`));
          }, 10);
          socket.on("close", () => clearInterval(timer));
        }),
      );
      const c = client(server.url, { heartbeat: { interval: 20, timeout: 40 } });
      const events = recordEvents(c);
      await c.connect();
      const got = await within(take(c[Symbol.asyncIterator](), 30), 3000, "30 ticks"); // ~300 ms: 7 timeouts
      expect(got[29]).toBe("tick 29");
      expect(events).toEqual(["connect", "open"]);
    });

    it("a silent peer is declared dead: HeartbeatTimeoutError, close 1011 sent, then a reconnect", async () => {
      const received: Buffer[] = [];
      const server = await rawServer((socket, index) =>
        onUpgradeRequest(socket, (key) => {
          socket.write(switchingProtocols(key));
          if (index === 0) socket.on("data", (d: Buffer) => received.push(d));
        }),
      );
      const c = client(server.url, { heartbeat: { interval: 20, timeout: 40 }, closeTimeout: 50 });
      const error = nextEvent(c, "error");
      const closed = nextEvent(c, "close");
      const reopened = new Promise<void>((resolve) => {
        let opens = 0;
        c.on("open", () => {
          if (++opens === 2) resolve();
        });
      });
      await c.connect();
      expect(await within(error, 2000, "the heartbeat error")).toBeInstanceOf(HeartbeatTimeoutError);
      const info = await within(closed, 2000, "the close event");
      expect(info.sent?.code).toBe(1011);
      expect(info.wasClean).toBe(false);
      await within(reopened, 2000, "the reconnect");
      // The first connection saw a ping (opcode 0x9), then a close frame (0x8) carrying 1011.
      const bytes = Buffer.concat(received);
      const opcodes: number[] = [];
      let closeCode: number | undefined;
      for (let off = 0; off + 6 <= bytes.length; ) {
        const op = (bytes[off] ?? 0) & 0x0f;
        const len = (bytes[off + 1] ?? 0) & 0x7f;
        opcodes.push(op);
        if (op === 0x8) {
          const mask = bytes.subarray(off + 2, off + 6);
          closeCode =
            (((bytes[off + 6] ?? 0) ^ (mask[0] ?? 0)) << 8) | ((bytes[off + 7] ?? 0) ^ (mask[1] ?? 0));
        }
        off += 6 + len;
      }
      expect(opcodes[0]).toBe(0x9);
      expect(opcodes).toContain(0x8);
      expect(closeCode).toBe(1011);
    });
  });
});

describe("the shared wheel", () => {
  it("runs every heartbeat of a clock on one timer, each at its own time", () => {
    const clock = new ManualClock(1000);
    const pings: [string, number][] = [];
    const make = (name: string, interval: number) =>
      new Heartbeat({
        interval,
        timeout: 0,
        clock,
        sendPing: () => pings.push([name, clock.now()]),
        onDead: () => {},
      });
    const a = make("a", 100);
    const b = make("b", 30);
    a.start();
    b.start();
    expect(clock.pendingTimers).toBe(1);
    // Data read between the pings proves b alive, so each of its ticks sends a new ping.
    for (let i = 0; i < 3; i++) {
      clock.advance(30);
      b.onActivity();
    }
    clock.advance(10);
    expect(pings).toEqual([
      ["b", 1030],
      ["b", 1060],
      ["b", 1090],
      ["a", 1100],
    ]);
    b.stop();
    expect(clock.pendingTimers).toBe(1);
    a.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("keeps the other heartbeats running when one's sendPing throws", async () => {
    const clock = new ManualClock(0);
    const thrown: unknown[] = [];
    const onUncaught = (err: unknown) => thrown.push(err);
    process.on("uncaughtException", onUncaught);
    try {
      const pings: number[] = [];
      const failing = new Heartbeat({
        interval: 10,
        timeout: 0,
        clock,
        sendPing: () => {
          throw new Error("socket gone");
        },
        onDead: () => {},
      });
      const healthy = new Heartbeat({
        interval: 10,
        timeout: 0,
        clock,
        sendPing: () => pings.push(clock.now()),
        onDead: () => {},
      });
      failing.start();
      healthy.start();
      clock.advance(10);
      healthy.onActivity();
      clock.advance(10);
      await flush();
      expect(pings).toEqual([10, 20]);
      expect(thrown.length).toBeGreaterThan(0);
      failing.stop();
      healthy.stop();
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
