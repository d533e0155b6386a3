import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { createWebSocketStream } from "../src/node-duplex.js";
import { frameCounter } from "./helpers/frame-counter.js";
import { client, useCleanups, within, wsServer } from "./helpers/harness.js";
import { sleep, waitFor } from "./helpers/servers.js";
import { countingPulls, floodServer } from "./helpers/stream-adapters.js";

useCleanups();

const KiB = 1024;

describe("createWebSocketStream", () => {
  it("sends each write as a message (a string as text) and reads messages as bytes", async () => {
    const s = await wsServer();
    const c = client(s.url);
    await c.connect();
    const duplex = createWebSocketStream(c);
    duplex.write("héllo");
    duplex.write(Buffer.from([1, 2]));
    const received: Buffer[] = [];
    duplex.on("data", (chunk: Buffer) => received.push(chunk));
    await waitFor(() => Buffer.concat(received).length === 8);
    expect(Buffer.concat(received).toString("latin1", 0, 6)).toBe(Buffer.from("héllo").toString("latin1"));
    expect(s.clients.length).toBe(1);
    duplex.destroy();
  });

  it("hands out messages whole in readableObjectMode", async () => {
    const s = await wsServer();
    const c = client(s.url);
    await c.connect();
    const duplex = createWebSocketStream(c, { readableObjectMode: true });
    duplex.write("text");
    duplex.write(new Uint8Array([9]));
    const [first] = (await once(duplex, "data")) as [unknown];
    const [second] = (await once(duplex, "data")) as [unknown];
    expect(first).toBe("text");
    expect([...(second as Uint8Array)]).toEqual([9]);
    duplex.destroy();
  });

  it("pulls the client only while its readable buffer has room", async () => {
    const s = await floodServer();
    const c = client(s.url);
    await c.connect();
    const counted = countingPulls<Uint8Array>(c);
    const duplex = createWebSocketStream(counted, { readableObjectMode: true, readableHighWaterMark: 2 });
    duplex.pause();
    await c.send("flood 128 262144");
    const serverSide = s.clients[0];
    await waitFor(() => (serverSide?.bufferedAmount ?? 0) > 8 * 1024 * KiB, 5000, "the server backing up");
    await sleep(100);
    // Node fills the readable buffer to its high-water mark, plus the read in flight.
    expect(counted.pulls).toBeLessThanOrEqual(3);
    let n = 0;
    for await (const m of duplex) {
      expect((m as Uint8Array)[0]).toBe(n & 0xff);
      if (++n === 128) break;
    }
    expect(n).toBe(128);
  }, 30_000);

  it("makes write() return false and wait while the server does not read", async () => {
    const s = await frameCounter({ keepFrames: false });
    const c = client(s.server.url);
    await c.connect();
    s.sockets[0]?.pause();
    const duplex = createWebSocketStream(c);
    let accepted = 0;
    const writing = (async () => {
      for (let i = 0; i < 64; i++) {
        accepted++;
        if (!duplex.write(Buffer.alloc(1024 * KiB))) await once(duplex, "drain");
      }
    })();
    let last = -1;
    while (accepted !== last) {
      last = accepted;
      await sleep(100);
    }
    expect(accepted).toBeLessThan(32);
    s.sockets[0]?.resume();
    await within(writing, 20_000, "every write");
    await waitFor(() => s.messages === 64, 10_000);
    duplex.destroy();
  }, 30_000);

  it("closes the client cleanly on end() and terminates it on destroy(error)", async () => {
    const s = await frameCounter();
    const c1 = client(s.server.url, { reconnect: false });
    await c1.connect();
    const d1 = createWebSocketStream(c1);
    d1.resume();
    d1.end();
    await once(d1, "finish");
    expect(c1.readyState).toBe(3);
    expect(s.closeCode).toBe(1000);

    const c2 = client(s.server.url, { reconnect: false });
    await c2.connect();
    const d2 = createWebSocketStream(c2);
    d2.on("error", () => {});
    d2.destroy(new Error("bail"));
    expect(c2.readyState).toBe(3);
  });
});
