/**
 * Agents: echo clients driven through the suite. Each connects to a case URL, echoes every message
 * exactly (text as text, binary as binary) and returns when its connection is over. `stop` tears a
 * client down when a case overruns (a hung client must not hang the run).
 */
import WebSocket from "ws";
import type { AgentConfig } from "./types.js";

export interface AgentRun {
  /** Resolves when the client considers the connection finished (never rejects). */
  done: Promise<void>;
  /** Forcefully tears the client down. */
  stop: () => void;
}

export interface Agent {
  name: string;
  /** Undefined when the agent can run, else why it cannot. */
  unavailable: () => Promise<string | undefined>;
  /** `config`: the case's setup (compression parameters, maxPayload); default the agent's defaults. */
  run: (url: string, config?: AgentConfig) => AgentRun;
  /** The sections (ids such as "6") the agent runs; default all of them. */
  sections?: readonly string[];
}

/** `ws` from npm: the reference. A case it fails is more likely a wrong case than a bug in `ws`. */
export const wsAgent: Agent = {
  name: "ws",
  unavailable: async () => undefined,
  run(url, config = {}) {
    // `ws` defaults: maxPayload 100 MiB, UTF-8 validation on. permessage-deflate is offered on every
    // case (the compression cases accept it, the others decline it: RSV bits stay invalid there).
    const ws = new WebSocket(url, {
      perMessageDeflate: config.perMessageDeflate ?? true,
      ...(config.maxPayload !== undefined ? { maxPayload: config.maxPayload } : {}),
    });
    const done = new Promise<void>((resolve) => {
      ws.on("message", (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      // Errors end in "close": the listener only keeps them from being thrown.
      ws.on("error", () => {});
      ws.on("close", () => resolve());
    });
    return { done, stop: () => ws.terminate() };
  },
};

interface TidewayClient {
  connect(): Promise<unknown>;
  send(data: unknown): Promise<void>;
  terminate(): void;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
  streams(): AsyncIterable<{
    type: "text" | "binary";
    text(): Promise<string>;
    bytes(): Promise<Uint8Array>;
  }>;
}
type TidewayModule = {
  WebSocketClient?: new (url: string, options: Record<string, unknown>) => TidewayClient;
};

let tidewayModule: Promise<TidewayModule | string> | undefined;

/** Imports the client by name (tsx maps it to the sources); a missing or broken client is "unavailable", not a crash. */
function loadTideway(): Promise<TidewayModule | string> {
  tidewayModule ??= import("@tideway/client").then(
    (m: unknown) => m as TidewayModule,
    (err: unknown) => `@tideway/client does not load: ${(err as Error).message}`,
  );
  return tidewayModule;
}

/** `@tideway/client`: the client under test. */
export const tidewayAgent: Agent = {
  name: "tideway",
  async unavailable() {
    const m = await loadTideway();
    if (typeof m === "string") return m;
    if (typeof m.WebSocketClient !== "function") return "@tideway/client does not export WebSocketClient yet";
    return undefined;
  },
  run(url, config = {}) {
    let client: TidewayClient | undefined;
    const done = (async () => {
      const m = await loadTideway();
      if (typeof m === "string" || m.WebSocketClient === undefined) return;
      // Its default offers permessage-deflate; a case may set its own parameters or maxPayload.
      client = new m.WebSocketClient(url, { reconnect: false, heartbeat: false, ...config });
      try {
        await client.connect();
        for await (const msg of client) await client.send(msg);
      } catch {
        // A failed connection (the case's point, often) ends the echo loop: nothing to do.
      }
    })();
    return { done, stop: () => client?.terminate() };
  },
};

/**
 * `@tideway/client` receiving every message as a stream (`receive: "stream"`), collected chunk by
 * chunk and echoed whole: the streaming receive path through the sections on fragmentation, UTF-8,
 * limits and compression. Its message limit is the whole-message path's (the case's maxPayload, or
 * the 100 MiB default), so the limit cases judge the same rule.
 */
export const tidewayStreamAgent: Agent = {
  name: "tideway-stream",
  sections: ["5", "6", "9", "12"],
  unavailable: () => tidewayAgent.unavailable(),
  run(url, config = {}) {
    let client: TidewayClient | undefined;
    const done = (async () => {
      const m = await loadTideway();
      if (typeof m === "string" || m.WebSocketClient === undefined) return;
      client = new m.WebSocketClient(url, {
        reconnect: false,
        heartbeat: false,
        ...config,
        receive: "stream",
        maxStreamedPayload: config.maxPayload ?? 100 * 2 ** 20,
      });
      try {
        await client.connect();
        for await (const message of client.streams()) {
          await client.send(message.type === "text" ? await message.text() : await message.bytes());
        }
      } catch {
        // A failed connection (the case's point, often) ends the echo loop: nothing to do.
      }
    })();
    return { done, stop: () => client?.terminate() };
  },
};

export const AGENTS: readonly Agent[] = [wsAgent, tidewayAgent, tidewayStreamAgent];
