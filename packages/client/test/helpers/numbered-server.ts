/**
 * The server of the message-accounting test. On each connection it sends the text messages
 * "<connId>:<seq>" (seq from 0) as fast as backpressure allows, drawing from one budget shared by
 * all connections; once the budget is spent it sends "<connId>:end" on every connection. It can cut a
 * connection abruptly after a given number of messages, and it records, per connection, what it
 * sent and, in order, what it received, so a test can check both directions.
 */
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer } from "ws";

/** How the server cuts a connection: `terminate` destroys the socket, `reset` sends a TCP RST. */
export type CutKind = "terminate" | "reset";
export interface CutPlan {
  /** Cut right after this many messages were handed to `ws.send` on the connection. */
  readonly after: number;
  readonly kind: CutKind;
  /**
   * Then wait this long (sending nothing more) before cutting, so that what the client sent
   * meanwhile may reach the server. Defaults to 0: cut at once.
   */
  readonly delayMs?: number;
}

export interface NumberedServerOptions {
  /** Numbered messages to send in total, over all connections. */
  readonly budget: number;
  /** The cut to make on connection `connId` (from 0), or undefined to leave it alone. */
  readonly cutPlan?: (connId: number) => CutPlan | undefined;
  /** Messages handed to `ws` and not yet written to the socket, at most. Defaults to 256. */
  readonly window?: number;
  /**
   * Messages sent on a connection and not yet acknowledged with {@link NumberedServer.ack}, at most.
   * Loopback kernel buffers hold hundreds of thousands of small messages, so without this limit the
   * server could spend its whole budget on the first connection before a cut. Defaults to no limit.
   */
  readonly maxAhead?: number;
}

export interface ConnectionLog {
  readonly id: number;
  /** Numbered messages handed to `ws.send`: "<id>:0" to "<id>:<sent - 1>". */
  sent: number;
  /** True once "<id>:end" was handed to `ws.send`. */
  endSent: boolean;
  /** Text messages received from the client, in order. */
  readonly received: string[];
  /** The cut the server made, if it made one. */
  cut: CutKind | undefined;
  /** True once the connection is closed, whoever closed it. */
  closed: boolean;
}

export interface NumberedServer {
  readonly port: number;
  readonly url: string;
  readonly connections: readonly ConnectionLog[];
  /** Numbered messages still to send. */
  readonly remaining: number;
  /** Tells the server that the client got `count` messages on connection `connId` (see maxAhead). */
  ack(connId: number, count: number): void;
  /** Cuts every open connection now, as the server (not the network) would. */
  cutAll(kind: CutKind): void;
  close(): Promise<void>;
}

export const endMessage = (connId: number): string => `${connId}:end`;

export async function startNumberedServer(options: NumberedServerOptions): Promise<NumberedServer> {
  const window = options.window ?? 256;
  let remaining = options.budget;
  const connections: ConnectionLog[] = [];
  const maxAhead = options.maxAhead ?? Number.POSITIVE_INFINITY;
  const sockets = new Map<ConnectionLog, Socket>();
  const pumps = new Map<ConnectionLog, () => void>();
  const acked = new Map<number, number>();
  const scheduled = new Set<number>();
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });

  const cut = (log: ConnectionLog, kind: CutKind) => {
    const socket = sockets.get(log);
    if (!socket || socket.destroyed) return;
    log.cut = kind;
    if (kind === "reset") socket.resetAndDestroy();
    else socket.destroy();
  };

  wss.on("connection", (ws, request) => {
    const log: ConnectionLog = {
      id: connections.length,
      sent: 0,
      endSent: false,
      received: [],
      cut: undefined,
      closed: false,
    };
    connections.push(log);
    sockets.set(log, request.socket);
    const plan = options.cutPlan?.(log.id);
    let inFlight = 0;
    let cutScheduled = false;

    ws.on("message", (data, isBinary) => {
      log.received.push(isBinary ? `<binary ${String(data)}>` : String(data));
    });
    // A cut connection errors on the client side of ws too; the close event is what we record.
    ws.on("error", () => {});
    ws.on("close", () => {
      log.closed = true;
      sockets.delete(log);
      pumps.delete(log);
    });

    const written = () => {
      inFlight -= 1;
      pump();
    };
    const pump = () => {
      while (
        ws.readyState === ws.OPEN &&
        inFlight < window &&
        log.sent - (acked.get(log.id) ?? 0) < maxAhead
      ) {
        if (plan && log.sent >= plan.after) {
          if (!cutScheduled) {
            cutScheduled = true;
            setTimeout(() => cut(log, plan.kind), plan.delayMs ?? 0);
          }
          return;
        }
        if (remaining === 0) {
          if (!log.endSent) {
            log.endSent = true;
            ws.send(endMessage(log.id));
          }
          return;
        }
        remaining -= 1;
        inFlight += 1;
        ws.send(`${log.id}:${log.sent}`, written);
        log.sent += 1;
      }
    };
    pumps.set(log, pump);
    pump();
  });

  const { port } = wss.address() as AddressInfo;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    connections,
    get remaining() {
      return remaining;
    },
    ack(connId, count) {
      acked.set(connId, Math.max(count, acked.get(connId) ?? 0));
      // Pump on a later turn of the event loop, not inside the client's call stack: the client runs in
      // this process, and a cut made synchronously here would always beat the server's own reads.
      if (scheduled.has(connId)) return;
      scheduled.add(connId);
      setImmediate(() => {
        scheduled.delete(connId);
        const log = connections[connId];
        if (log) pumps.get(log)?.();
      });
    },
    cutAll(kind) {
      for (const log of sockets.keys()) cut(log, kind);
    },
    async close() {
      for (const socket of sockets.values()) socket.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
