// The shared subset every runtime runs (runtime-matrix.mjs): plain JavaScript, no Node-only API, so
// Node, Bun and Deno run the same checks against the same local server. `WebSocketClient` is passed
// in, imported by the ESM or the CJS entry, so each build of the package is the one exercised.

/** Fails the check when `promise` has not settled within `ms`. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

/** The next message of `iterator`, as a string (text) or bytes. */
async function nextMessage(iterator, what) {
  const result = await within(5000, what, iterator.next());
  if (result.done) throw new Error(`${what}: the iterator ended`);
  return result.value;
}

/** Runs the checks in order; `report(name, error?)` is called once per check. Resolves when done. */
export async function runSubset(WebSocketClient, url, proxy, report) {
  const client = new WebSocketClient(url, {
    headers: { "x-tideway-matrix": "yes" },
    heartbeat: false,
    reconnect: { minTimeout: 20, maxTimeout: 100, retries: 5 },
  });
  const opens = [];
  client.on("open", () => opens.push(Date.now()));
  client.on("error", () => {}); // the drop below is expected; failures show in the checks
  const iterator = client[Symbol.asyncIterator]();
  const checks = [
    [
      "connect",
      async () => {
        const response = await within(5000, "connect", client.connect());
        expectEqual(response.status, 101, "status");
      },
    ],
    [
      "send + iterate",
      async () => {
        await client.send("hello");
        expectEqual(await nextMessage(iterator, "text echo"), "hello", "text echo");
        await client.send(new Uint8Array([1, 2, 3]));
        const bytes = await nextMessage(iterator, "binary echo");
        expectEqual(Array.from(bytes).join(","), "1,2,3", "binary echo");
      },
    ],
    [
      "headers",
      async () => {
        await client.send("header?");
        expectEqual(await nextMessage(iterator, "header"), "yes", "x-tideway-matrix seen by the server");
      },
    ],
    [
      "deflate",
      async () => {
        if (!client.response.extensions.includes("permessage-deflate")) {
          throw new Error(`permessage-deflate not negotiated: "${client.response.extensions}"`);
        }
        const big = "tideway ".repeat(8192); // 64 KiB, compressible: the server's echo is compressed too
        await client.send(big);
        expectEqual(await nextMessage(iterator, "deflated echo"), big, "deflated echo");
        await client.send("bytes?");
        const read = Number(await nextMessage(iterator, "bytes read"));
        if (!(read < 8192))
          throw new Error(`the server read ${read} bytes for a 64 KiB message: not compressed`);
      },
    ],
    [
      "ping",
      async () => {
        const rtt = await within(5000, "ping", client.ping());
        if (typeof rtt !== "number" || !(rtt >= 0)) throw new Error(`ping resolved with ${rtt}`);
      },
    ],
    [
      "reconnect after the server drops",
      async () => {
        await client.send("drop");
        const deadline = Date.now() + 5000;
        while (opens.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        expectEqual(opens.length, 2, "opens");
        await client.send("after");
        expectEqual(await nextMessage(iterator, "echo after reconnect"), "after", "echo after reconnect");
      },
    ],
    [
      "close",
      async () => {
        await within(5000, "close", client.close());
        expectEqual(client.readyState, 3, "readyState");
        const end = await within(5000, "iterator end", iterator.next());
        expectEqual(end.done, true, "the iterator ends after close");
      },
    ],
    [
      "through an HTTP proxy",
      async () => {
        // This host name resolves nowhere: only the proxy, which maps it to the server, reaches it.
        const target = `ws://tideway-matrix.invalid:${new URL(url).port}/`;
        const proxied = new WebSocketClient(target, { proxy, heartbeat: false, reconnect: false });
        try {
          await within(5000, "connect through the proxy", proxied.connect());
          const messages = proxied[Symbol.asyncIterator]();
          await proxied.send("via proxy");
          expectEqual(
            await nextMessage(messages, "echo through the proxy"),
            "via proxy",
            "echo through the proxy",
          );
          await within(5000, "close through the proxy", proxied.close());
        } finally {
          proxied.terminate();
        }
      },
    ],
  ];
  for (const [name, check] of checks) {
    try {
      await check();
      report(name);
    } catch (err) {
      report(name, err);
      client.terminate();
      return;
    }
  }
}
