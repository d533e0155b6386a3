import { Buffer } from "node:buffer";
import dc from "node:diagnostics_channel";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type ChannelMessages,
  DIAGNOSTICS_CHANNELS,
  UnexpectedResponseError,
  type WebSocketClient,
} from "../src/index.js";
import { REDACTED } from "../src/redact.js";
import { client, nextEvent, rawServer, useCleanups, within, wsServer } from "./helpers/harness.js";
import { onUpgradeRequest, waitFor } from "./helpers/servers.js";

useCleanups();

type Name = keyof ChannelMessages;
type Published = { [K in Name]: { name: K; message: ChannelMessages[K] } }[Name];

/** Subscribes to every channel and records what is published about `c`, until the test ends. */
function recordChannels(c: () => WebSocketClient | undefined): Published[] {
  const seen: Published[] = [];
  for (const [name, full] of Object.entries(DIAGNOSTICS_CHANNELS) as [Name, string][]) {
    const listener = (message: unknown) => {
      if ((message as { client: object }).client === c()) seen.push({ name, message } as Published);
    };
    dc.subscribe(full, listener);
    unsubscribes.push(() => dc.unsubscribe(full, listener));
  }
  return seen;
}
const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const fn of unsubscribes.splice(0)) fn();
});

function messagesOf<K extends Name>(seen: Published[], name: K): ChannelMessages[K][] {
  return seen.filter((p) => p.name === name).map((p) => p.message as ChannelMessages[K]);
}

const SECRET = "s3cr3t";

