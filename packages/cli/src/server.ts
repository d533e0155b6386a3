/**
 * --listen: a small WebSocket server on the core's server role over node:net, so that two terminals
 * can talk and tests have a peer. Messages from clients are printed; stdin lines go to every client;
 * --echo answers each message to its sender, --broadcast relays it to every other client. No TLS
 * and no compression (offers are declined): a development tool, not a production server.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { CloseCode, END_OF_STREAM, type ServerEvent, ServerProtocol, State } from "@tideway/core";
import type { CliOptions } from "./args.js";
import { ExitCode, OK, type Outcome } from "./exit.js";
import type { Reporter } from "./output.js";
import { lineToMessage, stdinLines } from "./pipe.js";

/** How long stopping waits for clients to answer the close frame before dropping them. */
const STOP_GRACE_MS = 1_000;

/** One accepted client: its protocol, its socket, and writing what the protocol queued. */
class Peer {
  readonly id: number;
  readonly protocol: ServerProtocol;
  readonly #socket: net.Socket;

  constructor(id: number, socket: net.Socket, maxPayload: number | undefined) {
    this.id = id;
    this.#socket = socket;
    this.protocol = new ServerProtocol(maxPayload === undefined ? {} : { maxPayload });
  }

  get open(): boolean {
    return this.protocol.state === State.Open;
  }

  /** Writes what the protocol queued; a full socket stops reading until it drains (echo backpressure). */
  flush(): void {
    for (const item of this.protocol.dataToSend()) {
      if (item === END_OF_STREAM) this.#socket.end();
      else if (!this.#socket.write(item as Uint8Array)) {
        this.#socket.pause();
        this.#socket.once("drain", () => this.#socket.resume());
      }
    }
  }

  send(data: string | Uint8Array): void {
    if (!this.open) return;
    if (typeof data === "string") this.protocol.sendText(data);
    else this.protocol.sendBinary(data);
    this.flush();
  }

  close(code: number, reason: string): void {
    if (this.open) this.protocol.sendClose(code, reason);
    this.flush();
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Serves until SIGINT, SIGTERM or --timeout; the outcome is 0 unless the port could not be bound. */
export async function runServer(
  o: CliOptions,
  reporter: Reporter,
  stdin: NodeJS.ReadableStream,
): Promise<Outcome> {
  const peers = new Set<Peer>();
  let nextId = 1;

  const dispatch = (peer: Peer, event: ServerEvent, address: string) => {
    switch (event.type) {
      case "request": {
        const protocol = event.upgrade.protocols.find((p) => o.subprotocols.includes(p)) ?? "";
        peer.protocol.accept(protocol ? { protocol } : {});
        reporter.event({ type: "connection", peer: peer.id, address, path: event.upgrade.path, protocol });
        return;
      }
      case "text":
      case "binary": {
        void reporter.message(event.data, peer.id);
        if (o.echo) peer.send(event.data);
        if (o.broadcast) for (const other of peers) if (other !== peer) other.send(event.data);
        return;
      }
      case "close":
        reporter.event({
          type: "close",
          peer: peer.id,
          code: event.code,
          reason: event.reason,
          wasClean: true,
        });
        return;
      case "error":
        reporter.event({
          type: "error",
          peer: peer.id,
          code: event.error.code,
          message: event.error.message,
        });
        return;
      case "ping":
      case "pong":
        reporter.event({ type: event.type, peer: peer.id, data: event.data });
        return;
      default:
        return;
    }
  };

  const server = net.createServer((socket) => {
    const peer = new Peer(nextId++, socket, o.maxPayload);
    const address = formatAddress(socket.remoteAddress ?? "?", socket.remotePort ?? 0);
    peers.add(peer);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      peer.protocol.receiveData(chunk);
      for (const event of peer.protocol.eventsReceived()) dispatch(peer, event, address);
      peer.flush();
    });
    socket.on("end", () => {
      peer.protocol.receiveEof();
      for (const event of peer.protocol.eventsReceived()) dispatch(peer, event, address);
      peer.flush();
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => peers.delete(peer));
  });

  const listening = await new Promise<string | Error>((resolve) => {
    server.once("error", resolve);
    server.listen(o.listen, o.host, () => {
      const bound = server.address() as net.AddressInfo;
      resolve(`ws://${formatAddress(o.host, bound.port)}`);
    });
  });
  if (listening instanceof Error) {
    const code = (listening as NodeJS.ErrnoException).code ?? listening.message;
    return {
      code: ExitCode.ConnectFailed,
      reason: `cannot listen on ${formatAddress(o.host, o.listen ?? 0)}: ${code}`,
    };
  }
  reporter.event({ type: "listening", url: listening });

  // stdin lines go to every open client.
  const input = stdinLines(stdin);
  void (async () => {
    let lineNumber = 0;
    for await (const line of input.lines) {
      const data = lineToMessage(
        line,
        { binary: o.binary, decode: o.decodeInput, encoding: o.encoding },
        reporter,
        ++lineNumber,
      );
      if (data !== undefined) for (const peer of peers) peer.send(data);
    }
  })();
  await new Promise<void>((resolve) => {
    const timer = o.timeout === undefined ? undefined : setTimeout(resolve, o.timeout);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  input.stop();

  // Close every client with 1001 (RFC 6455: "going away", a server going down), then drop stragglers.
  for (const peer of peers) peer.close(CloseCode.GoingAway, "server stopping");
  server.close();
  const deadline = Date.now() + STOP_GRACE_MS;
  while (peers.size > 0 && Date.now() < deadline) await sleep(10);
  for (const peer of peers) peer.destroy();
  return OK;
}
