// The ceiling of the /sink verifier: a raw net client writes prebuilt masked frames as fast as the
// socket takes them (no WebSocket library, ~256 KiB per write), and the clock stops at the sink's
// "ok COUNT BYTES". A send scenario cannot show a library faster than this.
//   node --import tsx src/sink-ceiling.ts [size=16] [count=3000000]
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { killChildren, startServerProcess } from "./driver.js";
import { PATTERN_PERIOD, patternByte } from "./payload.js";

/** A masked client frame (binary, FIN) holding `size` copies of `byte`, with a random mask. */
function maskedFrame(size: number, byte: number): Buffer {
  const headerLength = (size < 126 ? 2 : size < 0x10000 ? 4 : 10) + 4;
  const frame = Buffer.alloc(headerLength + size);
  frame[0] = 0x82;
  if (size < 126) frame[1] = 0x80 | size;
  else if (size < 0x10000) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(size, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(size, 6);
  }
  const mask = randomBytes(4);
  mask.copy(frame, headerLength - 4);
  for (let i = 0; i < size; i++) frame[headerLength + i] = byte ^ mask[i & 3]!;
  return frame;
}

async function handshake(base: string, path: string): Promise<Socket> {
  const url = new URL(path, base.replace("ws:", "http:"));
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  socket.setNoDelay(true);
  socket.write(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
      "Sec-WebSocket-Version: 13\r\n\r\n",
  );
  let head = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.indexOf("\r\n\r\n") < 0) return;
      socket.off("data", onData);
      if (!head.toString("latin1").startsWith("HTTP/1.1 101")) reject(new Error("handshake refused"));
      else resolve();
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
  return socket;
}

export async function sinkCeiling(base: string, size: number, count: number): Promise<number> {
  const socket = await handshake(base, `/sink?size=${size}&count=${count}`);
  const group = Buffer.concat(
    Array.from({ length: PATTERN_PERIOD }, (_, seq) => maskedFrame(size, patternByte(seq))),
  );
  const groups = Math.max(1, Math.floor((256 * 1024) / group.length));
  const batch = Buffer.concat(Array.from({ length: groups }, () => group));
  const perBatch = groups * PATTERN_PERIOD;
  const frameLength = group.length / PATTERN_PERIOD;
  const verdict = new Promise<string>((resolve) =>
    socket.on("data", (chunk: Buffer) => resolve(chunk.toString("latin1"))),
  );
  const start = performance.now();
  for (let left = count; left > 0; ) {
    const n = Math.min(left, perBatch);
    left -= n;
    if (!socket.write(n === perBatch ? batch : batch.subarray(0, n * frameLength))) {
      await new Promise((resolve) => socket.once("drain", resolve));
    }
  }
  const answer = await verdict;
  const seconds = (performance.now() - start) / 1000;
  socket.destroy();
  if (!answer.includes(`ok ${count} ${count * size}`)) throw new Error(`sink: ${answer.slice(2)}`);
  return count / seconds;
}

if (process.argv[1]?.endsWith("sink-ceiling.ts")) {
  const size = Number(process.argv[2] ?? 16);
  const count = Number(process.argv[3] ?? 3_000_000);
  const server = await startServerProcess();
  try {
    for (let i = 0; i < 3; i++) {
      const rate = await sinkCeiling(server.base, size, count);
      console.log(`${size} B: ${(rate / 1e6).toFixed(2)} M msg/s, ${((rate * size) / 1e6).toFixed(0)} MB/s`);
    }
  } finally {
    killChildren();
  }
}
