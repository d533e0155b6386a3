// Tideway in a browser or a Web Worker: the same WebSocketClient as on Node, over the runtime's own
// WebSocket. Bundle it as any app (`import ... from "@tideway/client"` resolves to the browser build
// through the package's "browser"/"worker" conditions); index.html runs it in the page, worker.js in
// a Web Worker. The server it expects (.ci/browser-matrix.mjs has one): echoes every message, answers
// "ping" with "pong", and drops the connection when it receives "drop".
import { appHeartbeat, WebSocketClient } from "@tideway/client";

const CHECK_TIMEOUT = 5000;

function expectEqual(actual, expected, what) {
  const a = actual instanceof Uint8Array ? `Uint8Array[${actual}]` : String(actual);
  const e = expected instanceof Uint8Array ? `Uint8Array[${expected}]` : String(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), CHECK_TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs the example against the echo server at `url`; resolves with one `{ check, ok, error }` per step. */
export async function run(url) {
  const results = [];
  // A logger as console is one (pass console itself in an app); this one keeps the calls for a check.
  const logged = [];
  const logger = Object.fromEntries(
    ["debug", "info", "warn", "error"].map((level) => [level, (...args) => logged.push([level, ...args])]),
  );
  const client = new WebSocketClient(url, {
    logger,
    protocols: ["tideway.echo"],
    reconnect: { minTimeout: 50, maxTimeout: 200 },
    // No ping frames in a browser: a message of our own protocol, and the reply that proves life.
    appHeartbeat: appHeartbeat({
      message: "ping",
      isReply: (m) => m === "pong",
      interval: 1000,
      timeout: 2000,
    }),
    // Sent on every (re)connection before the queued sends: where a Node client would send a header.
    onOpen: (session) => session.send("hello"),
  });
  const messages = client[Symbol.asyncIterator]();
  const next = async (what) => (await within(messages.next(), what)).value;
  const steps = [
    [
      "await connect(): the subprotocol agreed, onOpen's message first",
      async () => {
        await within(client.connect(), "connect");
        expectEqual(client.protocol, "tideway.echo", "protocol");
        expectEqual(await next("onOpen's echo"), "hello", "first message");
      },
    ],
    [
      "send() and for await: text and binary echoed",
      async () => {
        await client.send("héllo wörld");
        await client.send(new Uint8Array([1, 2, 3]));
        expectEqual(await next("text echo"), "héllo wörld", "text");
        expectEqual(await next("binary echo"), new Uint8Array([1, 2, 3]), "binary");
      },
    ],
    [
      "ping(): an application-level round trip, its reply not delivered",
      async () => {
        const rtt = await within(client.ping(), "ping");
        if (!(rtt >= 0)) throw new Error(`round trip ${rtt}`);
      },
    ],
    [
      "the server drops the connection: the client reconnects and onOpen runs again",
      async () => {
        const reconnected = new Promise((resolve) => client.once("open", resolve));
        await client.send("drop");
        await within(reconnected, "reconnect");
        await client.send("after the drop");
        expectEqual(await next("onOpen's echo on the new connection"), "hello", "first message");
        expectEqual(await next("echo after the drop"), "after the drop", "message");
      },
    ],
    [
      "close(): the closing handshake, then the iterator ends",
      async () => {
        await within(client.close(), "close");
        expectEqual((await within(messages.next(), "iterator end")).done, true, "done");
      },
    ],
    [
      "logger: each step as its name and values, which a console shows as objects",
      async () => {
        const find = (level, step) => logged.find(([l, message]) => l === level && message === step);
        expectEqual(find("info", "tideway: open")?.[2], url, "the open's URL");
        const close = logged.filter(([l, message]) => l === "info" && message === "tideway: close").at(-1);
        expectEqual(close?.[2]?.code, 1000, "the last close's code");
        expectEqual(close?.[2]?.initiatedByUser, true, "the last close initiated by the client");
        expectEqual(find("warn", "tideway: reconnecting")?.[2]?.attempt, 1, "the reconnect's attempt");
      },
    ],
    [
      "an option a browser cannot honour throws a TypeError at construction",
      async () => {
        try {
          new WebSocketClient(url, { headers: { authorization: "Bearer x" } });
        } catch (err) {
          if (err instanceof TypeError && /headers/.test(err.message)) return;
          throw err;
        }
        throw new Error("no TypeError");
      },
    ],
  ];
  for (const [check, fn] of steps) {
    try {
      await fn();
      results.push({ check, ok: true });
    } catch (err) {
      results.push({ check, ok: false, error: String(err?.stack ?? err) });
    }
  }
  client.terminate();
  return results;
}
