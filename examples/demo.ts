/**
 * The demo the README's first command runs. It starts a local WebSocket server (built on
 * @tideway/core) and a local HTTP CONNECT proxy, then a Tideway client that:
 *  - connects through the proxy, with custom headers and a heartbeat, and prints the server's
 *    handshake response;
 *  - sends "hello", and streams the server's messages with `for await`;
 *  - survives the server dropping its TCP connection: it reconnects by itself, resubscribes in
 *    `onOpen`, and the same loop goes on;
 *  - closes cleanly and exits by itself.
 */
import { WebSocketClient } from "@tideway/client";
import { startConnectProxy } from "./tiny-proxy.js";
import { startTinyServer } from "./tiny-server.js";

const TICKS_PER_CONNECTION = 5;
let connections = 0;

// The server: greets each client, echoes what it receives, and sends a few ticks. It drops the
// first connection abruptly (no close frame, as a crashing server would) after 3 ticks.
const { server, url } = await startTinyServer({
  onConnection(connection) {
    const id = ++connections;
    console.log(`[server] connection #${id} to ${connection.path} (cookie: ${connection.headers.cookie})`);
    let tick = 0;
    const timer = setInterval(() => {
      tick += 1;
      if (id === 1 && tick === 3) {
        console.log("[server] dropping connection #1 without a close frame");
        clearInterval(timer);
        connection.drop();
        return;
      }
      connection.sendText(`tick ${tick}/${TICKS_PER_CONNECTION} on connection #${id}`);
      if (tick === TICKS_PER_CONNECTION) clearInterval(timer);
    }, 150);
    return {
      onMessage: (data) =>
        connection.sendText(`echo: ${typeof data === "string" ? data : `${data.length} bytes`}`),
      onClose: () => clearInterval(timer),
    };
  },
});

// A proxy in front of the server, as in many corporate networks. Without the `proxy` option the
// client would take one from the environment (https_proxy, http_proxy...), as curl does.
const proxy = await startConnectProxy({
  username: "demo",
  password: "secret",
  log: (line) => console.log(`[proxy] ${line}`),
});

const client = new WebSocketClient(`${url}/feed?demo=1`, {
  proxy: proxy.url("demo", "secret"),
  headers: { Cookie: "session=demo" },
  heartbeat: { interval: 1_000, timeout: 500 },
  reconnect: { retries: 5, minTimeout: 200, maxTimeout: 2_000 },
  // Runs after every handshake, before queued sends: the place to (re)subscribe.
  onOpen: async (session) => {
    await session.send("subscribe ticks");
  },
});
client.on("connect", () => console.log("[client] TCP connected"));
client.on("open", (response) => console.log(`[client] WebSocket open (${response.status})`));
client.on("reconnecting", ({ attempt, delay, error }) =>
  console.log(
    `[client] reconnecting (attempt ${attempt} in ${delay} ms) after: ${(error as Error).message ?? error}`,
  ),
);
client.on("close", ({ code, wasClean }) =>
  console.log(`[client] connection closed (code ${code}, clean: ${wasClean})`),
);
client.on("error", (error) => console.log(`[client] error: ${error.message}`));

const response = await client.connect();
console.log("[client] handshake response:", {
  status: response.status,
  statusText: response.statusText,
  headers: response.headers,
});
await client.send("hello");

let lastTicks = 0;
for await (const message of client) {
  console.log(`[client] message: ${String(message)}`);
  if (String(message).startsWith(`tick ${TICKS_PER_CONNECTION}/`)) lastTicks += 1;
  // The second connection finishing its ticks means we survived the drop: we are done.
  if (lastTicks === 1 && connections >= 2) break;
}

await client.close(1000, "demo done");
proxy.close();
await new Promise<void>((resolve) => server.close(() => resolve()));
console.log(`[demo] done: ${connections} connections, the client reconnected by itself and exits now`);
