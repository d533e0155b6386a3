/**
 * A download as a stream: the server sends a 64 MiB file as one binary message in 1 MiB fragments;
 * the client (`receive: "stream"`) hashes each chunk as it arrives, so memory stays flat whatever
 * the file's size, where a whole-message client would hold all 64 MiB at once.
 *
 * Run: `pnpm -C examples exec node --import tsx stream-download.ts`
 */
import { createHash } from "node:crypto";
import { WebSocketClient } from "@tideway/client";
import { WebSocketServer } from "ws";

const MiB = 2 ** 20;
const FILE_MIB = 64;

// The server: `ws`, sending the file fragment by fragment, each after the previous one is written.
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
await new Promise((resolve) => wss.once("listening", resolve));
const serverHash = createHash("sha256");
wss.on("connection", async (socket) => {
  const block = new Uint8Array(MiB);
  for (let i = 0; i < FILE_MIB; i++) {
    block.fill(i);
    serverHash.update(block);
    await new Promise<void>((resolve, reject) =>
      socket.send(block, { binary: true, fin: i === FILE_MIB - 1 }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }
});
const { port } = wss.address() as { port: number };

const client = new WebSocketClient(`ws://127.0.0.1:${port}`, {
  receive: "stream",
  reconnect: false,
  heartbeat: false,
});
await client.connect();
const base = process.memoryUsage().rss;
let peak = 0;

for await (const download of client.streams()) {
  if (download.type !== "binary") {
    download.drop(); // not a file: skip it without buffering it
    continue;
  }
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of download) {
    hash.update(chunk);
    bytes += chunk.length;
    peak = Math.max(peak, process.memoryUsage().rss - base);
  }
  const same = hash.digest("hex") === serverHash.digest("hex");
  console.log(
    `downloaded ${bytes / MiB} MiB, sha-256 ${same ? "matches" : "DIFFERS"}; peak RSS growth ${(peak / MiB).toFixed(1)} MiB`,
  );
  break;
}
await client.close();
wss.close();
