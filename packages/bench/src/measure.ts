// One measurement of one scenario with one adapter, run inside a fresh client process. Every runner
// verifies what it counts: a lost, reordered or corrupted message is an error, never a number.
import { setTimeout as sleep } from "node:timers/promises";
import type { Adapter, BenchConnection, BenchMessage } from "./adapters/types.js";
import {
  binaryPayloads,
  JSON_SEND_CYCLE,
  jsonMessage,
  jsonPrefix,
  patternByte,
  utf8PayloadLength,
} from "./payload.js";
import { fullScenarios, type Scenario } from "./scenarios.js";
import { quantile } from "./stats.js";

export type Metrics = Record<string, number>;

/** Rejects with the message `describe()` gives at the time the limit runs out. */
function withDeadline<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${describe()}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function bytesOf(data: BenchMessage): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
}

/** The peak RSS growth while `run` runs, sampled every 5 ms, in MB. */
async function peakRssGrowth<T>(run: Promise<T>): Promise<{ result: T; rss: number }> {
  const base = process.memoryUsage().rss;
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss - base);
  }, 5);
  try {
    const result = await run;
    peak = Math.max(peak, process.memoryUsage().rss - base);
    return { result, rss: peak / 1e6 };
  } finally {
    clearInterval(timer);
  }
}

/** The /recv query value of each payload. */
const TEXT_PARAM = { binary: "0", text: "1", utf8: "utf8" } as const;

async function receive(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "recv" }>,
  ms: number,
): Promise<Metrics> {
  const connectStart = performance.now();
  const conn = await adapter.connect(
    `${base}/recv?size=${s.size}&count=${s.count}&text=${TEXT_PARAM[s.payload]}`,
    {
      perMessageDeflate: false,
      defaults: s.defaults === true,
      iterate: s.delivery === "iterator",
      diagnostics: s.diagnostics === true,
      stream: s.delivery === "stream",
    },
  );
  const binary = s.payload === "binary";
  // A string's length in UTF-16 code units: the byte length for ASCII, less for mixed UTF-8.
  const length0 = s.payload === "utf8" ? utf8PayloadLength(s.size) : s.size;
  let received = 0;
  let bytes = 0;
  let first = 0;
  const done = new Promise<number>((resolve, reject) => {
    conn.onMessage((data) => {
      // The check a user's handler would do anyway (type, length, one byte), kept identical for all.
      let length: number;
      let head: number | undefined;
      if (typeof data === "string") {
        length = data.length;
        head = binary ? undefined : data.charCodeAt(0);
      } else if ("streamedLength" in data) {
        length = data.streamedLength;
        head = data.head;
      } else {
        const view = bytesOf(data);
        length = view.length;
        head = binary ? view[0] : undefined;
      }
      if (length !== length0 || head !== patternByte(received)) {
        reject(new Error(`message ${received}: ${typeof data} of ${length}, first byte ${head}`));
        return;
      }
      if (received === 0) first = performance.now();
      bytes += length;
      if (++received === s.count) resolve(performance.now());
    });
    conn.onClose((reason) => reject(new Error(`${reason} after ${received} of ${s.count} messages`)));
  });
  const start = performance.now();
  await conn.send("go"); // the server starts its flood on this message
  const deadline = withDeadline(done, ms, () => `received ${received} of ${s.count} messages`);
  const { result: end, rss } =
    s.delivery === "stream" ? await peakRssGrowth(deadline) : { result: await deadline, rss: 0 };
  if (bytes !== length0 * s.count) throw new Error(`received ${bytes} units, expected ${length0 * s.count}`);
  await conn.close();
  const seconds = (end - start) / 1000;
  if (s.delivery === "stream") return { throughput: (s.size * s.count) / 1e6 / seconds, rss };
  if (s.cold === true) return { rate: s.count / seconds, first: first - connectStart };
  // Throughput counts the bytes on the wire (`size`), also for mixed UTF-8 text.
  return s.size < 1024 ? { rate: s.count / seconds } : { throughput: (s.size * s.count) / 1e6 / seconds };
}

/** Resolves with the sink's verdict: "ok COUNT BYTES" after it verified every byte. */
function sinkVerdict(conn: BenchConnection, count: number, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    conn.onMessage((data) => {
      const text = typeof data === "string" ? data : new TextDecoder().decode(bytesOf(data));
      if (text === `ok ${count} ${bytes}`) resolve(performance.now());
      else reject(new Error(`sink: ${text}`));
    });
    conn.onClose((reason) => reject(new Error(`sink ${reason}`)));
  });
}

