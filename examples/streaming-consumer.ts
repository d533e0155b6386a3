/**
 * A streaming consumer (market data, logs, LLM tokens): a server floods messages faster than the
 * consumer handles them. Tideway stops reading the socket past its high-water mark (TCP
 * backpressure) and resumes when the loop catches up: memory stays bounded, and no message is lost.
 *
 * Run: `pnpm -C examples exec node --import tsx streaming-consumer.ts`
 */
import { WebSocketClient } from "@tideway/client";
import { startTinyServer } from "./tiny-server.js";

const TOTAL = 20_000;

const { server, url } = await startTinyServer({
  onConnection(connection) {
    // Send everything at once: far more than the client's 64 KiB high-water mark.
    for (let seq = 0; seq < TOTAL; seq++)
      connection.sendText(JSON.stringify({ seq, price: 100 + (seq % 7) }));
    return {};
  },
});

const client = new WebSocketClient(url, { highWaterMark: 64 * 1024, reconnect: false, heartbeat: false });
await client.connect();

let expected = 0;
let peakHeap = 0;
for await (const message of client) {
  const { seq } = JSON.parse(String(message)) as { seq: number };
  if (seq !== expected) throw new Error(`gap: expected ${expected}, got ${seq}`);
  expected += 1;
  if (seq % 1_000 === 0) {
    // A slow consumer: a little async work now and then.
    await new Promise((resolve) => setTimeout(resolve, 5));
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  if (expected === TOTAL) break;
}
console.log(`received ${expected} messages in order; peak heap ${(peakHeap / 2 ** 20).toFixed(1)} MiB`);
await client.close();
server.close();
