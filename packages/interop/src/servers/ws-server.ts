/** The `ws` (npm) peer, in-process: a WebSocketServer speaking the peer protocol. */
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { type Peer, type PeerSpec, ReportBus } from "./peer.js";
import {
  CUSTOM_HEADER,
  ECHO_HEADER,
  type HandshakeReport,
  PEER_MAX_MESSAGE,
  PING_PAYLOAD,
  SUBPROTOCOL,
} from "./peer-protocol.js";

const wsVersion: string = (createRequire(import.meta.url)("ws/package.json") as { version: string }).version;

export interface WsPeerOptions {
  /**
   * Rewrites what /echo sends back. Only the harness's own tests use it: a peer that corrupts echoes
   * proves the echo checks can fail.
   */
  readonly tamper?: (data: Buffer, isBinary: boolean) => Buffer;
  /**
   * Whether the server negotiates permessage-deflate (default true, with ws's defaults). The
   * harness's tests pass false: a peer without the extension.
   */
  readonly perMessageDeflate?: boolean;
  /**
   * Whether /echo compresses what it sends once the extension is negotiated (default true). The
   * harness's tests pass false: a peer that negotiates but sends plain frames, which only the wire
   * (the relay's byte counts) can catch.
   */
  readonly compressEchoes?: boolean;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name.toLowerCase()];
  return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
}

function echo(ws: WebSocket, { tamper, compressEchoes = true }: WsPeerOptions): void {
  ws.on("message", (data, isBinary) => {
    const bytes = toBuffer(data);
    ws.send(tamper === undefined ? bytes : tamper(bytes, isBinary), {
      binary: isBinary,
      compress: compressEchoes,
    });
  });
}

function serve(ws: WebSocket, req: IncomingMessage, reports: ReportBus, options: WsPeerOptions): void {
  const url = new URL(req.url ?? "/", "http://peer");
  const id = url.searchParams.get("id");
  if (id !== null) {
    ws.on("close", (code, reason) => reports.push({ event: "close", id, code, reason: reason.toString() }));
  }
  switch (url.pathname) {
    case "/handshake": {
      const report: HandshakeReport = {
        path: url.pathname,
        header: headerValue(req, CUSTOM_HEADER),
        protocols: headerValue(req, "Sec-WebSocket-Protocol") ?? "",
      };
      ws.send(JSON.stringify(report));
      echo(ws, options);
      return;
    }
    case "/server-close":
      ws.once("message", () =>
        ws.close(Number(url.searchParams.get("code")), url.searchParams.get("reason") ?? ""),
      );
      return;
    case "/server-ping": {
      const timer = setTimeout(() => ws.send(JSON.stringify({ pong: null })), 5_000);
      ws.once("pong", (data) => {
        clearTimeout(timer);
        ws.send(JSON.stringify({ pong: data.toString() }));
      });
      ws.on("close", () => clearTimeout(timer));
      ws.ping(PING_PAYLOAD);
      echo(ws, options);
      return;
    }
    default:
      echo(ws, options);
  }
}

/** Starts a `ws` server on 127.0.0.1, port 0. */
export async function startWsPeer(options: WsPeerOptions = {}): Promise<Peer> {
  const reports = new ReportBus();
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    maxPayload: PEER_MAX_MESSAGE,
    perMessageDeflate: options.perMessageDeflate ?? true,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  wss.on("headers", (headers, req) => {
    // Our own header value, but never let CR/LF through into a response head.
    headers.push(`${ECHO_HEADER}: ${(headerValue(req, CUSTOM_HEADER) ?? "").replace(/[\r\n]/g, " ")}`);
  });
  wss.on("connection", (ws, req) => serve(ws, req, reports, options));
  await once(wss, "listening");
  const { port } = wss.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}`,
    version: `ws ${wsVersion}`,
    deflate: options.perMessageDeflate !== false,
    reports,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      });
      return stopped;
    },
  };
}

export const wsPeer: PeerSpec = {
  name: "ws",
  description: "`ws` (npm) WebSocketServer, in-process, ws://127.0.0.1",
  start: () => startWsPeer(),
};
