/**
 * Memory of a streamed send: a message far bigger than the memory it may cost goes up chunk by chunk
 * to a server that counts its bytes without keeping them, and the client's RSS, measured in a child
 * process started with --expose-gc, grows by less than 32 MiB (sampled after a GC every 4 MiB). The size is 32 MiB here so the test
 * command stays fast; TIDEWAY_STREAM_MIB=256 runs the full-size proof.
 */
import { describe, expect, it } from "vitest";
import { frameCounter } from "./helpers/frame-counter.js";
import { runChild, useCleanups } from "./helpers/harness.js";
import { waitFor } from "./helpers/servers.js";

useCleanups();

const MiB = 2 ** 20;
const SIZE_MIB = Number(process.env.TIDEWAY_STREAM_MIB ?? 32);
const CHUNK = 64 * 1024;

describe("a streamed send holds constant memory", () => {
  it(`sends ${SIZE_MIB} MiB in ${CHUNK / 1024} KiB chunks with RSS growth under 32 MiB`, async () => {
    const s = await frameCounter({ keepFrames: false });
    const r = await runChild(
      `
const gc = globalThis.gc;
const rss = () => { gc(); return process.memoryUsage().rss; };
const c = new CLIENT.WebSocketClient(ARGS[0], { reconnect: false, heartbeat: false });
await c.connect();
const base = rss();
let peak = 0;
const chunks = ${(SIZE_MIB * MiB) / CHUNK};
async function* source() {
  for (let i = 0; i < chunks; i++) {
    // A fresh chunk each time, as a file or network source gives.
    const chunk = new Uint8Array(${CHUNK}).fill(i & 0xff);
    // Sampled after a GC every 4 MiB: the source's own spent chunks are garbage, not the client's.
    if ((i & 63) === 0) peak = Math.max(peak, rss());
    yield chunk;
  }
}
const start = Date.now();
await c.send(source());
const ms = Date.now() - start;
peak = Math.max(peak, rss());
await c.close();
console.log(JSON.stringify({ grown: peak - base, ms }));
`,
      [s.server.url],
      120_000,
      ["--expose-gc"],
    );
    const context = `stdout: ${r.stdout}\nstderr: ${r.stderr}`;
    expect(r.code, context).toBe(0);
    const f = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as { grown: number; ms: number };
    await waitFor(() => s.messages === 1, 10_000);
    expect(s.dataBytes).toBe(SIZE_MIB * MiB);
    console.log(`streamed ${SIZE_MIB} MiB: RSS grew ${(f.grown / MiB).toFixed(1)} MiB in ${f.ms} ms`);
    expect(f.grown, JSON.stringify(f)).toBeLessThan(32 * MiB);
  }, 180_000);
});
