/**
 * The default heartbeat on a real connection, with the timers faked. In a file of its own: the
 * heartbeats of a process share one timer per clock, so heartbeats other tests left running would
 * hold a real timer from before the fake ones were installed.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_HEARTBEAT, HeartbeatTimeoutError, WebSocketClient } from "../../src/index.js";
import { rawServer, useCleanups } from "../helpers/harness.js";
import { onUpgradeRequest, switchingProtocols } from "../helpers/servers.js";

useCleanups();

describe("the heartbeat is on by default", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Lets real I/O run while setTimeout is faked. */
  async function until(cond: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 2000 && !cond(); i++) await new Promise<void>((r) => setImmediate(r));
    if (!cond()) throw new Error(`never happened: ${what}`);
  }

  it(`pings after ${DEFAULT_HEARTBEAT.interval} ms and declares a silent peer dead ${DEFAULT_HEARTBEAT.timeout} ms later`, async () => {
    const frames: number[] = [];
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        socket.on("data", (d: Buffer) => frames.push((d[0] ?? 0) & 0x0f));
      }),
    );
    // Only the timers are faked (the client's clock calls the global setTimeout): no 40 s wait.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const c = new WebSocketClient(server.url, { reconnect: false }); // heartbeat: the default
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    await c.connect();
    vi.advanceTimersByTime(DEFAULT_HEARTBEAT.interval - 1);
    await new Promise<void>((r) => setImmediate(r));
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(1);
    await until(() => frames.includes(0x9), "the default heartbeat ping");
    vi.advanceTimersByTime(DEFAULT_HEARTBEAT.timeout);
    await until(() => errors.length > 0, "the heartbeat timeout");
    expect(errors[0]).toBeInstanceOf(HeartbeatTimeoutError);
    c.terminate();
  });
});
