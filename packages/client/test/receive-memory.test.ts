/**
 * Memory bounds of the receive path against hostile servers, measured in a child process started
 * with --expose-gc (the test process's own heap would blur the figures):
 * - a message sent as a flood of one-byte fragments costs memory in proportion to its payload, not to
 *   its number of frames, and one past maxFragments closes the connection with 1009;
 * - with compression, a paused consumer holds at most highWaterMark + one message + one read: the
 *   messages after the high-water mark stay compressed, unparsed, until the consumer catches up.
 * Each child prints one JSON line of figures; the servers are raw sockets on loopback in this process.
 */
import type net from "node:net";
import { constants, deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { type ChildResult, rawServer, runChild, useCleanups } from "./helpers/harness.js";
import { onUpgradeRequest, switchingProtocols } from "./helpers/servers.js";

useCleanups();

const MiB = 2 ** 20;
/** The child is killed past this: the old code needs far longer (or runs out of heap) on these floods. */
const BOUND = 30_000;

/** The figures a child prints on its last line, after checking that it exited cleanly. */
function figures(r: ChildResult): Record<string, number | string | boolean> {
  const context = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.killed, `the child was killed at ${BOUND} ms\n${context}`).toBe(false);
  expect(r.code, context).toBe(0);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as Record<string, number | string | boolean>;
}

/** Collects the client's frames as raw bytes: every new read after the first is counted as a step. */
function onReads(socket: net.Socket, steps: ((read: number) => void)[]): void {
  let reads = 0;
  socket.on("data", () => {
    const step = steps[reads++];
    step?.(reads);
  });
}

/** Frames of one binary message of `count` one-byte fragments (byte i is i & 0xff); the last apart. */
function oneByteFragments(count: number): { body: Buffer; last: Buffer } {
  const body = Buffer.allocUnsafe((count - 1) * 3);
  for (let i = 0; i < count - 1; i++) {
    body[i * 3] = i === 0 ? 0x02 : 0x00; // binary, then continuations; FIN clear
    body[i * 3 + 1] = 1;
    body[i * 3 + 2] = i & 0xff;
  }
  return { body, last: Buffer.from([0x80, 1, (count - 1) & 0xff]) };
}

/** The child's memory helpers: figures in bytes after a full GC, and the peak RSS so far. */
const MEMORY = `
const gc = globalThis.gc;
const mem = () => {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.arrayBuffers, maxRss: process.resourceUsage().maxRSS * 1024 };
};
// Freed ArrayBuffers leave the count a little after a GC: a few rounds, for figures that settled.
const settledMem = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return mem();
};
const grown = (a, b) => ({
  rss: b.rss - a.rss, heap: b.heap - a.heap, external: b.external - a.external, maxRss: b.maxRss - a.maxRss,
});
`;

describe("a fragment flood costs memory in proportion to the payload", () => {
  const FRAGMENTS = 1_000_000;

  it(`holds a message of ${FRAGMENTS.toLocaleString("en")} one-byte fragments in < 16 MiB above its payload`, async () => {
    const { body, last } = oneByteFragments(FRAGMENTS);
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        onReads(socket, [
          // "go": every fragment but the last, then a ping, which the client answers once measured.
          () => socket.write(Buffer.concat([body, Buffer.from([0x89, 0])])),
          () => socket.write(last),
        ]);
      }),
    );
    const r = await runChild(
      `${MEMORY}
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: false });
await c.connect();
const base = mem();
let held;
// The ping follows every fragment but the last: what the reader holds now is the message so far.
c.on("ping", () => { held = mem(); void c.send("measured"); });
const messages = c[Symbol.asyncIterator]();
await c.send("go");
const { value } = await messages.next();
let intact = value.length === ${FRAGMENTS};
for (let i = 0; intact && i < value.length; i++) intact = value[i] === (i & 0xff);
c.terminate();
console.log(JSON.stringify({ intact, ...grown(base, held) }));
`,
      [server.url],
      BOUND,
      ["--expose-gc"],
    );
    const f = figures(r);
    expect(f.intact).toBe(true);
    // The payload so far (1 MB) in a buffer that grows by doubling, and nothing per fragment.
    expect(f.rss as number, JSON.stringify(f)).toBeLessThan(FRAGMENTS + 16 * MiB);
    expect((f.heap as number) + (f.external as number), JSON.stringify(f)).toBeLessThan(
      2 * FRAGMENTS + 4 * MiB,
    );
  }, 60_000);

  it("closes a message of 10,000,000 one-byte fragments with 1009 at the fragment limit", async () => {
    const count = 10_000_000;
    const { body } = oneByteFragments(count);
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        onReads(socket, [
          () => socket.write(body),
          // The client's close frame: close TCP once the flood is written (RFC 6455 7.1.1).
          () => socket.end(),
        ]);
      }),
    );
    const r = await runChild(
      `${MEMORY}
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: false });
const errors = [];
c.on("error", (e) => errors.push(e.code + " " + e.closeCode));
await c.connect();
const base = mem();
const closed = new Promise((resolve) => c.once("close", resolve));
const start = Date.now();
await c.send("go");
let ended = "cleanly";
try { for await (const _ of c) ended = "with a message"; } catch (e) { ended = e.code; }
const info = await closed;
console.log(JSON.stringify({
  errors: errors.join(","), ended, sent: info.sent?.code, ms: Date.now() - start, ...grown(base, mem()),
}));
`,
      [server.url],
      BOUND,
      ["--expose-gc"],
    );
    const f = figures(r);
    expect(f.errors).toBe("WS_ERR_TOO_MANY_FRAGMENTS 1009");
    expect(f.ended).toBe("WS_ERR_TOO_MANY_FRAGMENTS");
    expect(f.sent).toBe(1009);
    // At most 2^20 bytes of payload were held; the peak includes the reads of the 28.6 MiB flood.
    expect(f.maxRss as number, JSON.stringify(f)).toBeLessThan(64 * MiB);
  }, 60_000);
});

