// The send path (send-path.ts): the pool of buffers for big frames' payload pieces, and big sends
// over real sockets while those buffers are reused.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocketClient } from "../src/client.js";
import { allocateFrame, isPooled, MAX_IDLE_BYTES, release, sendPoolForTests } from "../src/send-path.js";
import {
  makeCert,
  sleep,
  startWsServer,
  startWssServer,
  type WsTestServer,
  waitFor,
} from "./helpers/servers.js";

const small = (size: number) => new Uint8Array(size);

beforeEach(() => sendPoolForTests.clear());

describe("allocateFrame and release", () => {
  it("hands sizes up to 16 KiB to the small allocator and never takes them back", () => {
    const bytes = allocateFrame(16 * 1024, small);
    expect(isPooled(bytes)).toBe(false);
    const before = sendPoolForTests.idleBytes();
    release(bytes);
    expect(sendPoolForTests.idleBytes()).toBe(before);
  });

  it("reuses a released piece's buffer for the next piece of its size class", () => {
    const first = allocateFrame(40_000, small);
    expect(first.length).toBe(40_000);
    expect(isPooled(first)).toBe(true);
    release(first);
    const second = allocateFrame(50_000, small); // same 64 KiB class
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(50_000);
    const third = allocateFrame(50_000, small); // the pool is empty again: a new buffer
    expect(third.buffer).not.toBe(first.buffer);
  });

  it("keeps at most MAX_IDLE_BYTES of free buffers", () => {
    const pieces = Array.from({ length: 3 * (MAX_IDLE_BYTES / (256 * 1024)) }, () =>
      allocateFrame(256 * 1024, small),
    );
    for (const piece of pieces) release(piece);
    expect(sendPoolForTests.idleBytes()).toBeLessThanOrEqual(MAX_IDLE_BYTES);
    expect(sendPoolForTests.idleBytes()).toBeGreaterThan(MAX_IDLE_BYTES - 256 * 1024);
  });

  it("does not pool sizes above the largest class", () => {
    const bytes = allocateFrame(256 * 1024 + 1, small);
    expect(isPooled(bytes)).toBe(false);
  });
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** 24 distinct messages of 64 KiB-300 KiB, each byte a function of the message and its position. */
const messages = Array.from({ length: 24 }, (_, m) => {
  const bytes = new Uint8Array(65_536 + m * 10_007);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * (m + 3) + m) & 0xff;
  return bytes;
});

async function burst(server: WsTestServer, tls?: { ca: string }): Promise<void> {
  const client = new WebSocketClient(server.url, {
    heartbeat: false,
    reconnect: false,
    ...(tls ? { tls } : {}),
  });
  cleanups.push(() => client.close());
  const peer = server.nextClient();
  await client.connect();
  // The server stops reading: the kernel's buffers fill and the client's writes go asynchronous,
  // holding pieces that must not be reused until written.
  const raw = (await peer) as unknown as { _socket: { pause(): void; resume(): void } };
  raw._socket.pause();
  const received: Uint8Array[] = [];
  client.on("message", (data) => received.push(new Uint8Array(data as Uint8Array)));
  // All sent in one tick without waiting, then again awaiting each: later frames take buffers from
  // the pool while earlier ones may still be queued in the socket.
  // Four rounds (17 MB): more than loopback's kernel buffers take, so writes go asynchronous.
  const sends = [1, 2, 3, 4].flatMap(() => messages.map((m) => client.send(m)));
  await sleep(50);
  expect(client.bufferedAmount).toBeGreaterThan(0);
  raw._socket.resume();
  await Promise.all(sends);
  for (const m of messages) await client.send(m);
  await waitFor(() => received.length === 5 * messages.length, 10_000, "echoes");
  // Buffer#equals: vitest's deep equality walks 8 MB of bytes one by one, for seconds.
  const intact = received.map((r, i) => Buffer.from(r).equals(messages[i % messages.length]!));
  expect(intact).toEqual(received.map(() => true));
}

describe("big sends with reused buffers", () => {
  it("arrive intact over TCP, and the pool is used", async () => {
    const server = await startWsServer({ maxPayload: 1 << 22 });
    cleanups.push(() => server.close());
    await burst(server);
    expect(sendPoolForTests.idleBytes()).toBeGreaterThan(0);
  });

  it("arrive intact over TLS", async () => {
    const cert = makeCert();
    const server = await startWssServer(cert);
    cleanups.push(() => server.close());
    await burst(server, { ca: cert.cert });
  });
});