describe("the diagnostics channels", () => {
  it("are named tideway:client:*", () => {
    expect(Object.values(DIAGNOSTICS_CHANNELS).sort()).toEqual([
      "tideway:client:close",
      "tideway:client:error",
      "tideway:client:open",
      "tideway:client:ping",
      "tideway:client:pong",
      "tideway:client:reconnecting",
      "tideway:client:upgrade-request",
      "tideway:client:upgrade-response",
    ]);
  });

  it("publish the upgrade request and response, open, ping, pong and close of a connection, credentials redacted", async () => {
    const server = await wsServer();
    server.wss.on("headers", (headers) => headers.push(`Set-Cookie: sid=${SECRET}; HttpOnly`));
    let c: WebSocketClient | undefined;
    const seen = recordChannels(() => c);
    const url = server.url.replace("ws://", `ws://user:${SECRET}@`);
    c = client(`${url}/room?x=1`, { headers: { Cookie: `sid=${SECRET}`, "X-Trace": "t1" } });
    await c.connect();

    const [request] = messagesOf(seen, "upgrade-request");
    expect(request).toMatchObject({ client: c, method: "GET", url: `${server.url}/room?x=1` });
    expect(request?.headers).toEqual(
      expect.arrayContaining([
        ["Authorization", REDACTED],
        ["Cookie", REDACTED],
        ["X-Trace", "t1"],
        ["Host", `127.0.0.1:${server.port}`],
      ]),
    );
    // What the server received did carry the credentials: only the diagnostics hide them.
    expect(server.requests[0]?.headers.cookie).toBe(`sid=${SECRET}`);

    const [response] = messagesOf(seen, "upgrade-response");
    expect(response).toMatchObject({ client: c, status: 101, url: `${server.url}/room?x=1` });
    expect(response?.headers).toContainEqual(["Set-Cookie", REDACTED]);
    expect(response?.headers.map(([name]) => name.toLowerCase())).toContain("sec-websocket-accept");

    expect(messagesOf(seen, "open")).toEqual([
      { client: c, url: `${server.url}/room?x=1`, protocol: "", extensions: expect.any(String) },
    ]);

    const peer = server.clients[0]!;
    const pinged = nextEvent(c, "ping");
    peer.ping(Buffer.from("hi"));
    await within(pinged, 2000, "the server's ping");
    expect(messagesOf(seen, "ping").map((m) => Buffer.from(m.data).toString())).toEqual(["hi"]);

    await c.ping();
    expect(messagesOf(seen, "pong")).toHaveLength(1);

    await c.close(1000, "bye");
    await waitFor(() => messagesOf(seen, "close").length === 1, 2000, "the close message");
    expect(messagesOf(seen, "close")[0]?.info).toMatchObject({ code: 1000, wasClean: true });

    expect(seen.map((p) => p.name)).toEqual([
      "upgrade-request",
      "upgrade-response",
      "open",
      "ping",
      "pong",
      "close",
    ]);
    const everything = JSON.stringify(seen, (_key, value) => (value === c ? "client" : value));
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(Buffer.from(`user:${SECRET}`).toString("base64"));
  });

  it("publish a refused upgrade's response, the error and the reconnecting wait", async () => {
    const server = await rawServer((socket) =>
      onUpgradeRequest(socket, () =>
        socket.end("HTTP/1.1 503 Service Unavailable\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n"),
      ),
    );
    let c: WebSocketClient | undefined;
    const seen = recordChannels(() => c);
    c = client(server.url, { reconnect: { initialRetries: 1, minTimeout: 5, maxTimeout: 10 } });
    c.on("error", () => {});
    await expect(c.connect()).rejects.toBeInstanceOf(UnexpectedResponseError);

    expect(seen.map((p) => p.name)).toEqual([
      "upgrade-request",
      "upgrade-response",
      "error",
      "reconnecting",
      "upgrade-request",
      "upgrade-response",
      "error",
    ]);
    const [response] = messagesOf(seen, "upgrade-response");
    expect(response).toMatchObject({ status: 503, statusText: "Service Unavailable" });
    expect(response?.headers).toContainEqual(["Set-Cookie", REDACTED]);
    const [error] = messagesOf(seen, "error");
    expect(error?.error).toBeInstanceOf(UnexpectedResponseError);
    const [wait] = messagesOf(seen, "reconnecting");
    expect(wait).toMatchObject({ client: c, attempt: 1, error: error?.error });
    expect(wait?.delay).toBeLessThanOrEqual(10);
  });

  it("publish an error for a connection that drops, then close and reconnecting", async () => {
    const server = await wsServer();
    let c: WebSocketClient | undefined;
    const seen = recordChannels(() => c);
    c = client(server.url);
    await c.connect();
    const reconnecting = nextEvent(c, "reconnecting");
    c.on("error", () => {});
    server.clients[0]!.terminate();
    await within(reconnecting, 2000, "the reconnecting event");
    expect(seen.map((p) => p.name).slice(3)).toEqual(["close", "error", "reconnecting"]);
    expect(messagesOf(seen, "close")[0]?.info).toMatchObject({ code: 1006, wasClean: false });
  });

  it("are not consulted per received message: a burst of 2000 checks them as often as one of 2", async () => {
    // A channel without subscribers is a plain Channel: its hasSubscribers getter is the one read.
    const reads = vi.spyOn(dc.Channel.prototype, "hasSubscribers", "get");
    try {
      const checksFor = async (count: number): Promise<number> => {
        const server = await wsServer({ echo: false });
        const c = client(server.url);
        await c.connect();
        const peer = server.clients[0]!;
        reads.mockClear();
        let received = 0;
        const all = new Promise<void>((resolve) =>
          c.on("message", () => {
            if (++received === count) resolve();
          }),
        );
        for (let i = 0; i < count; i++) peer.send(Buffer.from([i & 0xff]));
        await within(all, 5000, `${count} messages`);
        const checks = reads.mock.calls.length;
        await c.close();
        return checks;
      };
      expect(await checksFor(2000)).toBe(await checksFor(2));
    } finally {
      reads.mockRestore();
    }
  });

  it("publish nothing when no one subscribes", async () => {
    // A channel without subscribers is a plain Channel: its publish is the one that would run.
    const publish = vi.spyOn(dc.Channel.prototype, "publish");
    try {
      dc.channel(DIAGNOSTICS_CHANNELS.open).publish({});
      expect(publish).toHaveBeenCalledTimes(1); // the spy sees a publish on a channel nobody reads
      publish.mockClear();

      const server = await wsServer();
      const c = client(server.url, { headers: { Authorization: "Bearer x" } });
      c.on("error", () => {});
      await c.connect();
      const pinged = nextEvent(c, "ping");
      server.clients[0]!.ping();
      await within(pinged, 2000, "the server's ping");
      await c.ping();
      const reconnecting = nextEvent(c, "reconnecting");
      server.clients[0]!.terminate();
      await within(reconnecting, 2000, "the reconnecting event");
      await c.close();

      const ours = publish.mock.contexts.filter((channel) =>
        String((channel as { name: unknown }).name).startsWith("tideway:"),
      );
      expect(ours).toEqual([]);
    } finally {
      publish.mockRestore();
    }
  });
});
