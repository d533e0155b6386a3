/**
 * Regression tests for two bugs the issue-3 audit found (both fixed in client.ts):
 *
 * 1. Backpressure was lost across a reconnect: the MessageQueue outlives connections and stays
 *    "paused", but a new Connection started unpaused, so it read without limit while the consumer
 *    was stalled. A new connection now starts paused when the queue is.
 * 2. terminate() followed at once by connect() (or reconnect()): the previous run loop, still
 *    unwinding, rejected the NEW connect() and reset the client's state. Each run now owns its stop
 *    signal and leaves quietly when a newer run has started.
 */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { client, deadUrl, useCleanups, within, wsServer } from "./helpers/harness.js";
import { sleep, waitFor } from "./helpers/servers.js";

useCleanups();

describe("bug 1: backpressure across a reconnect", () => {
  it("a connection opened while the consumer is still over the high-water mark does not read past it", async () => {
    const server = await wsServer({ echo: false });
    let conn = 0;
    server.wss.on("connection", (ws) => {
      if (conn++ === 0) {
        ws.send(Buffer.alloc(2 ** 20, 1)); // 1 MiB: over the high-water mark at once, then a retryable close
        ws.close(1001, "restarting");
        return;
      }
      const chunk = Buffer.alloc(64 * 1024, 7);
      for (let i = 0; i < 320; i++) {
        chunk.writeUInt32BE(i, 0);
        ws.send(Buffer.from(chunk)); // 20 MiB
      }
    });
    // closeTimeout: the paused first socket does not read the server's FIN; the timer ends it.
    const c = client(server.url, { highWaterMark: 256 * 1024, closeTimeout: 100 });
    c.on("error", () => {});
    await c.connect(); // nobody consumes: the 1 MiB waits in the queue, over highWaterMark
    await waitFor(() => server.clients.length === 2, 3000, "the second connection");
    await sleep(300);
    // The second connection must be paused from its open: most of its 20 MiB waits on the server.
    // Actual (bug): 0, the client read all 20 MiB into its queue.
    expect(server.clients[1]?.bufferedAmount).toBeGreaterThan(4 * 2 ** 20);
    // And everything still arrives, in order, once the consumer reads.
    const it = c[Symbol.asyncIterator]();
    expect(((await it.next()).value as Uint8Array).byteLength).toBe(2 ** 20);
    for (let i = 0; i < 320; i++) {
      const m = (await within(it.next(), 5000, `message ${i}`)).value as Uint8Array;
      expect(Buffer.from(m).readUInt32BE(0)).toBe(i);
    }
  }, 20_000);
});

describe("bug 2: terminate() then connect() at once", () => {
  it("connect() right after terminate() of an open client connects again", async () => {
    const server = await wsServer();
    const c = client(server.url);
    await c.connect();
    c.terminate();
    // Actual (bug): rejects with AbortedError (cause "client terminated") though a connection opens.
    const response = await within(c.connect(), 3000, "connect() after terminate()");
    expect(response.status).toBe(101);
    await c.send("works");
    const it = c[Symbol.asyncIterator]();
    expect(await within(it.next(), 2000, "the echo")).toEqual({ done: false, value: "works" });
  });

  it("connect() right after terminate() during a backoff is not rejected by the old loop", async () => {
    const url = await deadUrl();
    const c = client(url, { reconnect: { minTimeout: 5000, maxTimeout: 5000 } });
    c.on("error", () => {});
    const first = c.connect().catch((e: unknown) => e);
    await new Promise<void>((resolve) => c.once("reconnecting", () => resolve()));
    c.terminate();
    const second = c.connect().catch((e: unknown) => e);
    expect(await first).toMatchObject({ code: "WS_ERR_ABORTED" });
    // The new connect() is retrying against a dead port with a 5 s backoff: it must still be pending.
    // Actual (bug): rejected at once with the old loop's AbortedError.
    expect(await Promise.race([second, sleep(300).then(() => "pending")])).toBe("pending");
    c.terminate();
  });
});
