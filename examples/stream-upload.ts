/**
 * Streaming uploads: a file sent as ONE message, read 64 KiB at a time and sent fragment by fragment
 * as the socket drains (memory stays flat whatever the file's size); a text message made by an async
 * generator; then the WHATWG streams adapter, whose writable sends each chunk as a message and whose
 * readable yields the server's replies.
 *
 * Run: `pnpm -C examples exec node --import tsx stream-upload.ts`
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toWebStreams, WebSocketClient } from "@tideway/client";
import { startTinyServer } from "./tiny-server.js";

const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex").slice(0, 16);

// The server answers each message with its size and a hash of its bytes.
const { server, url } = await startTinyServer({
  onConnection(connection) {
    return {
      onMessage(data) {
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        connection.sendText(
          `${typeof data === "string" ? "text" : "binary"}, ${bytes.length} bytes, sha256 ${digest(bytes)}`,
        );
      },
    };
  },
});

const dir = mkdtempSync(join(tmpdir(), "tideway-upload-"));
const file = join(dir, "upload.bin");
const content = randomBytes(8 * 1024 * 1024);
writeFileSync(file, content);

const client = new WebSocketClient(url, { reconnect: false, heartbeat: false });
await client.connect();
// The adapter's readable yields every message from now on; its writable sends messages.
const { readable, writable } = toWebStreams(client);
const replies = readable.getReader();

// A Node Readable: each 64 KiB chunk is a fragment; send() resolves once the last one is written.
await client.send(createReadStream(file, { highWaterMark: 64 * 1024 }));
console.log(`file (sha256 ${digest(content)}): ${(await replies.read()).value}`);

// Strings from an async generator make one text message.
async function* lines() {
  for (let i = 0; i < 1000; i++) yield `line ${i}\n`;
}
await client.send(lines());
console.log(`lines: ${(await replies.read()).value}`);

// The writable side: each write is one message, and waits for the socket.
const writer = writable.getWriter();
await writer.write("one whole message");
console.log(`writer: ${(await replies.read()).value}`);
await writer.close(); // closes the client
console.log(`closed: readyState ${client.readyState}`);

rmSync(dir, { recursive: true });
server.close();
