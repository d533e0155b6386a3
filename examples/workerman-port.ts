/**
 * Workerman's `ws` client example (see shared/seed/workerman-ws-client.en.md), ported line by line.
 * The PHP original, for reference:
 *
 *   $con = new AsyncTcpConnection('ws://127.0.0.1:1234');      // a client for a ws:// URL
 *   $con->websocketPingInterval = 55;                         // ping every 55 s
 *   $con->headers = ['Cookie' => 'PHPSID=...', 'OtherKey' => 'values'];
 *   $con->websocketType = Ws::BINARY_TYPE_BLOB;               // send text frames
 *   $con->onConnect = function ($con) { $con->send('hello'); };
 *   $con->onWebSocketConnect = function ($con, $response) { echo $response; };
 *   $con->onMessage = function ($con, $data) { echo $data; };
 *   $con->onError = function ($con, $code, $msg) { echo "error $code $msg\n"; };
 *   $con->onClose = function ($con) { $con->reConnect(1); };  // reconnect after 1 s
 *   $con->connect();
 *
 * Run: `pnpm -C examples exec node --import tsx workerman-port.ts` (starts its own local server at
 * 127.0.0.1 on a free port, and stops after a few messages).
 */
import { WebSocketClient } from "@tideway/client";
import { startTinyServer } from "./tiny-server.js";

// A local server standing in for ws://127.0.0.1:1234: it answers each message with an echo.
const { server, url } = await startTinyServer({
  onConnection: (connection) => ({ onMessage: (data) => connection.sendText(`echo: ${String(data)}`) }),
});

// new AsyncTcpConnection('ws://127.0.0.1:1234')
const con = new WebSocketClient(url, {
  heartbeat: { interval: 55_000 }, // websocketPingInterval = 55
  headers: { Cookie: "PHPSID=82u3yuda7hd9dyahd", OtherKey: "values" }, // headers = [...]
  // Reconnecting is built in (with backoff); Workerman's onClose + reConnect(1) becomes an option:
  reconnect: { minTimeout: 1_000, factor: 1, jitter: "none" },
});

// websocketType = BINARY_TYPE_BLOB (text) or BINARY_TYPE_ARRAYBUFFER (binary): in Tideway the type
// follows the data: a string is sent as text, bytes as binary.

// onConnect: the TCP connection is up. Workerman lets you send here (it queues until the handshake);
// Tideway's send() queues the same way.
con.on("connect", () => void con.send("hello"));

// onWebSocketConnect: the handshake is done; the server's HTTP response is passed in.
con.on("open", (response) => console.log("handshake response:", response.status, response.headers));

let received = 0;
// onMessage
con.on("message", (data) => {
  console.log("message:", data);
  if (++received === 2)
    void con.close(); // stop the example after two messages
  else void con.send("second message");
});

// onError: Tideway errors carry a stable code and a message.
con.on("error", (error) => console.log(`error ${(error as { code?: string }).code} ${error.message}`));

// onClose: Workerman recommends reConnect(1) here; Tideway reconnects by itself (the option above),
// and client.reconnect(1000) forces one at any time.
con.on("close", ({ code }) => {
  console.log(`closed with ${code}`);
  server.close();
});

// connect()
await con.connect();