async function sendAll(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "send" }>,
  ms: number,
): Promise<Metrics> {
  const conn = await adapter.connect(`${base}/sink?size=${s.size}&count=${s.count}`);
  const payloads = binaryPayloads(s.size);
  const verdict = sinkVerdict(conn, s.count, s.size * s.count);
  verdict.catch(() => {}); // observed below, after the loop
  let sent = 0;
  const start = performance.now();
  const loop = async () => {
    for (; sent < s.count; sent++) {
      const wait = conn.send(payloads[sent % payloads.length]!);
      if (wait !== undefined) await wait;
    }
  };
  await withDeadline(loop(), ms, () => `sent ${sent} of ${s.count} messages`);
  const end = await withDeadline(verdict, ms, () => `no verdict from the sink after ${s.count} messages`);
  await conn.close();
  const seconds = (end - start) / 1000;
  return s.size < 1024 ? { rate: s.count / seconds } : { throughput: (s.size * s.count) / 1e6 / seconds };
}

/**
 * `count` messages of `size` bytes, each streamed from an async generator of `chunk`-byte pieces
 * (one buffer per message, yielded again and again: both libraries copy it as they mask it); the
 * sink checks that the fragments of each message add up and verifies every byte.
 */
async function sendStreamed(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "send-stream" }>,
  ms: number,
): Promise<Metrics> {
  const conn = await adapter.connect(`${base}/sink?size=${s.size}&count=${s.count}&fragments=1`);
  if (conn.sendStream === undefined) {
    await conn.close();
    throw new Error(`${adapter.name} cannot stream a send`);
  }
  const verdict = sinkVerdict(conn, s.count, s.size * s.count);
  verdict.catch(() => {}); // observed below, after the loop
  async function* pieces(seq: number): AsyncGenerator<Uint8Array> {
    const piece = new Uint8Array(s.chunk).fill(patternByte(seq));
    for (let at = 0; at < s.size; at += s.chunk)
      yield at + s.chunk <= s.size ? piece : piece.subarray(0, s.size - at);
  }
  let sent = 0;
  const start = performance.now();
  const loop = async () => {
    for (; sent < s.count; sent++) await conn.sendStream?.(pieces(sent));
  };
  await withDeadline(loop(), ms, () => `streamed ${sent} of ${s.count} messages`);
  const end = await withDeadline(verdict, ms, () => `no verdict from the sink after ${s.count} messages`);
  await conn.close();
  return { throughput: (s.size * s.count) / 1e6 / ((end - start) / 1000) };
}

async function echo(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "echo" }>,
  ms: number,
): Promise<Metrics> {
  const conn = await adapter.connect(`${base}/echo`);
  const payload = binaryPayloads(s.size)[0]!;
  let next: ((data: BenchMessage) => void) | undefined;
  conn.onMessage((data) => next?.(data));
  let failure: Error | undefined;
  conn.onClose((reason) => {
    failure = new Error(reason);
  });
  const latencies = new Float64Array(s.count);
  let round = 0;
  const loop = async () => {
    for (; round < s.warmup + s.count; round++) {
      if (failure) throw failure;
      const reply = new Promise<BenchMessage>((resolve) => (next = resolve));
      const start = process.hrtime.bigint();
      const wait = conn.send(payload);
      if (wait !== undefined) await wait;
      const data = await reply;
      const elapsed = Number(process.hrtime.bigint() - start) / 1000;
      const bytes = bytesOf(data);
      if (typeof data === "string" || bytes.length !== s.size || bytes[0] !== payload[0]) {
        throw new Error(`round ${round}: wrong echo`);
      }
      if (round >= s.warmup) latencies[round - s.warmup] = elapsed;
    }
  };
  await withDeadline(loop(), ms, () => `${round} of ${s.warmup + s.count} round trips`);
  await conn.close();
  latencies.sort();
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

const COMPRESSED = { perMessageDeflate: true } as const;

/** Compressed JSON messages, each different: the client checks the length and the sequence number. */
async function receiveDeflate(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "recv-deflate" }>,
  ms: number,
): Promise<Metrics> {
  const conn = await adapter.connect(`${base}/recv-deflate?size=${s.size}&count=${s.count}`, COMPRESSED);
  let received = 0;
  const done = new Promise<number>((resolve, reject) => {
    conn.onMessage((data) => {
      // JSON is ASCII here, so the string length is the byte length.
      if (typeof data !== "string" || data.length !== s.size || !data.startsWith(jsonPrefix(received))) {
        const what = typeof data === "string" ? `"${data.slice(0, 18)}..." of ${data.length}` : "binary";
        reject(new Error(`message ${received}: ${what}`));
        return;
      }
      if (++received === s.count) resolve(performance.now());
    });
    conn.onClose((reason) => reject(new Error(`${reason} after ${received} of ${s.count} messages`)));
  });
  const start = performance.now();
  await conn.send("go");
  const end = await withDeadline(done, ms, () => `received ${received} of ${s.count} messages`);
  await conn.close();
  const seconds = (end - start) / 1000;
  return s.metrics[0]?.key === "rate"
    ? { rate: s.count / seconds }
    : { throughput: (s.size * s.count) / 1e6 / seconds };
}

