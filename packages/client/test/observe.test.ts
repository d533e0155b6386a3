import { Buffer } from "node:buffer";
import { format } from "node:util";
import { describe, expect, it } from "vitest";
import type { Logger } from "../src/index.js";
import * as observe from "../src/observe.js";
import { client, nextEvent, rawServer, runChild, useCleanups, within, wsServer } from "./helpers/harness.js";
import { onUpgradeRequest, waitFor } from "./helpers/servers.js";

useCleanups();

type Level = keyof Logger;

/** A logger that records every call as "level: formatted line", as console would print it. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: Level) =>
    (message: string, ...args: unknown[]) =>
      lines.push(`${level}: ${format(message, ...args)}`);
  return { logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, lines };
}

const SECRET = "s3cr3t";

describe("the logger option", () => {
  it("logs the lifecycle, the upgrade request and response with credentials redacted, pings and the close", async () => {
    const server = await wsServer();
    const { logger, lines } = recordingLogger();
    const url = server.url.replace("ws://", `ws://user:${SECRET}@`);
    const c = client(`${url}/chat`, { logger, headers: { Cookie: `sid=${SECRET}` } });
    await c.connect();
    const pinged = nextEvent(c, "ping");
    server.clients[0]!.ping(Buffer.from("abc"));
    await within(pinged, 2000, "the server's ping");
    await c.ping();
    await c.close(1000, "bye");
    await waitFor(() => lines.some((l) => l.startsWith("info: connection closed")), 2000, "the close");

    expect(lines).toEqual(
      expect.arrayContaining([
        `debug: connecting to ${server.url}/chat`,
        "debug: > GET /chat HTTP/1.1",
        "debug: > Authorization: [redacted]",
        "debug: > Cookie: [redacted]",
        "debug: < HTTP/1.1 101 Switching Protocols",
        `info: connection open: ${server.url}/chat`,
        "debug: < ping (3 bytes)",
        "debug: < pong (8 bytes)", // the ping() payload: a nonce and a sequence number
        'debug: closing: code 1000, reason "bye"',
        'info: connection closed: code 1000, reason "bye", clean',
      ]),
    );
    expect(lines[0]).toBe(`debug: connecting to ${server.url}/chat`);
    expect(lines.at(-1)).toBe("debug: client closed");
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("logs errors and reconnect delays, and the end of the run", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, () =>
        socket.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"),
      ),
    );
    const { logger, lines } = recordingLogger();
    const c = client(server.url, {
      logger,
      reconnect: { initialRetries: 1, minTimeout: 5, maxTimeout: 5, jitter: "none" },
    });
    c.on("error", () => {});
    await expect(c.connect()).rejects.toThrow(/503/);
    const levels = lines.filter((l) => !l.startsWith("debug: >") && !l.startsWith("debug: <"));
    expect(levels).toEqual([
      `debug: connecting to ${server.url}/`,
      "error: failed: WS_ERR_UNEXPECTED_RESPONSE: Unexpected server response: 503 Service Unavailable",
      "warn: reconnecting in 5 ms (attempt 1) after WS_ERR_UNEXPECTED_RESPONSE: Unexpected server response: 503 Service Unavailable",
      `debug: connecting to ${server.url}/`,
      "error: failed: WS_ERR_UNEXPECTED_RESPONSE: Unexpected server response: 503 Service Unavailable",
      "debug: client closed after WS_ERR_UNEXPECTED_RESPONSE: Unexpected server response: 503 Service Unavailable",
    ]);
    expect(lines).toContain("debug: < HTTP/1.1 503 Service Unavailable");
  });

  it("describes an error by its code and message when it has a string code, else as it says itself", () => {
    const { logger, lines } = recordingLogger();
    const source = { client: {} };
    observe.error(source, logger, Object.assign(new Error("refused"), { code: "ECONNREFUSED" }));
    observe.error(source, logger, new TypeError("x is undefined"));
    observe.error(source, logger, new DOMException("stopped", "AbortError")); // a number as code
    observe.error(source, logger, new Error());
    observe.closed(logger, "gone");
    expect(lines).toEqual([
      "error: failed: ECONNREFUSED: refused",
      "error: failed: TypeError: x is undefined",
      "error: failed: AbortError: stopped",
      "error: failed: Error",
      "debug: client closed after gone",
    ]);
  });

  it("goes on when the logger throws: the client connects, echoes and closes; the error is rethrown apart", async () => {
    const server = await wsServer();
    const r = await runChild(
      `
let uncaught = 0;
process.on("uncaughtException", (err) => {
  if (err.message === "logger bug") uncaught++;
  else throw err;
});
const fail = () => { throw new Error("logger bug"); };
const logger = { debug: fail, info: fail, warn: fail, error: fail };
const c = new CLIENT.WebSocketClient(ARGS[0], { logger, heartbeat: false, reconnect: false });
await c.connect();
const echoed = new Promise((resolve) => c.once("message", resolve));
await c.send("hello");
console.log("echo", await echoed);
await c.close();
await new Promise((resolve) => setTimeout(resolve, 20));
console.log("closed", c.readyState, uncaught > 5);
`,
      [server.url],
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("echo hello\nclosed 3 true\n");
    expect(r.code).toBe(0);
  });

  it("logs nothing without a logger (the default)", async () => {
    const server = await wsServer();
    const calls: string[] = [];
    const spy = (name: string) => () => calls.push(name);
    const original = { debug: console.debug, info: console.info, warn: console.warn, error: console.error };
    Object.assign(console, {
      debug: spy("debug"),
      info: spy("info"),
      warn: spy("warn"),
      error: spy("error"),
    });
    try {
      const c = client(server.url);
      await c.connect();
      await c.ping();
      await c.close();
    } finally {
      Object.assign(console, original);
    }
    expect(calls).toEqual([]);
  });
});
