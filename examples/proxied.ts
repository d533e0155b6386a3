/**
 * A WebSocket connection through an HTTP CONNECT proxy. Self-contained: it starts a local WebSocket
 * server (tiny-server.ts) and a minimal in-process CONNECT proxy (node:http's "connect" event), connects
 * through the proxy with `proxy: "http://user:pass@127.0.0.1:PORT"`, prints what happens, and exits.
 *
 * Run: `pnpm -C examples exec node --import tsx proxied.ts`. Against a real proxy, pass its URL as
 * `proxy`, or set `https_proxy` / `http_proxy` (see the Networks section of docs/client.md) and pass nothing.
 */
import { connect } from "@tideway/client";
import { startConnectProxy } from "./tiny-proxy.js";
import { startTinyServer } from "./tiny-server.js";

const { server, url } = await startTinyServer({
  onConnection: (connection) => ({ onMessage: (data) => connection.sendText(`echo: ${String(data)}`) }),
});
const proxy = await startConnectProxy({
  username: "demo",
  password: "secret",
  log: (line) => console.log(`proxy: ${line}`),
});

// Wrong credentials: the proxy's refusal is a typed error, not a generic one (and is not retried).
try {
  await connect(url, { proxy: proxy.url("demo", "wrong") });
} catch (err) {
  const e = err as { code?: string; status?: number };
  console.log(`refused: ${e.code} status ${e.status}`);
}

const client = await connect(url, { proxy: proxy.url("demo", "secret") });
console.log("connected through the proxy");
client.on("message", (data) => console.log(`message: ${String(data)}`));
for (const text of ["hello", "through a proxy"]) await client.send(text);
await new Promise((resolve) => setTimeout(resolve, 100));
await client.close();
console.log("closed");
proxy.close();
server.close();