/** JSON_SEND_CYCLE distinct JSON documents sent in turn; the sink inflates and verifies every byte. */
async function sendDeflate(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "send-deflate" }>,
  ms: number,
): Promise<Metrics> {
  const messages = Array.from({ length: JSON_SEND_CYCLE }, (_, seq) => jsonMessage(s.size, seq));
  const connectStart = performance.now();
  const conn = await adapter.connect(`${base}/sink-deflate?size=${s.size}&count=${s.count}`, COMPRESSED);
  const verdict = sinkVerdict(conn, s.count, s.size * s.count);
  verdict.catch(() => {}); // observed below, after the loop
  let sent = 0;
  const start = performance.now();
  if (s.cold === true) {
    // Cold: connect() to the first send handed over, then the rate of all `count` from there.
    const wait = conn.send(messages[0]!);
    if (wait !== undefined) await wait;
    sent = 1;
  }
  const first = performance.now() - connectStart;
  const loop = async () => {
    for (; sent < s.count; sent++) {
      const wait = conn.send(messages[sent % JSON_SEND_CYCLE]!);
      if (wait !== undefined) await wait;
    }
  };
  await withDeadline(loop(), ms, () => `sent ${sent} of ${s.count} messages`);
  const end = await withDeadline(verdict, ms, () => `no verdict from the sink after ${s.count} messages`);
  await conn.close();
  const seconds = (end - start) / 1000;
  if (s.cold === true) return { rate: s.count / seconds, first };
  return s.metrics[0]?.key === "rate"
    ? { rate: s.count / seconds }
    : { throughput: (s.size * s.count) / 1e6 / seconds };
}

/** Microseconds of work the slow consumer does per message (a busy wait, as a parser or a UI would). */
export const SLOW_CONSUMER_US = 10;

function busyWait(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/**
 * A consumer slower than the server: every message is checked (a string of `size`, its sequence
 * number) and then costs SLOW_CONSUMER_US; the library holds what waits. The figure is the peak
 * RSS of this process (a fresh one per measurement), start-up included.
 */
async function slowConsumer(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "slow" }>,
  ms: number,
): Promise<Metrics> {
  const path = s.compressed ? "/slow-json-deflate" : "/slow-json";
  const conn = await adapter.connect(`${base}${path}?size=${s.size}&count=${s.count}`, {
    perMessageDeflate: s.compressed,
    iterate: true,
  });
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    conn.onMessage((data) => {
      if (typeof data !== "string" || data.length !== s.size || !data.startsWith(jsonPrefix(received))) {
        const what = typeof data === "string" ? `"${data.slice(0, 18)}..." of ${data.length}` : "binary";
        reject(new Error(`message ${received}: ${what}`));
        return;
      }
      busyWait(SLOW_CONSUMER_US);
      if (++received === s.count) resolve();
    });
    conn.onClose((reason) => reject(new Error(`${reason} after ${received} of ${s.count} messages`)));
  });
  await conn.send("go");
  await withDeadline(done, ms, () => `received ${received} of ${s.count} messages`);
  await conn.close();
  return { rss: process.resourceUsage().maxRSS / 1024 };
}

