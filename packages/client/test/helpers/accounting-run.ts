/**
 * One run of the message-accounting scenario, for any client with the shape of Tideway's
 * `WebSocketClient`: a numbered-messages server behind a TCP proxy, connections cut several times at
 * seeded random points by the server (terminate or RST) and by the proxy (RST), the client receiving
 * across reconnects while it sends numbered messages of its own without awaiting them. It returns the
 * logs judged by the oracle in accounting.ts; the caller asserts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  checkReceived,
  checkSent,
  parseNumbered,
  type ReceiveSummary,
  type SendOutcome,
} from "./accounting.js";
import { type CutKind, type CutPlan, startNumberedServer } from "./numbered-server.js";
import { startProxy } from "./tcp-proxy.js";

/** The part of `WebSocketClient` the scenario uses. */
export interface AccountingClient extends AsyncIterable<unknown> {
  connect(): Promise<unknown>;
  send(data: string): Promise<void>;
  close(code?: number, reason?: string): Promise<void>;
  on(event: "open", listener: () => void): unknown;
}

export interface AccountingOptions {
  readonly seed: number;
  /** Numbered messages the server sends in total. */
  readonly budget: number;
  /** Connections the server cuts (the even ones: 0, 2, 4...). */
  readonly serverCuts: number;
  /** Connections the proxy resets (the odd ones: 1, 3, 5...). */
  readonly proxyCuts: number;
  /** The run gives up (and reports it) after this long. */
  readonly deadlineMs: number;
  /** Lets a test break the stream the client yields, to prove the oracle notices. */
  readonly tamper?: (message: string, index: number) => string | undefined;
}

export interface AccountingResult {
  readonly seed: number;
  readonly receive: ReceiveSummary;
  readonly sendViolations: string[];
  /** Problems of the run itself: deadline, hung close, final message missing. */
  readonly runViolations: string[];
  readonly serverConnections: number;
  readonly serverCutsMade: Readonly<Record<CutKind, number>>;
  readonly proxyCutsMade: number;
  readonly opens: number;
  readonly sends: Readonly<Record<SendOutcome, number>>;
  /** Server connections on which the server received at least one of the client's messages. */
  readonly connectionsWithSends: number;
  /** One line per server connection, to read a failure: what went each way and how it ended. */
  readonly connections: ReadonlyArray<{
    readonly id: number;
    readonly serverSent: number;
    readonly clientGot: number;
    readonly serverGot: string;
    readonly cut: CutKind | "proxy" | undefined;
  }>;
}

