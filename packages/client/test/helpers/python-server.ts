/**
 * Starts packages/client/test/helpers/py_server.py, a Python `websockets` server, for interop tests.
 *
 * The server runs under /usr/bin/python3 because that is where the Debian package python3-websockets
 * installs the module (a `python3` found on PATH may be another interpreter without it). A missing
 * module is an error, never a skip: a skipped interop suite looks exactly like a passing one.
 */
import { type ChildProcessByStdio, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

export const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./py_server.py", import.meta.url));
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;

export interface PythonServerOptions {
  /** Serve wss:// with this certificate and key (PEM file paths). */
  readonly tls?: { readonly certPath: string; readonly keyPath: string };
  /** permessage-deflate, on by default as in `websockets`; false turns it off. */
  readonly compression?: boolean;
  /** Subprotocols the server accepts, in its order of preference. */
  readonly subprotocols?: readonly string[];
  /** The interpreter; defaults to {@link PYTHON}. */
  readonly python?: string;
}

/** One line the server prints when a connection has finished. */
export interface PythonClosedEvent {
  readonly event: "closed";
  readonly id: number;
  readonly path: string;
  /** The close code the server received (1006 when the connection dropped without one). */
  readonly code: number;
  readonly reason: string;
}

/** The answer of the echo mode to the text message {@link HEADERS_REQUEST}. */
export interface PythonHandshakeInfo {
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocol: string | null;
  readonly extensions: string;
}

/** Sent as a text message to the echo mode, it is answered with a {@link PythonHandshakeInfo} JSON. */
export const HEADERS_REQUEST = "__headers__";

export interface PythonServer {
  readonly port: number;
  /** ws://127.0.0.1:port or wss://127.0.0.1:port, without a path. */
  readonly url: string;
  readonly pid: number;
  /** Connections finished so far, in order. */
  readonly closed: readonly PythonClosedEvent[];
  /** Resolves with the first finished connection matching `match`, or rejects after `timeoutMs`. */
  waitForClosed(match: (event: PythonClosedEvent) => boolean, timeoutMs?: number): Promise<PythonClosedEvent>;
  /** Kills the process (SIGTERM, then SIGKILL) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

// Every server still running, so that none outlives the test process whatever way it exits.
const running = new Set<Child>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
  });
}

const checkedInterpreters = new Set<string>();
/** Throws a clear error when the interpreter (/usr/bin/python3 by default) cannot import websockets. */
export function assertPythonWebsockets(python = PYTHON): void {
  if (checkedInterpreters.has(python)) return;
  const check = spawnSync(python, ["-c", "import websockets; print(websockets.__version__)"], {
    encoding: "utf8",
    timeout: START_TIMEOUT_MS,
  });
  if (check.status !== 0) {
    throw new Error(
      `${python} cannot import websockets, which the interop tests need: ` +
        `run \`apt-get install python3-websockets\` (${check.error?.message ?? check.stderr.trim()})`,
    );
  }
  checkedInterpreters.add(python);
}

export async function startPythonServer(options: PythonServerOptions = {}): Promise<PythonServer> {
  const python = options.python ?? PYTHON;
  assertPythonWebsockets(python);
  installExitHook();
  const args = [SCRIPT];
  if (options.tls) args.push("--cert", options.tls.certPath, "--key", options.tls.keyPath);
  if (options.compression === false) args.push("--no-compression");
  for (const name of options.subprotocols ?? []) args.push("--subprotocol", name);

  // stdin stays a pipe we never write to: the server exits when it closes (see py_server.py).
  const child: Child = spawn(python, args, { stdio: ["pipe", "pipe", "pipe"] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => running.delete(child));

  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });

  const closed: PythonClosedEvent[] = [];
  const waiters = new Set<() => void>();
  let onListening: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => {
    onListening = resolve;
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const event = JSON.parse(line) as { event: string; port?: number };
    if (event.event === "listening") onListening(event.port as number);
    else if (event.event === "closed") {
      closed.push(event as PythonClosedEvent);
      for (const wake of waiters) wake();
    }
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  let startTimer: NodeJS.Timeout | undefined;
  const port = await Promise.race([
    listening,
    exited.then(() => {
      throw new Error(`py_server.py exited before listening (code ${child.exitCode}): ${stderr}`);
    }),
    new Promise<never>((_, reject) => {
      startTimer = setTimeout(
        () => reject(new Error(`py_server.py did not listen within ${START_TIMEOUT_MS} ms: ${stderr}`)),
        START_TIMEOUT_MS,
      );
    }),
  ]).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  clearTimeout(startTimer);

  const waitForClosed = (match: (event: PythonClosedEvent) => boolean, timeoutMs = 5_000) =>
    new Promise<PythonClosedEvent>((resolve, reject) => {
      const check = () => {
        const found = closed.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`no matching connection close within ${timeoutMs} ms; saw ${JSON.stringify(closed)}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    port,
    url: `${options.tls ? "wss" : "ws"}://127.0.0.1:${port}`,
    pid: child.pid as number,
    closed,
    waitForClosed,
    stop,
  };
}
