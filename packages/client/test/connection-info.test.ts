// Connection metadata (connection-info.ts): ids per attempt, socket addresses, the last close.
import { describe, expect, it } from "vitest";
import { connectionInfo, nextAttempt, socketAddresses } from "../src/connection-info.js";
import type { CloseInfo, ConnectionInfo } from "../src/index.js";
import { client, nextEvent, useCleanups, wsServer } from "./helpers/harness.js";

useCleanups();

describe("ids and addresses", () => {
  it("gives every attempt a new id: a per-process prefix and a counter", () => {
    const a = nextAttempt();
    const b = nextAttempt();
    expect(b).toBe(a + 1);
    const id = (attempt: number) => connectionInfo(attempt, undefined).id;
    expect(id(a)).toBe(`${id(a).split("-")[0]}-${a}`);
    expect(id(a)).toMatch(/^[0-9a-f]{6}-\d+$/);
    expect(id(a).split("-")[0]).toBe(id(b).split("-")[0]);
    expect(id(a)).not.toBe(id(b));
  });

  it("reads the addresses of a socket, and none of a stream without them", () => {
    const socket = { remoteAddress: "::1", remotePort: 80, localAddress: "::1", localPort: 5000 };
    expect(socketAddresses(socket)).toEqual(socket);
    expect(connectionInfo(7, socketAddresses({}))).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{6}-7$/),
      remoteAddress: undefined,
      remotePort: undefined,
      localAddress: undefined,
      localPort: undefined,
    });
  });
});

describe("client.connectionInfo and client.lastClose", () => {
  it("report the connection's id and addresses, and the last close while reconnecting and after", async () => {
    const server = await wsServer();
    const c = client(server.url, { reconnect: { minTimeout: 50, maxTimeout: 50 } });
    expect(c.connectionInfo).toBeUndefined();
    expect(c.lastClose).toBeUndefined();
    await c.connect();
    const first = c.connectionInfo as ConnectionInfo;
    const serverSocket = server.requests[0]!.socket;
    expect(first).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{6}-\d+$/),
      remoteAddress: "127.0.0.1",
      remotePort: server.port,
      localAddress: "127.0.0.1",
      localPort: serverSocket.remotePort,
    });
    // The server restarts: 1012 is retried.
    const seen: { inClose?: ConnectionInfo | undefined; waiting?: ConnectionInfo | undefined } = {};
    let lastCloseWhileWaiting: CloseInfo | undefined;
    c.once("close", () => {
      seen.inClose = c.connectionInfo;
    });
    c.once("reconnecting", () => {
      seen.waiting = c.connectionInfo;
      lastCloseWhileWaiting = c.lastClose;
    });
    const reopened = nextEvent(c, "open");
    server.clients[0]!.close(1012, "restart");
    await reopened;
    expect(seen.inClose).toEqual(first);
    expect(seen.waiting).toBeUndefined();
    expect(lastCloseWhileWaiting).toMatchObject({ code: 1012, reason: "restart", wasClean: true });
    const second = c.connectionInfo as ConnectionInfo;
    expect(second.id).not.toBe(first.id);
    expect(second.localPort).toBe(server.requests[1]!.socket.remotePort);
    expect(c.lastClose?.code).toBe(1012);
    await c.close(4000, "done");
    expect(c.connectionInfo).toBeUndefined();
    expect(c.lastClose).toMatchObject({ code: 4000, reason: "done", initiatedByUser: true });
  });
});
