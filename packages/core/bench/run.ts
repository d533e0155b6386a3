/**
 * Throughput of the framing hot paths. Run: `cd packages/core && node --import tsx bench/run.ts`.
 *
 * - mask: XOR in place, payloads of 16 B to 1 MiB.
 * - MessageReader: a stream of unmasked server frames (client role), fed in 64 KiB chunks like a
 *   socket delivers them, for binary frames of 16 B to 1 MiB and 1 KiB text frames.
 * - send: a client ClientProtocol queueing small masked text and binary frames, taking them with
 *   dataToSend and releasing them with outputConsumed, as the Node client does.
 * Each case runs for a fixed time after a warm-up; the figure is the best of 8 rounds. Other processes
 * on the machine lower the figures: run it on an idle machine (check `uptime`).
 */
import { Opcode } from "../src/constants.js";
import type { WsEvent } from "../src/events.js";
import { encodeFrame } from "../src/frame.js";
import { buildAcceptResponse } from "../src/handshake-server.js";
import { mask } from "../src/mask.js";
import { ClientProtocol } from "../src/protocol-client.js";
import { MessageReader } from "../src/reader.js";
import { defaultUtf8 } from "../src/utf8.js";

const ROUND_MS = 200;
const ROUNDS = 8;
const CHUNK = 64 * 1024;

interface Result {
  name: string;
  bytesPerSecond: number;
  itemsPerSecond: number;
}

/** Runs `step` (which processes `bytes` bytes and `items` items) repeatedly; best rate of ROUNDS rounds. */
function measure(name: string, bytes: number, items: number, step: () => void): Result {
  const warmUntil = performance.now() + ROUND_MS;
  while (performance.now() < warmUntil) step();
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let iterations = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ROUND_MS) {
      step();
      iterations++;
      now = performance.now();
    }
    best = Math.max(best, iterations / ((now - start) / 1000));
  }
  return { name, bytesPerSecond: best * bytes, itemsPerSecond: best * items };
}

function maskCase(size: number): Result {
  const data = new Uint8Array(size);
  const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
  // Enough calls per step that timer reads do not dominate small sizes.
  const repeat = Math.max(1, Math.floor(CHUNK / size));
  return measure(`mask ${label(size)}`, size * repeat, repeat, () => {
    for (let i = 0; i < repeat; i++) mask(data, key);
  });
}

/** A stream of `count` copies of `frame`, cut into 64 KiB chunks. */
function chunked(frame: Uint8Array, count: number): Uint8Array[] {
  const stream = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) stream.set(frame, i * frame.length);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += CHUNK) chunks.push(stream.slice(at, at + CHUNK));
  return chunks;
}

function readerCase(name: string, frame: Uint8Array, count: number, payloadBytes: number): Result {
  const chunks = chunked(frame, count);
  const reader = new MessageReader({ expectMasked: false, maxPayload: 2 ** 30, utf8: defaultUtf8 });
  const out: WsEvent[] = [];
  const result = measure(name, payloadBytes * count, count, () => {
    let events = 0;
    for (const chunk of chunks) {
      reader.read(chunk, out);
      events += out.length;
      out.length = 0;
    }
    if (events !== count) throw new Error(`${name}: the stream did not parse into ${count} whole frames`);
  });
  return result;
}

function binaryCase(size: number): Result {
  const frame = encodeFrame(Opcode.Binary, new Uint8Array(size).fill(7));
  // At least 4 MiB of stream per step, and at least 8 frames.
  const count = Math.max(8, Math.ceil((4 * 2 ** 20) / frame.length));
  return readerCase(`read binary ${label(size)}`, frame, count, size);
}

function textCase(name: string, text: string): Result {
  const payload = defaultUtf8.encode(text);
  const frame = encodeFrame(Opcode.Text, payload);
  const count = Math.ceil((4 * 2 ** 20) / frame.length);
  return readerCase(name, frame, count, payload.length);
}

/** An open client protocol: the 101 answer to its own request fed back. */
function openClient(): ClientProtocol {
  const protocol = new ClientProtocol({ url: "ws://127.0.0.1/" });
  protocol.dataToSend();
  protocol.receiveData(buildAcceptResponse({ key: protocol.key }));
  protocol.eventsReceived();
  return protocol;
}

function sendCase(name: string, send: (protocol: ClientProtocol) => void, payloadBytes: number): Result {
  const protocol = openClient();
  const batch = 64;
  let written = 0;
  const result = measure(name, payloadBytes * batch, batch, () => {
    for (let i = 0; i < batch; i++) send(protocol);
    for (const piece of protocol.dataToSend()) if (piece instanceof Uint8Array) written += piece.length;
    protocol.outputConsumed();
  });
  if (written === 0) throw new Error(`${name}: nothing was queued`);
  return result;
}

function label(size: number): string {
  if (size >= 2 ** 20) return `${size / 2 ** 20} MiB`;
  if (size >= 1024) return `${size / 1024} KiB`;
  return `${size} B`;
}

const ascii16 = "x".repeat(16);
const ascii1k = "x".repeat(1024);
const binary16 = new Uint8Array(16).fill(7);
const unicodeUnit = "héllo wörld ✓ 😀 "; // 1-, 2-, 3- and 4-byte code points
const unicode1k = unicodeUnit.repeat(Math.floor(1024 / defaultUtf8.encode(unicodeUnit).length));

const results = [
  ...[16, 1024, 64 * 1024, 2 ** 20].map(maskCase),
  ...[16, 1024, 64 * 1024, 2 ** 20].map(binaryCase),
  textCase("read text 1 KiB ASCII", ascii1k),
  textCase("read text ~1 KiB mixed UTF-8", unicode1k),
  sendCase("send text 16 B ASCII", (p) => p.sendText(ascii16), 16),
  sendCase("send text 1 KiB ASCII", (p) => p.sendText(ascii1k), 1024),
  sendCase(
    "send text ~1 KiB mixed UTF-8",
    (p) => p.sendText(unicode1k),
    defaultUtf8.encode(unicode1k).length,
  ),
  sendCase("send binary 16 B", (p) => p.sendBinary(binary16), 16),
];

const rows = results.map((r) => [
  r.name.padEnd(30),
  `${(r.bytesPerSecond / 1e9).toFixed(2)} GB/s`.padStart(12),
  `${(r.itemsPerSecond / 1e6).toFixed(2)} M/s`.padStart(12),
]);
console.log(`${"case".padEnd(30)}${"payload".padStart(12)}${"items".padStart(12)}`);
for (const row of rows) console.log(row.join(""));

const find = (name: string): Result => results.find((r) => r.name === name)!;
const targets: Array<[string, boolean]> = [
  ["mask 64 KiB >= 2 GB/s", find("mask 64 KiB").bytesPerSecond >= 2e9],
  ["mask 1 MiB >= 2 GB/s", find("mask 1 MiB").bytesPerSecond >= 2e9],
  ["read binary 1 MiB >= 5 GB/s", find("read binary 1 MiB").bytesPerSecond >= 5e9],
  ["read binary 16 B >= 5 M frames/s", find("read binary 16 B").itemsPerSecond >= 5e6],
];
console.log("\ntargets:");
for (const [name, met] of targets) console.log(`  ${met ? "met    " : "NOT MET"}  ${name}`);
