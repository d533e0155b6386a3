// Behaviour the lean client state must keep: the in-flight abort controller is made only while
// connecting and dropped once open, connect() promises are made on demand, the handshake key comes
// from a pooled block of random bytes, and the connection's pending-write set is made on first send.
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it } from "vitest";
import {
  AbortedError,
  type BinaryType,
  ReadyState,
  WebSocketClient,
  type WebSocketClientOptions,
} from "../src/index.js";
import { startWsServer, type WsTestServer } from "./helpers/servers.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function server(): Promise<WsTestServer> {
  const s = await startWsServer();
  cleanups.push(() => s.close());
  return s;
}

function client<B extends BinaryType = "uint8array">(
  url: string,
  o: WebSocketClientOptions<B> = {},
): WebSocketClient<B> {
  const c = new WebSocketClient(url, { heartbeat: false, reconnect: false, ...o });
  cleanups.push(() => c.terminate());
  return c;
}

describe("lean client state", () => {
  it("gives every connection a distinct, well-formed handshake key", async () => {
    const s = await server();
    const keys: string[] = [];
    for (let i = 0; i < 20; i++) {
      const c = client(s.url);
      await c.connect();
      await c.close();
    }
    for (const req of s.requests) keys.push(String(req.headers["sec-websocket-key"]));
    expect(keys).toHaveLength(20);
    expect(new Set(keys).size).toBe(20);
    for (const key of keys) expect(Buffer.from(key, "base64")).toHaveLength(16);
  });

  it("closes right after connect() resolves, and connects again after that", async () => {
    const s = await server();
    const c = client(s.url);
    await c.connect();
    await c.close(); // the in-flight controller is gone: nothing to abort, the close handshake runs
    expect(c.readyState).toBe(ReadyState.CLOSED);
    await c.connect(); // a restart gets a fresh stop flag
    const echoed = new Promise((resolve) => c.once("message", resolve));
    await c.send("again");
    expect(await echoed).toBe("again");
    await c.close();
  });

  it("rejects every pending connect() with an AbortedError when closed while connecting", async () => {
    const s = await server();
    const c = client(s.url);
    const first = c.connect();
    const second = c.connect();
    expect(second).toBe(first); // one promise per connecting phase, shared
    const closed = c.close();
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    await closed;
  });

  it("cuts a reconnect wait with close(): the wait's signal is the lazily made one", async () => {
    const s = await server();
    const c = client(s.url, { reconnect: { minTimeout: 5_000, maxTimeout: 5_000 } });
    await c.connect();
    c.reconnect(5_000); // a forced reconnect that would wait 5 s
    const t0 = Date.now();
    await c.close();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(c.readyState).toBe(ReadyState.CLOSED);
  });

  it("resolves sends made before and after the first one on an idle connection", async () => {
    const s = await server();
    const c = client(s.url);
    await c.connect();
    const got: unknown[] = [];
    c.on("message", (m) => got.push(m));
    await Promise.all([c.send("a"), c.send("b")]);
    await c.send("c");
    await new Promise<void>((resolve) => {
      const check = () => (got.length === 3 ? resolve() : setTimeout(check, 5));
      check();
    });
    expect(got).toEqual(["a", "b", "c"]);
  });
});