/** Runs the collector until the heap stops shrinking (weak references and finalizers need turns). */
async function settle(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("the idle scenario needs node --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage();
}

async function idle(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "idle" }>,
  ms: number,
): Promise<Metrics> {
  // One connection opened and closed first, so lazily created library state is not counted per connection.
  const options = { perMessageDeflate: false, defaults: s.defaults === true };
  await (await adapter.connect(`${base}/idle`, options)).close();
  const before = await settle();
  const held: BenchConnection[] = [];
  let closed = 0;
  const connectOne = async () => {
    const conn = await adapter.connect(`${base}/idle`, options);
    conn.onClose(() => closed++);
    return conn;
  };
  const open = async () => {
    const parallel = 100;
    while (held.length < s.connections) {
      const batch = Math.min(parallel, s.connections - held.length);
      held.push(...(await Promise.all(Array.from({ length: batch }, connectOne))));
    }
  };
  await withDeadline(open(), ms, () => `${held.length} of ${s.connections} connections open`);
  const after = await settle();
  if (closed > 0) throw new Error(`${closed} of ${s.connections} idle connections closed`);
  return {
    heap: (after.heapUsed - before.heapUsed) / s.connections / 1024,
    rss: (after.rss - before.rss) / s.connections / 1024,
  };
}

async function handshakes(
  adapter: Adapter,
  base: string,
  s: Extract<Scenario, { kind: "handshake" }>,
  ms: number,
): Promise<Metrics> {
  let done = 0;
  const start = performance.now();
  const loop = async () => {
    for (; done < s.count; done++) await (await adapter.connect(`${base}/hs`)).close();
  };
  await withDeadline(loop(), ms, () => `${done} of ${s.count} handshakes`);
  return { rate: s.count / ((performance.now() - start) / 1000) };
}

/**
 * The warm-up: 15% of the scenario's FULL-mode count (the same number in --quick and full runs),
 * run first, unmeasured, on a connection of its own. Each measurement is a fresh process, so
 * without it a --quick run mostly measured the JIT compiling the hot paths of the library (and of
 * this bench). 15% of the quick count was not enough: send 16 B measured 0.34 M msg/s for Tideway
 * in --quick against 1.09 M in the full run; a warm-up as long as the quick run itself gave 0.87 M.
 * Echo has its own warm-up rounds (`warmup`); idle memory opens and closes one connection before
 * its baseline instead (a warm-up run would leave garbage and caches that blur the figure).
 */
export const WARMUP_FRACTION = 0.15;

/** The unmeasured warm-up run of `scenario`, or undefined when it has none. */
export function warmupOf(scenario: Scenario): Scenario | undefined {
  // Memory scenarios measure the process as it is: a warm-up would add its own peak and garbage.
  if (scenario.kind === "echo" || scenario.kind === "idle" || scenario.kind === "slow") return undefined;
  if (scenario.cold === true) return undefined;
  const full = fullScenarios().find((f) => f.id === scenario.id);
  const count = full !== undefined && "count" in full ? full.count : scenario.count;
  return { ...scenario, count: Math.max(1, Math.round(count * WARMUP_FRACTION)) };
}

/** Runs one measurement (after its warm-up); `base` is the server's ws:// origin, `ms` the time limit. */
export async function measure(
  adapter: Adapter,
  base: string,
  scenario: Scenario,
  ms: number,
): Promise<Metrics> {
  const warmup = warmupOf(scenario);
  if (warmup !== undefined) await measureOnce(adapter, base, warmup, ms);
  return measureOnce(adapter, base, scenario, ms);
}

function measureOnce(adapter: Adapter, base: string, scenario: Scenario, ms: number): Promise<Metrics> {
  switch (scenario.kind) {
    case "recv":
      return receive(adapter, base, scenario, ms);
    case "send":
      return sendAll(adapter, base, scenario, ms);
    case "send-stream":
      return sendStreamed(adapter, base, scenario, ms);
    case "echo":
      return echo(adapter, base, scenario, ms);
    case "idle":
      return idle(adapter, base, scenario, ms);
    case "handshake":
      return handshakes(adapter, base, scenario, ms);
    case "recv-deflate":
      return receiveDeflate(adapter, base, scenario, ms);
    case "send-deflate":
      return sendDeflate(adapter, base, scenario, ms);
    case "slow":
      return slowConsumer(adapter, base, scenario, ms);
  }
}