/** mulberry32: a tiny seeded PRNG, so that a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves true once `condition()` holds, false after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await sleep(5);
  }
  return true;
}

function asText(message: unknown): string {
  if (typeof message === "string") return message;
  if (message instanceof Uint8Array) return `<binary ${message.length} bytes>`;
  if (typeof message === "object" && message !== null && "data" in message) return asText(message.data);
  return `<${typeof message}>`;
}

export async function runAccounting(
  makeClient: (url: string) => AccountingClient,
  options: AccountingOptions,
): Promise<AccountingResult> {
  const random = seededRandom(options.seed);
  // Cuts come a few ms after their trigger, not inside the client's call stack: the client shares
  // this process's event loop, and a cut made at once would always beat the server reading what the
  // client sent, leaving the send side nothing to check.
  const cutDelay = () => 2 + Math.floor(random() * 8);
  const serverCutAfter = new Map<number, CutPlan>();
  for (let i = 0; i < options.serverCuts; i++) {
    serverCutAfter.set(2 * i, {
      after: 500 + Math.floor(random() * 6000),
      kind: i % 2 === 0 ? "terminate" : "reset",
      delayMs: cutDelay(),
    });
  }
  const proxyCutAt = new Map<number, { after: number; delayMs: number }>();
  for (let i = 0; i < options.proxyCuts; i++) {
    proxyCutAt.set(2 * i + 1, { after: 200 + Math.floor(random() * 4000), delayMs: cutDelay() });
  }

  // maxAhead bounds what a cut can lose, so the budget lasts for all the planned cuts.
  const server = await startNumberedServer({
    budget: options.budget,
    maxAhead: 2000,
    cutPlan: (connId) => serverCutAfter.get(connId),
  });
  const proxy = await startProxy({ port: server.port });
  const client = makeClient(`ws://127.0.0.1:${proxy.port}`);
  const runViolations: string[] = [];
  let opens = 0;
  client.on("open", () => {
    opens += 1;
  });
  let proxyCutsMade = 0;
  const proxyCutConnections = new Set<number>();

  try {
    await client.connect();

    // The send side: numbered sends in small batches, never awaited one by one.
    const outcomes: SendOutcome[] = [];
    const sendOne = () => {
      const seq = outcomes.length;
      outcomes.push("pending");
      try {
        client.send(String(seq)).then(
          () => {
            outcomes[seq] = "resolved";
          },
          () => {
            outcomes[seq] = "rejected";
          },
        );
      } catch {
        outcomes[seq] = "rejected";
      }
      return seq;
    };
    let sending = true;
    const sender = (async () => {
      while (sending && outcomes.length < options.budget) {
        for (let i = 0; i < 20; i++) sendOne();
        await sleep(1);
      }
    })();

    // The receive side.
    const deadline = setTimeout(() => {
      runViolations.push(`deadline of ${options.deadlineMs} ms reached`);
      void client.close();
    }, options.deadlineMs);
    const yielded: string[] = [];
    const perConnection = new Map<number, number>();
    let index = 0;
    for await (const message of client) {
      const text = options.tamper ? options.tamper(asText(message), index++) : asText(message);
      if (text === undefined) continue;
      yielded.push(text);
      const parsed = parseNumbered(text);
      if (!parsed) continue;
      if ("end" in parsed) break;
      const count = (perConnection.get(parsed.connId) ?? 0) + 1;
      perConnection.set(parsed.connId, count);
      server.ack(parsed.connId, count);
      // The receive loop can keep the event loop busy for a whole connection's life, starving the
      // sender above: send from here too, so every connection carries sends.
      if (count % 20 === 0 && outcomes.length < options.budget) for (let i = 0; i < 2; i++) sendOne();
      const proxyCut = proxyCutAt.get(parsed.connId);
      if (proxyCut?.after === count) {
        const connId = parsed.connId;
        setTimeout(() => {
          if (proxy.resetAll() === 0) return;
          proxyCutsMade += 1;
          proxyCutConnections.add(connId);
        }, proxyCut.delayMs);
      }
      if (yielded.length > options.budget + 10_000) {
        runViolations.push("far more messages than the budget: stopping");
        break;
      }
    }
    sending = false;
    await sender;

    // No cut follows the end marker: a last awaited send must reach the server on that connection.
    const finalSeq = sendOne();
    const lastConnection = server.connections.at(-1);
    const delivered = await waitUntil(() => lastConnection?.received.at(-1) === String(finalSeq), 5_000);
    if (!delivered)
      runViolations.push(`the final send ${finalSeq} never reached the server's last connection`);
    if (!(await waitUntil(() => !outcomes.includes("pending"), 5_000))) {
      runViolations.push("sends still pending 5 s after the end");
    }
    clearTimeout(deadline);

    const closed = await Promise.race([client.close().then(() => true), sleep(5_000).then(() => false)]);
    if (!closed) runViolations.push("client.close() did not settle within 5 s");

    const receive = checkReceived(yielded, server.connections, options.budget);
    const sendViolations = checkSent(
      server.connections.map((log) => log.received),
      outcomes,
    );
    const sends = { pending: 0, resolved: 0, rejected: 0 };
    for (const outcome of outcomes) sends[outcome] += 1;
    const serverCutsMade = { terminate: 0, reset: 0 };
    for (const log of server.connections) if (log.cut) serverCutsMade[log.cut] += 1;
    return {
      seed: options.seed,
      receive,
      sendViolations,
      runViolations,
      serverConnections: server.connections.length,
      serverCutsMade,
      proxyCutsMade,
      opens,
      sends,
      connectionsWithSends: server.connections.filter((log) => log.received.length > 0).length,
      connections: server.connections.map((log) => ({
        id: log.id,
        serverSent: log.sent,
        clientGot: receive.receivedPerConnection.get(log.id) ?? 0,
        serverGot: log.received.length === 0 ? "none" : `${log.received[0]}..${log.received.at(-1)}`,
        cut: log.cut ?? (proxyCutConnections.has(log.id) ? "proxy" : undefined),
      })),
    };
  } finally {
    await client.close().catch(() => {});
    await proxy.close();
    await server.close();
  }
}