describe("a paused consumer stops the inflating, not only the reading", () => {
  const MESSAGES = 200;
  /** One message of 1 MiB of zeros, compressed alone (~1 KiB): RSV1, binary, 16-bit length. */
  const compressed = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(
    0,
    -4,
  );
  const frame = Buffer.concat([
    Buffer.from([0xc2, 126, compressed.length >> 8, compressed.length & 0xff]),
    compressed,
  ]);

  /** Serves MESSAGES such frames after the client's "go", with server_no_context_takeover. */
  function inflatingServer() {
    return rawServer((socket) =>
      onUpgradeRequest(socket, (key) => {
        const head = switchingProtocols(key).replace(
          "\r\n\r\n",
          "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
        );
        socket.write(head);
        onReads(socket, [() => socket.write(Buffer.concat(Array.from({ length: MESSAGES }, () => frame)))]);
      }),
    );
  }

  // How the consumer is paused: inside a for-await body; the same with a "message" listener too
  // (listeners get every message at once, the iterator's queue still fills); nobody reading at all.
  const consumers: [string, string][] = [
    ["a for-await loop that waits", ""],
    ["a for-await loop that waits, with a 'message' listener", `c.on("message", () => {});`],
  ];

  it.each(consumers)(
    "%s holds <= highWaterMark + one message + one read",
    async (_name, setup) => {
      const server = await inflatingServer();
      const r = await runChild(
        `${MEMORY}
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: false });
${setup}
await c.connect();
const base = await settledMem();
await c.send("go");
let count = 0;
let bytes = 0;
let held;
for await (const m of c) {
  count++;
  bytes += m.byteLength;
  if (count === 1) {
    // The consumer stops here while the server's whole flood sits in the socket.
    await new Promise((resolve) => setTimeout(resolve, 500));
    held = await settledMem();
  }
  if (count === ${MESSAGES}) break;
}
c.terminate();
console.log(JSON.stringify({ count, bytes, ...grown(base, held) }));
`,
        [server.url],
        BOUND,
        ["--expose-gc"],
      );
      const f = figures(r);
      // Nothing lost once the consumer catches up.
      expect(f.count).toBe(MESSAGES);
      expect(f.bytes).toBe(MESSAGES * MiB);
      // Besides the message the loop body holds: highWaterMark (1 MiB) + the message that crossed it
      // + one 64 KiB read, with 512 KiB of slack for the socket's and zlib's own buffers; never a
      // read's worth of inflated messages.
      expect((f.external as number) - MiB, JSON.stringify(f)).toBeLessThan(2 * MiB + 64 * 1024 + 512 * 1024);
      expect(f.rss as number, JSON.stringify(f)).toBeLessThan(16 * MiB);
    },
    60_000,
  );

  it("nobody reading yet: the messages queued before a for-await starts are bounded the same way", async () => {
    const server = await inflatingServer();
    const r = await runChild(
      `${MEMORY}
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: false });
await c.connect();
const base = await settledMem();
await c.send("go");
await new Promise((resolve) => setTimeout(resolve, 500));
const held = await settledMem();
let count = 0;
for await (const m of c) if (++count === ${MESSAGES}) break;
c.terminate();
console.log(JSON.stringify({ count, ...grown(base, held) }));
`,
      [server.url],
      BOUND,
      ["--expose-gc"],
    );
    const f = figures(r);
    expect(f.count).toBe(MESSAGES);
    expect(f.external as number, JSON.stringify(f)).toBeLessThan(2 * MiB + 64 * 1024 + 512 * 1024);
    expect(f.rss as number, JSON.stringify(f)).toBeLessThan(16 * MiB);
  }, 60_000);
});
