import { describe, expect, it } from "vitest";
import { toWebStreams } from "../src/web-streams.js";
import { frameCounter } from "./helpers/frame-counter.js";
import { client, useCleanups, within, wsServer } from "./helpers/harness.js";
import { sleep, waitFor } from "./helpers/servers.js";
import { countingPulls, floodServer } from "./helpers/stream-adapters.js";

useCleanups();

const KiB = 1024;

describe("toWebStreams", () => {
  it("sends each chunk written as a message and reads messages whole", async () => {
    const s = await wsServer();
    const c = client(s.url);
    await c.connect();
    const { readable, writable } = toWebStreams(c);
    const writer = writable.getWriter();
    await writer.write("text");
    await writer.write(new Uint8Array([1, 2, 3]));
    const reader = readable.getReader();
    expect((await reader.read()).value).toBe("text");
    expect([...((await reader.read()).value as Uint8Array)]).toEqual([1, 2, 3]);
  });

  it("pulls the client only while the consumer reads, and the client then stops reading the socket", async () => {
    const s = await floodServer();
    const c = client(s.url);
    await c.connect();
    const counted = countingPulls<Uint8Array>(c);
    const { readable } = toWebStreams(counted);
    // 32 MiB: more than the client's queue (1 MiB) and the kernel's buffers hold.
    await c.send("flood 128 262144");
    const serverSide = s.clients[0];
    await waitFor(() => (serverSide?.bufferedAmount ?? 0) > 0, 5000, "the server's sends backing up");
    await sleep(100);
    expect(counted.pulls).toBe(0);
    expect(serverSide?.bufferedAmount ?? 0).toBeGreaterThan(8 * 1024 * KiB);
    const reader = readable.getReader();
    let received = 0;
    for (let i = 0; i < 128; i++) {
      const { value } = await within(reader.read(), 10_000, `message ${i}`);
      expect((value as Uint8Array)[0]).toBe(i & 0xff);
      received += (value as Uint8Array).byteLength;
    }
    expect(received).toBe(128 * 256 * KiB);
    expect(counted.pulls).toBe(128);
  }, 30_000);

  it("makes writes wait while the server does not read", async () => {
    const s = await frameCounter({ keepFrames: false });
    const c = client(s.server.url);
    await c.connect();
    s.sockets[0]?.pause();
    const writer = toWebStreams(c).writable.getWriter();
    let accepted = 0;
    const writes: Promise<void>[] = [];
    const writing = (async () => {
      for (let i = 0; i < 64; i++) {
        await writer.ready;
        accepted++;
        writes.push(writer.write(new Uint8Array(1024 * KiB)));
      }
    })();
    let last = -1;
    while (accepted !== last) {
      last = accepted;
      await sleep(100);
    }
    expect(accepted).toBeLessThan(32);
    s.sockets[0]?.resume();
    await within(writing, 20_000, "every write accepted");
    await within(Promise.all(writes), 20_000, "every write sent");
    await waitFor(() => s.messages === 64, 10_000);
  }, 30_000);

  it("closes the client when the writable closes; the readable then ends", async () => {
    const s = await wsServer();
    const c = client(s.url, { reconnect: false });
    await c.connect();
    const { readable, writable } = toWebStreams(c);
    await writable.close();
    expect(c.readyState).toBe(3);
    expect((await readable.getReader().read()).done).toBe(true);
  });

  it("leaves the client open when the readable is cancelled", async () => {
    const s = await wsServer();
    const c = client(s.url);
    await c.connect();
    const { readable } = toWebStreams(c);
    await readable.cancel();
    expect(c.readyState).toBe(1);
    await c.send("still open");
    const [message] = await within(
      (async () => {
        for await (const m of c) return [m];
        return [];
      })(),
      3000,
      "the echo",
    );
    expect(message).toBe("still open");
  });

  it("terminates the client when the writable is aborted", async () => {
    const s = await wsServer();
    const c = client(s.url, { reconnect: false });
    await c.connect();
    await toWebStreams(c).writable.abort(new Error("gone"));
    expect(c.readyState).toBe(3);
  });
});
