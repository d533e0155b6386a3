/**
 * Real servers on loopback for the client tests: `ws` (the npm package) on port 0, a TLS variant
 * with a certificate made by the openssl CLI in a temp dir, and raw net servers for behaviours no
 * conforming server produces (trickling, silent, frames inside the 101 packet).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import net, { type AddressInfo } from "node:net";
import { type ServerOptions, WebSocket, WebSocketServer } from "ws";
import { createTestCertificate } from "./tls.js";

export interface WsTestServer {
  readonly wss: WebSocketServer;
  readonly port: number;
  readonly url: string;
  /** Upgrade requests seen, in order. */
  readonly requests: IncomingMessage[];
  /** Server-side sockets, in order of connection. */
  readonly clients: WebSocket[];
  /** Resolves with the next server-side socket. */
  nextClient(): Promise<WebSocket>;
  close(): Promise<void>;
}

function track(wss: WebSocketServer, url: string, port: number): WsTestServer {
  const requests: IncomingMessage[] = [];
  const clients: WebSocket[] = [];
  let waiters: ((ws: WebSocket) => void)[] = [];
  wss.on("connection", (ws, req) => {
    requests.push(req);
    clients.push(ws);
    const w = waiters;
    waiters = [];
    for (const fn of w) fn(ws);
  });
  return {
    wss,
    port,
    url,
    requests,
    clients,
    nextClient: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** A `ws` server on 127.0.0.1 (or ::1) port 0. Echoes messages unless `echo: false`. */
export async function startWsServer(
  o: { host?: string; echo?: boolean } & Omit<ServerOptions, "port" | "host" | "server"> = {},
): Promise<WsTestServer> {
  const { host = "127.0.0.1", echo = true, ...rest } = o;
  const wss = new WebSocketServer({ host, port: 0, ...rest });
  await new Promise<void>((resolve, reject) => {
    wss.once("listening", resolve);
    wss.once("error", reject);
  });
  const port = (wss.address() as AddressInfo).port;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const server = track(wss, `ws://${hostPart}:${port}`, port);
  if (echo)
    wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  return server;
}

export interface Cert {
  readonly key: string;
  readonly cert: string;
}

/** A self-signed certificate for "localhost", 127.0.0.1 and ::1 (the one openssl recipe: tls.ts). */
export function makeCert(): Cert {
  const made = createTestCertificate();
  made.cleanup();
  return { key: made.key, cert: made.cert };
}

/** A `ws` echo server over TLS on 127.0.0.1; `servernames` records the SNI of each TLS hello. */
export async function startWssServer(
  cert: Cert,
): Promise<WsTestServer & { servernames: (string | false)[] }> {
  const https = createHttpsServer({ key: cert.key, cert: cert.cert });
  const servernames: (string | false)[] = [];
  https.on("secureConnection", (s) =>
    servernames.push((s as unknown as { servername: string | false }).servername),
  );
  await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
  const port = (https.address() as AddressInfo).port;
  const wss = new WebSocketServer({ server: https });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  const server = track(wss, `wss://localhost:${port}`, port);
  return {
    ...server,
    servernames,
    close: async () => {
      await server.close();
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
}

export interface RawServer {
  readonly port: number;
  readonly url: string;
  readonly sockets: net.Socket[];
  close(): Promise<void>;
}

/** A raw TCP server on 127.0.0.1 port 0; `onSocket` does whatever the test needs. */
export async function startRawServer(onSocket: (socket: net.Socket) => void): Promise<RawServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads an HTTP upgrade request head from `socket`, then calls `fn` with the Sec-WebSocket-Key. */
export function onUpgradeRequest(socket: net.Socket, fn: (key: string) => void): void {
  let head = "";
  const onData = (chunk: Buffer) => {
    head += chunk.toString("latin1");
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    socket.off("data", onData);
    const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? "";
    fn(key);
  };
  socket.on("data", onData);
}

/** The 101 response for a key (RFC 6455 section 4.2.2). */
export function switchingProtocols(key: string): string {
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/** An unmasked server frame. */
export function serverFrame(opcode: number, payload: Uint8Array | string, fin = true): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const len = data.length;
  const head =
    len < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, len])
      : len < 65536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 126, len >> 8, len & 0xff])
        : (() => {
            const b = Buffer.alloc(10);
            b[0] = (fin ? 0x80 : 0) | opcode;
            b[1] = 127;
            b.writeBigUInt64BE(BigInt(len), 2);
            return b;
          })();
  return Buffer.concat([head, data]);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `cond` every 5 ms until it holds, or fails after `timeout` ms. */
export async function waitFor(cond: () => boolean, timeout = 3000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export { WebSocket };
