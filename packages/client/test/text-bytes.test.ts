// Text as bytes (text-bytes.ts, the textAs option): validated UTF-8, not decoded, told from binary.
import { Buffer } from "node:buffer";
import { ErrorCodes, ProtocolError } from "@tideway/core";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type Message, TextBytes, WebSocketClient } from "../src/index.js";
import { textBytes } from "../src/text-bytes.js";
import { nextEvent, onCleanup, rawServer, take, useCleanups, wsServer } from "./helpers/harness.js";
import { onUpgradeRequest, serverFrame, switchingProtocols } from "./helpers/servers.js";

useCleanups();

function bytesClient(url: string, o: { perMessageDeflate?: boolean } = {}) {
  const c = new WebSocketClient(url, { textAs: "bytes", heartbeat: false, reconnect: false, ...o });
  onCleanup(() => c.terminate());
  return c;
}

describe("TextBytes", () => {
  it("is a view of the same bytes that says it is text", () => {
    const data = Uint8Array.of(0, 104, 105, 0);
    const text = textBytes(data.subarray(1, 3));
    expect(text).toBeInstanceOf(TextBytes);
    expect(text).toBeInstanceOf(Uint8Array);
    expect(text.isText).toBe(true);
    data[1] = 72;
    expect(Buffer.from(text).toString()).toBe("Hi");
  });
});

describe('textAs: "bytes"', () => {
  it("delivers text as its UTF-8 bytes (whole, fragmented, compressed) and binary as binary", async () => {
    const server = await wsServer({ echo: false, perMessageDeflate: { threshold: 0 } });
    const c = bytesClient(server.url);
    expectTypeOf(c).toEqualTypeOf<WebSocketClient<"uint8array", "bytes">>();
    expectTypeOf<Message<"uint8array", "bytes">>().toEqualTypeOf<TextBytes | Uint8Array>();
    await c.connect();
    const ws = server.clients[0]!;
    const it = c[Symbol.asyncIterator]();
    ws.send("héllo", { compress: false });
    ws.send("compressed ✓".repeat(20), { compress: true });
    ws.send("frag", { fin: false, compress: false });
    ws.send("ment", { fin: true, compress: false });
    ws.send(Buffer.from("binary"), { binary: true });
    const got = await take(it, 4);
    const described = got.map((m) => {
      const kind = m instanceof TextBytes ? "text" : "binary";
      return `${kind}:${Buffer.from(m).toString()}`;
    });
    expect(described).toEqual([
      "text:héllo",
      `text:${"compressed ✓".repeat(20)}`,
      "text:fragment",
      "binary:binary",
    ]);
    expect(got[0]).toEqual(new TextBytes(Buffer.from("héllo")));
  });

  it("relays text as text: the bytes sent back with binary: false arrive as the same text", async () => {
    const server = await wsServer({ echo: false });
    const c = bytesClient(server.url);
    c.on("message", (m) => {
      if (m instanceof TextBytes) void c.send(m, { binary: false });
    });
    await c.connect();
    const ws = server.clients[0]!;
    const back = new Promise<[Buffer, boolean]>((resolve) =>
      ws.once("message", (data, isBinary) => resolve([data as Buffer, isBinary])),
    );
    ws.send("relayed ✓");
    const [data, isBinary] = await back;
    expect(isBinary).toBe(false);
    expect(data.toString()).toBe("relayed ✓");
  });

  it("still fails the connection with 1007 on invalid UTF-8", async () => {
    const server = await rawServer((socket) => {
      onUpgradeRequest(socket, (key) => {
        socket.write(switchingProtocols(key));
        setTimeout(() => socket.write(serverFrame(0x1, Uint8Array.of(0xc3, 0x28))), 20);
        socket.on("data", () => socket.end());
      });
    });
    const c = bytesClient(server.url, { perMessageDeflate: false });
    const messages: unknown[] = [];
    c.on("message", (m) => messages.push(m));
    const errors: unknown[] = [];
    c.on("error", (e) => errors.push(e));
    const closed = nextEvent(c as unknown as WebSocketClient, "close");
    await c.connect();
    const info = await closed;
    expect(messages).toEqual([]);
    expect(info.sent?.code).toBe(1007);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect((errors[0] as ProtocolError).code).toBe(ErrorCodes.InvalidUtf8);
  });

  it('is refused unless "string" or "bytes"', () => {
    expect(() => new WebSocketClient("ws://h/", { textAs: "buffer" as "bytes" })).toThrow(/textAs must be/);
  });
});
