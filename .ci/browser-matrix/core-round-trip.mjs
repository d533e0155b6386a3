// Runs in the page (browser-matrix.mjs): the built @tideway/core, a client and a server protocol
// joined in memory. Each check returns normally or throws; `run` reports every check by name.
import { ClientProtocol, END_OF_STREAM, ServerProtocol, State } from "/core/index.js";

/** Moves what `from` wants to write into `to`, byte by byte when `split`; returns `to`'s events. */
function pump(from, to, split = false) {
  for (const item of from.dataToSend()) {
    if (item === END_OF_STREAM) to.receiveEof();
    else if (split) for (let i = 0; i < item.length; i++) to.receiveData(item.subarray(i, i + 1));
    else to.receiveData(item.slice());
  }
  return to.eventsReceived();
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

function types(events) {
  return events.map((e) => e.type).join(",");
}

export function run() {
  const client = new ClientProtocol({ url: "ws://example.test/feed", protocols: ["v1"] });
  const server = new ServerProtocol();
  const checks = [
    [
      "opening handshake (request fed byte by byte)",
      () => {
        expectEqual(types(pump(client, server, true)), "request", "server events");
        server.accept({ protocol: "v1" });
        const events = pump(server, client);
        expectEqual(types(events), "open", "client events");
        expectEqual(events[0].response.protocol, "v1", "negotiated subprotocol");
        expectEqual(client.state, State.Open, "client state");
      },
    ],
    [
      "text both ways (UTF-8)",
      () => {
        client.sendText("héllo wörld ✓");
        const received = pump(client, server);
        expectEqual(types(received), "text", "server events");
        expectEqual(received[0].data, "héllo wörld ✓", "text at the server");
        server.sendText("réponse");
        expectEqual(pump(server, client)[0].data, "réponse", "text at the client");
      },
    ],
    [
      "binary with a 64-bit length (70000 bytes, masked)",
      () => {
        const bytes = Uint8Array.from({ length: 70000 }, (_, i) => (i * 31 + 7) & 255);
        client.sendBinary(bytes);
        const [message] = pump(client, server);
        expectEqual(message.type, "binary", "event type");
        expectEqual(message.data.length, bytes.length, "length");
        expectEqual(
          message.data.every((b, i) => b === bytes[i]),
          true,
          "same bytes",
        );
      },
    ],
    [
      "ping answered by the core's own pong",
      () => {
        client.sendPing(new Uint8Array([7, 7]));
        expectEqual(types(pump(client, server)), "ping", "server events");
        const [pong] = pump(server, client);
        expectEqual(pong.type, "pong", "client event");
        expectEqual(Array.from(pong.data).join(","), "7,7", "pong payload");
      },
    ],
    [
      "closing handshake started by the client",
      () => {
        client.sendClose(1000, "bye");
        const [close] = pump(client, server);
        expectEqual(close.type, "close", "server event");
        expectEqual(close.code, 1000, "close code");
        expectEqual(close.reason, "bye", "close reason");
        pump(server, client); // the echo, then the server ends the stream
        expectEqual(client.state, State.Closed, "client state");
        expectEqual(server.state, State.Closing, "server state before the client's TCP close");
        server.receiveEof();
        expectEqual(server.state, State.Closed, "server state");
      },
    ],
  ];
  return checks.map(([name, check]) => {
    try {
      check();
      return { check: name, ok: true };
    } catch (err) {
      return { check: name, ok: false, error: String(err?.stack ?? err) };
    }
  });
}
