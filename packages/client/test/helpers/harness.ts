/**
 * The test harness for the whole client: a cleanup list, servers and a client that are always closed
 * after the test, event and iterator helpers, and a child-process runner for what only another
 * process can observe ("exits by itself", "never crashes").
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll } from "vitest";
import { WebSocket as WsWebSocket } from "ws";
import {
  type BinaryType,
  type ClientEvents,
  WebSocketClient,
  type WebSocketClientOptions,
} from "../../src/index.js";
import { type RawServer, startRawServer, startWsServer, type WsTestServer } from "./servers.js";

const cleanups: (() => unknown)[] = [];

/** Registers the afterEach that runs the cleanups (call once per test file, at top level). */
export function useCleanups(): void {
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
}

export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

export async function wsServer(o: Parameters<typeof startWsServer>[0] = {}): Promise<WsTestServer> {
  const s = await startWsServer(o);
  cleanups.push(() => s.close());
  return s;
}

export async function rawServer(fn: (socket: net.Socket, index: number) => void): Promise<RawServer> {
  let n = 0;
  const s = await startRawServer((socket) => fn(socket, n++));
  cleanups.push(() => s.close());
  return s;
}

/** A URL nothing listens on (a port that was just released). */
export async function deadUrl(): Promise<string> {
  const s = await startRawServer(() => {});
  await s.close();
  return s.url;
}

/** A client terminated after the test. Heartbeat off and a fast backoff unless the test says otherwise. */
export function client<B extends BinaryType = "uint8array">(
  url: string,
  o: WebSocketClientOptions<B> = {},
): WebSocketClient<B> {
  const c = new WebSocketClient(url, {
    heartbeat: false,
    reconnect: { minTimeout: 10, maxTimeout: 50 },
    ...o,
  });
  cleanups.push(() => c.terminate());
  return c;
}

/** Records every event of a client, in order, as "name" or "name:detail". */
export function recordEvents(c: WebSocketClient): string[] {
  const log: string[] = [];
  c.on("connect", () => log.push("connect"));
  c.on("open", () => log.push("open"));
  c.on("error", (e) => log.push(`error:${(e as { code?: string }).code ?? e.message}`));
  c.on("close", (i) => log.push(`close:${i.code}`));
  c.on("reconnecting", (r) => log.push(`reconnecting:${r.attempt}`));
  return log;
}

/** The first argument of the client's next `event`. */
export function nextEvent<K extends keyof ClientEvents>(
  c: WebSocketClient,
  event: K,
): Promise<Parameters<ClientEvents[K]>[0]> {
  return new Promise((resolve) =>
    c.once(event, ((arg: Parameters<ClientEvents[K]>[0]) => resolve(arg)) as never),
  );
}

/** The next `n` values of an iterator (fewer if it ends). */
export async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Rejects after `ms`: a lost message or a hang fails the test instead of stalling it. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The source entry of @tideway/client, imported by the child scripts. */
const CLIENT_ENTRY = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
/** The repository root: its tsconfig.json maps @tideway/core to the sources for tsx. */
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface ChildResult {
  /** Exit code, or null when killed. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the process did not exit by itself within the bound and was killed. */
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** Milliseconds from spawn to exit. */
  readonly elapsed: number;
}

/**
 * Runs `body` as an ES module under `node --import tsx`, with `CLIENT` bound to the client package's
 * exports and `ARGS` to `args`. The process must exit by itself: after `boundMs` it is SIGKILLed and
 * `killed` is true. `body` must not call process.exit (the point is to see whether it exits alone).
 * `nodeFlags` go before the script (`--expose-gc` for a child that measures its memory).
 */
export async function runChild(
  body: string,
  args: string[] = [],
  boundMs = 8000,
  nodeFlags: string[] = [],
): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), "tideway-req-"));
  const file = join(dir, "child.mts");
  writeFileSync(
    file,
    `import * as CLIENT from ${JSON.stringify(CLIENT_ENTRY)};\nconst ARGS = ${JSON.stringify(args)};\n${body}\n`,
  );
  try {
    return await new Promise<ChildResult>((resolve) => {
      const start = Date.now();
      const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", file], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill("SIGKILL");
      }, boundMs);
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, killed, stdout, stderr, elapsed: Date.now() - start });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `ws` package's WebSocket as a browser's: an error event nobody listens to is not thrown. */
export class BrowserLikeWs extends WsWebSocket {
  constructor(...args: ConstructorParameters<typeof WsWebSocket>) {
    super(...args);
    this.on("error", () => {});
  }
}

/** Node 20 has no global WebSocket: the `ws` package's stands in for the browser's in this file's tests. */
export function useBrowserWebSocket(): void {
  const hadWebSocket = "WebSocket" in globalThis;
  beforeAll(() => {
    if (!hadWebSocket) (globalThis as { WebSocket?: unknown }).WebSocket = BrowserLikeWs;
  });
  afterAll(() => {
    if (!hadWebSocket) delete (globalThis as { WebSocket?: unknown }).WebSocket;
  });
}
