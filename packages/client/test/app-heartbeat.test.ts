import { describe, expect, it } from "vitest";
import { type AppHeartbeatOptions, appHeartbeat } from "../src/app-heartbeat.js";
import { HeartbeatTimeoutError } from "../src/errors.js";
import { ManualClock } from "./helpers/manual-clock.js";

const options = (o: Partial<AppHeartbeatOptions> = {}): AppHeartbeatOptions => ({
  message: "ping",
  isReply: (m) => m === "pong",
  interval: 100,
  timeout: 30,
  ...o,
});

function beating(o: Partial<AppHeartbeatOptions> = {}) {
  const clock = new ManualClock();
  const sent: (string | Uint8Array)[] = [];
  const dead: Error[] = [];
  const hb = appHeartbeat(options(o))(
    clock,
    (m) => sent.push(m),
    (e) => dead.push(e),
  );
  return { clock, sent, dead, hb };
}

describe("appHeartbeat(): the options", () => {
  it("names each invalid field in a TypeError, when the heartbeat is made", () => {
    const isReply = () => true;
    expect(() => appHeartbeat({ message: 1 as never, isReply })).toThrow(/appHeartbeat.message/);
    expect(() => appHeartbeat({ message: "p" } as never)).toThrow(/appHeartbeat.isReply/);
    expect(() => appHeartbeat({ message: "p", isReply, interval: -1 })).toThrow(/appHeartbeat.interval/);
    expect(() => appHeartbeat({ message: "p", isReply, timeout: 0 })).toThrow(/appHeartbeat.timeout/);
    expect(() => appHeartbeat({ message: "p", isReply, interval: Number.POSITIVE_INFINITY })).toThrow(
      /appHeartbeat.interval must be a finite number/,
    );
    expect(() => appHeartbeat({ message: "p", isReply, every: 1 } as never)).toThrow(
      /Unknown option: appHeartbeat.every/,
    );
    expect(() => appHeartbeat("p" as never)).toThrow(/Option appHeartbeat must be an object/);
  });

  it("by default beats every 30 s and waits 10 s for the reply, as the ping-frame heartbeat", () => {
    const clock = new ManualClock();
    const sent: (string | Uint8Array)[] = [];
    const dead: Error[] = [];
    const hb = appHeartbeat({ message: "p", isReply: (m) => m === "r" })(
      clock,
      (m) => sent.push(m),
      (e) => dead.push(e),
    );
    hb.start();
    clock.advance(29_999);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual(["p"]);
    clock.advance(9_999);
    expect(dead).toEqual([]);
    clock.advance(1);
    expect(dead[0]).toBeInstanceOf(HeartbeatTimeoutError);
  });
});

describe("appHeartbeat(): one connection's heartbeat", () => {
  it("sends the message every interval once the reply came, and measures the round trip", () => {
    const { clock, sent, dead, hb } = beating();
    hb.start();
    clock.advance(99);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual(["ping"]);
    clock.advance(12);
    expect(hb.received("pong")).toBe(true);
    expect(hb.latency).toBe(12);
    clock.advance(100);
    expect(sent).toEqual(["ping", "ping"]);
    expect(dead).toEqual([]);
  });

  it("fails with a HeartbeatTimeoutError when no reply comes within the timeout, and beats no more", () => {
    const { clock, sent, dead, hb } = beating();
    hb.start();
    clock.advance(100 + 29);
    expect(dead).toEqual([]);
    clock.advance(1);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toBeInstanceOf(HeartbeatTimeoutError);
    expect((dead[0] as HeartbeatTimeoutError).code).toBe("WS_ERR_HEARTBEAT_TIMEOUT");
    clock.advance(1000);
    expect(sent).toHaveLength(1);
  });

  it("passes other messages on, and consumes a late reply without counting it", () => {
    const { hb } = beating();
    expect(hb.received("data")).toBe(false);
    expect(hb.received("pong")).toBe(true);
    expect(hb.latency).toBeUndefined();
  });

  it("ping() sends a beat now, and a second ping() joins it instead of sending another", async () => {
    const { clock, sent, hb } = beating({ interval: 0, message: () => new Uint8Array([1]) });
    const first = hb.ping();
    const second = hb.ping();
    expect(sent).toEqual([new Uint8Array([1])]);
    clock.advance(7);
    hb.received("pong");
    await expect(first).resolves.toBe(7);
    await expect(second).resolves.toBe(7);
    clock.advance(10_000);
    expect(sent).toHaveLength(1); // interval 0: no periodic beats
  });

  it("a message function that throws fails the heartbeat with what it threw, and the waiting pings too", async () => {
    const thrown = new Error("no token");
    const { clock, dead, hb } = beating({
      message: () => {
        throw thrown;
      },
    });
    hb.start();
    const waiting = hb.ping();
    await expect(waiting).rejects.toBe(thrown);
    expect(dead).toEqual([thrown]);
    clock.advance(1000);
    expect(dead).toHaveLength(1);
  });

  it("stop() rejects the pings waiting and every later one", async () => {
    const { hb } = beating();
    const waiting = hb.ping();
    const error = new Error("gone");
    hb.stop(error);
    await expect(waiting).rejects.toBe(error);
    await expect(hb.ping()).rejects.toBe(error);
  });
});
