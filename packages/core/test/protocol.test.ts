import { describe, expect, it } from "vitest";
import { CloseCode, Opcode } from "../src/constants.js";
import { ErrorCodes, InvalidStateError, ProtocolError, UnexpectedResponseError } from "../src/errors.js";
import { END_OF_STREAM, type Outgoing, type WsEvent } from "../src/events.js";
import { encodeFrame } from "../src/frame.js";
import { State } from "../src/protocol.js";
import { ClientProtocol } from "../src/protocol-client.js";
import { type ServerEvent, ServerProtocol } from "../src/protocol-server.js";

const text = new TextEncoder();
const bytes = (s: string) => text.encode(s);

/** A deterministic random source, so handshake keys and masks are reproducible. */
function counterFill(): (b: Uint8Array) => void {
  let n = 1;
  return (b) => {
    for (let i = 0; i < b.length; i++) b[i] = n++ & 0xff;
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits outgoing items into the bytes written and whether the stream was ended. */
function drain(out: Outgoing[]): { data: Uint8Array; eof: boolean } {
  const chunks: Uint8Array[] = [];
  let eof = false;
  for (const item of out) {
    if (item instanceof Uint8Array) {
      expect(eof, "no bytes after the end of stream").toBe(false);
      chunks.push(item);
    } else {
      expect(item).toBe(END_OF_STREAM);
      eof = true;
    }
  }
  return { data: concat(chunks), eof };
}

/** Feeds bytes whole, or one byte at a time. */
function feed(p: { receiveData(c: Uint8Array): void }, data: Uint8Array, byteByByte: boolean): void {
  if (!byteByByte) p.receiveData(data);
  else for (let i = 0; i < data.length; i++) p.receiveData(data.slice(i, i + 1));
}

/** A client and a server, with the handshake done. */
function openPair(byteByByte = false, maxPayload?: number) {
  const client = new ClientProtocol({
    url: "ws://example.test/chat?x=1",
    randomFill: counterFill(),
    maxPayload,
  });
  const server = new ServerProtocol();
  expect(client.state).toBe(State.Connecting);
  feed(server, drain(client.dataToSend()).data, byteByByte);
  const [request] = server.eventsReceived();
  expect(request?.type).toBe("request");
  server.accept();
  feed(client, drain(server.dataToSend()).data, byteByByte);
  const events = client.eventsReceived();
  expect(events.map((e) => e.type)).toEqual(["open"]);
  expect(client.state).toBe(State.Open);
  expect(server.state).toBe(State.Open);
  return { client, server };
}

/** Runs `client`'s opening handshake with a new server, which it returns. */
function shakeHands(client: ClientProtocol): ServerProtocol {
  const server = new ServerProtocol();
  feed(server, drain(client.dataToSend()).data, false);
  server.eventsReceived();
  server.accept();
  feed(client, drain(server.dataToSend()).data, false);
  client.eventsReceived();
  return server;
}

/** A client built with `options` (and a counting random source), with the handshake done. */
function openClient(options: Partial<ConstructorParameters<typeof ClientProtocol>[0]>) {
  const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill(), ...options });
  return { client, server: shakeHands(client) };
}

/** Moves what `from` wants to write into `to`, and returns what `to` reported. */
function pump<E extends WsEvent | ServerEvent>(
  from: ClientProtocol | ServerProtocol,
  to: { receiveData(c: Uint8Array): void; receiveEof(): void; eventsReceived(): E[] },
  byteByByte = false,
): E[] {
  const { data, eof } = drain(from.dataToSend());
  feed(to, data, byteByByte);
  if (eof) to.receiveEof();
  return to.eventsReceived();
}

describe.each([false, true])("ClientProtocol and ServerProtocol (byte by byte: %s)", (byteByByte) => {
  it("opens, then carries text and binary both ways", () => {
    const { client, server } = openPair(byteByByte);
    client.sendText("héllo 🌊");
    client.sendBinary(new Uint8Array([0, 1, 2, 255]));
    expect(pump(client, server, byteByByte)).toEqual([
      { type: "text", data: "héllo 🌊" },
      { type: "binary", data: new Uint8Array([0, 1, 2, 255]) },
    ]);
    server.sendText("ok");
    server.sendBinary(new Uint8Array(70_000).fill(7));
    const events = pump(server, client, byteByByte);
    expect(events[0]).toEqual({ type: "text", data: "ok" });
    expect(events[1]?.type).toBe("binary");
    expect((events[1] as { data: Uint8Array }).data).toEqual(new Uint8Array(70_000).fill(7));
  });

  it("sends a message in fragments and rejects fragments out of order", () => {
    const { client, server } = openPair(byteByByte);
    expect(() => client.sendContinuation(bytes("x"), true)).toThrow(InvalidStateError);
    client.sendText("Hel", false);
    expect(() => client.sendText("again")).toThrow(InvalidStateError);
    expect(() => client.sendBinary(bytes("again"))).toThrow(InvalidStateError);
    client.sendPing(bytes("mid"));
    client.sendContinuation(bytes("lo"), true);
    expect(pump(client, server, byteByByte)).toEqual([
      { type: "ping", data: bytes("mid") },
      { type: "text", data: "Hello" },
    ]);
  });

  it("answers a ping with a pong carrying the same payload", () => {
    const { client, server } = openPair(byteByByte);
    server.sendPing(bytes("are you there"));
    expect(pump(server, client, byteByByte)).toEqual([{ type: "ping", data: bytes("are you there") }]);
    expect(pump(client, server, byteByByte)).toEqual([{ type: "pong", data: bytes("are you there") }]);
  });

  it("answers a ping and stops at a close frame that follow data messages in the same chunk", () => {
    // The protocol reacts only when the reader parsed a control frame: this would fail if it missed one
    // behind data messages, or looked only at the first event.
    const { client, server } = openPair(byteByByte);
    for (let i = 0; i < 3; i++) server.sendBinary(Uint8Array.of(i));
    server.sendPing(bytes("p"));
    server.sendText("after ping");
    server.sendClose(CloseCode.Normal, "bye");
    // A frame after the close frame, in the same chunk: the client must drop it (RFC 6455 5.5.1).
    const wire = concat([drain(server.dataToSend()).data, encodeFrame(Opcode.Text, bytes("after close"))]);
    feed(client, wire, byteByByte);
    const events = client.eventsReceived();
    expect(events.map((e) => e.type)).toEqual(["binary", "binary", "binary", "ping", "text", "close"]);
    const answer = pump(client, server, byteByByte);
    expect(answer.map((e) => e.type)).toEqual(["pong", "close"]);
  });

  it("runs a client-initiated close handshake to CLOSED", () => {
    const { client, server } = openPair(byteByByte);
    client.sendClose(1000, "bye");
    expect(client.state).toBe(State.Closing);
    expect(client.closeSent).toEqual({ code: 1000, reason: "bye" });
    expect(() => client.sendText("late")).toThrow(InvalidStateError);
    // The server echoes the code and, as a server must, ends the TCP connection.
    expect(pump(client, server, byteByByte)).toEqual([{ type: "close", code: 1000, reason: "bye" }]);
    const fromServer = server.dataToSend();
    expect(fromServer.at(-1)).toBe(END_OF_STREAM);
    feed(client, drain(fromServer).data, byteByByte);
    expect(client.eventsReceived()).toEqual([{ type: "close", code: 1000, reason: "" }]);
    expect(client.closeReceived).toEqual({ code: 1000, reason: "" });
    expect(client.closeExpected()).toBe(true);
    client.receiveEof();
    expect(client.state).toBe(State.Closed);
    expect(client.dataToSend()).toEqual([END_OF_STREAM]);
  });

  it("echoes a server-initiated close and waits for the server to end TCP", () => {
    const { client, server } = openPair(byteByByte);
    server.sendClose(4001, "go away");
    expect(pump(server, client, byteByByte)).toEqual([{ type: "close", code: 4001, reason: "go away" }]);
    expect(client.state).toBe(State.Closing);
    expect(client.closeExpected()).toBe(true);
    const echo = drain(client.dataToSend());
    expect(echo.eof).toBe(false); // the client leaves closing TCP to the server (RFC 6455 7.1.1)
    feed(server, echo.data, byteByByte);
    expect(server.eventsReceived()).toEqual([{ type: "close", code: 4001, reason: "" }]);
    expect(server.dataToSend()).toEqual([END_OF_STREAM]);
  });

  it("echoes a close without a body without a body (1005 never goes on the wire)", () => {
    const { client, server } = openPair(byteByByte);
    server.sendClose();
    expect(pump(server, client, byteByByte)).toEqual([{ type: "close", code: 1005, reason: "" }]);
    const echo = drain(client.dataToSend()).data;
    expect(echo.length).toBe(6); // 2-byte header + 4-byte mask, no body
  });
});

describe("the handshake inside the protocol", () => {
  it("delivers a frame that arrives in the same chunk as the 101 response", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    const server = new ServerProtocol();
    server.receiveData(drain(client.dataToSend()).data);
    server.eventsReceived();
    server.accept();
    server.sendText("first");
    client.receiveData(drain(server.dataToSend()).data);
    expect(client.eventsReceived()).toEqual([
      expect.objectContaining({ type: "open" }),
      { type: "text", data: "first" },
    ]);
  });

  it("shows the upgrade request it queued until the handshake settles", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    const request = client.upgradeRequest;
    expect(request).toEqual(drain(client.dataToSend()).data);
    expect(new TextDecoder().decode(request)).toMatch(/^GET \/ HTTP\/1\.1\r\nHost: example\.test\r\n/);
    client.receiveData(bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
    expect(client.upgradeRequest).toBeUndefined();
  });

  it("reports a non-101 answer as an error event with the status, then ends the stream", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    client.dataToSend();
    client.receiveData(bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"));
    const [event] = client.eventsReceived();
    expect(event?.type).toBe("error");
    const error = (event as unknown as { error: UnexpectedResponseError }).error;
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(error.status).toBe(404);
    expect(new TextDecoder().decode(error.body)).toBe("nope");
    expect(client.state).toBe(State.Closed);
    expect(client.failure).toBe(error);
    expect(client.dataToSend()).toEqual([END_OF_STREAM]);
    expect(() => client.sendText("x")).toThrow(InvalidStateError);
  });

  it("reports an end of stream during the handshake as a handshake error", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    client.dataToSend();
    client.receiveData(bytes("HTTP/1.1 101 Switching"));
    client.receiveEof();
    const [event] = client.eventsReceived();
    expect(event?.type).toBe("error");
    expect(client.state).toBe(State.Closed);
  });

  it("lets a server reject the request with a status", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    const server = new ServerProtocol();
    server.receiveData(drain(client.dataToSend()).data);
    expect(server.eventsReceived()[0]?.type).toBe("request");
    server.reject(403, { body: "forbidden" });
    expect(server.state).toBe(State.Closed);
    const out = drain(server.dataToSend());
    expect(out.eof).toBe(true);
    client.receiveData(out.data);
    client.receiveEof();
    const [event] = client.eventsReceived();
    expect((event as unknown as { error: UnexpectedResponseError }).error.status).toBe(403);
  });

  it("answers a request that is not a WebSocket upgrade with 400 and ends the stream", () => {
    const server = new ServerProtocol();
    server.receiveData(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(server.eventsReceived()[0]?.type).toBe("error");
    const out = drain(server.dataToSend());
    expect(new TextDecoder().decode(out.data)).toMatch(/^HTTP\/1\.1 400 /);
    expect(out.eof).toBe(true);
  });

  it("keeps frames a client pipelined after its request until accept()", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    const server = new ServerProtocol();
    const request = drain(client.dataToSend()).data;
    const frame = encodeFrame(Opcode.Text, bytes("early"), { maskKey: new Uint8Array([1, 2, 3, 4]) });
    server.receiveData(concat([request, frame.subarray(0, 3)]));
    server.receiveData(frame.subarray(3));
    expect(server.eventsReceived().map((e) => e.type)).toEqual(["request"]);
    server.accept({ protocol: "" });
    expect(server.eventsReceived()).toEqual([{ type: "text", data: "early" }]);
  });
});

describe("failing the connection", () => {
  /** Feeds raw server bytes to an open client and returns its events and what it sent back. */
  function afterServerBytes(raw: Uint8Array) {
    const { client, server } = openPair();
    client.receiveData(raw);
    const events = client.eventsReceived();
    const reply = drain(client.dataToSend());
    server.receiveData(reply.data);
    return { client, events, serverSaw: server.eventsReceived() };
  }

  it.each([
    ["a reserved opcode", new Uint8Array([0x83, 0x00]), ErrorCodes.InvalidOpcode, 1002],
    ["RSV2 without an extension", new Uint8Array([0xa1, 0x00]), ErrorCodes.UnexpectedRsvBits, 1002],
    [
      "a masked server frame",
      encodeFrame(Opcode.Text, bytes("x"), { maskKey: new Uint8Array(4) }),
      ErrorCodes.MaskedFrame,
      1002,
    ],
    ["invalid UTF-8", encodeFrame(Opcode.Text, new Uint8Array([0xc0, 0x80])), ErrorCodes.InvalidUtf8, 1007],
    [
      "a 1-byte close body",
      encodeFrame(Opcode.Close, new Uint8Array([3])),
      ErrorCodes.InvalidClosePayload,
      1002,
    ],
  ])("on %s: error event, close frame with the code, nothing more parsed", (_name, raw, code, closeCode) => {
    const { client, events, serverSaw } = afterServerBytes(
      concat([raw, encodeFrame(Opcode.Text, bytes("after"))]),
    );
    expect(events).toHaveLength(1);
    const error = (events[0] as { error: ProtocolError }).error;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe(code);
    expect(error.closeCode).toBe(closeCode);
    expect(client.failure).toBe(error);
    expect(client.closeSent?.code).toBe(closeCode);
    expect(serverSaw[0]).toMatchObject({ type: "close", code: closeCode });
    expect(client.state).toBe(State.Closing);
    expect(client.closeExpected()).toBe(true);
    // "An endpoint MUST NOT continue to attempt to process data ... after being instructed to _Fail_".
    client.receiveData(encodeFrame(Opcode.Text, bytes("ignored")));
    expect(client.eventsReceived()).toEqual([]);
  });

  it("fails with 1009 on a message over maxPayload, from the header alone", () => {
    // 2^40-byte frame header: no payload ever arrives, the limit still trips.
    const { client } = openPair();
    client.receiveData(new Uint8Array([0x82, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0]));
    const [event] = client.eventsReceived();
    expect((event as { error: ProtocolError }).error.closeCode).toBe(CloseCode.MessageTooBig);
    // A configured limit counts the fragments of one message together.
    const small = openPair(false, 10).client;
    small.receiveData(encodeFrame(Opcode.Text, bytes("123456"), { fin: false }));
    small.receiveData(encodeFrame(Opcode.Continuation, bytes("7890")));
    expect(small.eventsReceived()).toEqual([{ type: "text", data: "1234567890" }]);
    small.receiveData(encodeFrame(Opcode.Text, bytes("123456"), { fin: false }));
    small.receiveData(encodeFrame(Opcode.Continuation, bytes("78901")).subarray(0, 2));
    const [tooBig] = small.eventsReceived();
    expect((tooBig as { error: ProtocolError }).error.code).toBe(ErrorCodes.PayloadTooBig);
  });

  it("keeps the events parsed before the error", () => {
    const { client } = openPair();
    client.receiveData(concat([encodeFrame(Opcode.Text, bytes("ok")), new Uint8Array([0x8f, 0])]));
    expect(client.eventsReceived().map((e) => e.type)).toEqual(["text", "error"]);
  });

  it("discards what follows the peer's close frame", () => {
    const { client } = openPair();
    client.receiveData(
      concat([encodeFrame(Opcode.Close, new Uint8Array([3, 232])), encodeFrame(Opcode.Text, bytes("late"))]),
    );
    expect(client.eventsReceived()).toEqual([{ type: "close", code: 1000, reason: "" }]);
  });

  it("a server fails at once on an unmasked client frame and ends TCP", () => {
    const { server } = openPair();
    server.receiveData(encodeFrame(Opcode.Text, bytes("x")));
    const [event] = server.eventsReceived();
    expect((event as { error: ProtocolError }).error.code).toBe(ErrorCodes.UnmaskedFrame);
    expect(server.dataToSend().at(-1)).toBe(END_OF_STREAM);
  });

  it("fail() sends the code and a client keeps waiting for the server's TCP close", () => {
    const { client, server } = openPair();
    client.fail(1011, "x".repeat(300));
    expect(client.closeSent?.code).toBe(1011);
    const out = drain(client.dataToSend());
    expect(out.eof).toBe(false);
    server.receiveData(out.data);
    expect(server.eventsReceived()[0]).toMatchObject({ type: "close", code: 1011 });
  });

  it("an end of stream without a close frame is abnormal: CLOSED, no close received", () => {
    const { client } = openPair();
    client.receiveEof();
    expect(client.state).toBe(State.Closed);
    expect(client.closeReceived).toBeUndefined();
    expect(client.dataToSend()).toEqual([END_OF_STREAM]);
    client.receiveEof();
    expect(client.dataToSend()).toEqual([]);
  });
});

describe("the close reason sent", () => {
  /** What the peer reads from the close frame `client` queued. */
  function reasonReceived(client: ClientProtocol, server: ServerProtocol): string {
    feed(server, drain(client.dataToSend()).data, false);
    const close = server.eventsReceived().find((e) => e.type === "close");
    expect(close?.type).toBe("close");
    return (close as { reason: string }).reason;
  }

  it("fail() cuts a long reason between code points, never inside a surrogate pair, and records it as sent", () => {
    for (const [reason, sent] of [
      ["😀".repeat(40) + "z", "😀".repeat(30)], // 4-byte code points: 30 fit in 123 bytes
      ["x".repeat(200), "x".repeat(123)],
      ["é".repeat(70), "é".repeat(61)],
      ["ab" + "😀".repeat(40), "ab" + "😀".repeat(30)], // 2 + 120 bytes; one more would be 126
      ["short", "short"],
    ] as const) {
      const { client, server } = openPair();
      client.fail(CloseCode.PolicyViolation, reason);
      expect(client.closeSent).toEqual({ code: CloseCode.PolicyViolation, reason: sent });
      expect(reasonReceived(client, server)).toBe(sent);
    }
  });

  it("records a lone surrogate as the U+FFFD the frame carries, for fail() and sendClose()", () => {
    const { client, server } = openPair();
    client.sendClose(CloseCode.Normal, "bad \ud800 pair");
    expect(client.closeSent).toEqual({ code: CloseCode.Normal, reason: "bad \ufffd pair" });
    expect(reasonReceived(client, server)).toBe("bad \ufffd pair");
    const second = openPair();
    second.client.fail(CloseCode.PolicyViolation, "\udc00".repeat(50));
    expect(second.client.closeSent?.reason).toBe("\ufffd".repeat(41)); // 3 bytes each
    expect(reasonReceived(second.client, second.server)).toBe("\ufffd".repeat(41));
  });
});

describe("local misuse", () => {
  it("rejects control payloads over 125 bytes and bad close codes", () => {
    const { client } = openPair();
    expect(() => client.sendPing(new Uint8Array(126))).toThrow(RangeError);
    expect(() => client.sendPong(new Uint8Array(126))).toThrow(RangeError);
    expect(() => client.sendClose(1005)).toThrow(RangeError);
    expect(() => client.sendClose(1000, "x".repeat(124))).toThrow(RangeError);
    client.sendPing(new Uint8Array(125));
    client.sendClose(undefined, "reason only");
    expect(client.closeSent).toEqual({ code: 1000, reason: "reason only" });
  });

  it("refuses to send before the handshake", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    expect(() => client.sendText("x")).toThrow(InvalidStateError);
    expect(() => client.sendClose()).toThrow(InvalidStateError);
  });

  it("rejects a negative maxPayload at construction", () => {
    expect(() => new ClientProtocol({ url: "ws://example.test/", maxPayload: -1 })).toThrow(TypeError);
  });

  it("accept() and reject() need a request", () => {
    const server = new ServerProtocol();
    expect(() => server.accept()).toThrow(InvalidStateError);
    expect(() => server.reject(400)).toThrow(InvalidStateError);
  });
});

describe("Protocol output: small frames share one block", () => {
  const payloads = [0, 1, 125, 126, 1024, 16 * 1024 - 8, 16 * 1024 - 7, 70_000].map((n) =>
    Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff),
  );

  it("hands out the small frames queued between two dataToSend calls as one view", () => {
    const { client, server } = openPair();
    client.sendBinary(bytes("a"));
    client.sendText("bc");
    client.sendPing(bytes("p"));
    const out = client.dataToSend();
    expect(out).toHaveLength(1);
    feed(server, drain(out).data, false);
    expect(server.eventsReceived()).toEqual([
      { type: "binary", data: bytes("a") },
      { type: "text", data: "bc" },
      { type: "ping", data: bytes("p") },
    ]);
    expect(client.dataToSend()).toEqual([]);
  });

  it("keeps the order around frames too big for the block, read whole or at every split point", () => {
    const { client } = openPair();
    for (const p of payloads) client.sendBinary(p);
    const out = client.dataToSend();
    // The first four share the first 1 KiB block, the 1 KiB frame takes the next (2 KiB); 16 KiB - 8
    // (8 header bytes) fills a new one exactly; the next two are too big for any block: each leaves
    // as its header (in a new block) and its payload.
    expect(out.map((o) => (o as Uint8Array).length)).toEqual([
      6 + 7 + 131 + 134,
      1032,
      16 * 1024,
      8,
      16 * 1024 - 7,
      14,
      65_536, // payloads leave in pieces of at most 64 KiB
      70_000 - 65_536,
    ]);
    const wire = drain(out).data;
    for (const split of [0, 1, 7, 100, 1500, 20_000, wire.length - 1]) {
      const { server } = openPair();
      server.receiveData(wire.slice(0, split));
      server.receiveData(wire.slice(split));
      expect(server.eventsReceived()).toEqual(payloads.map((data) => ({ type: "binary", data })));
    }
  });

  it("writes a big payload in pieces of at most 64 KiB, each a whole buffer from allocateFrame", () => {
    const allocated: Uint8Array[] = [];
    const { client } = openClient({
      allocateFrame: (size) => {
        const buffer = new Uint8Array(size);
        allocated.push(buffer);
        return buffer;
      },
    });
    allocated.length = 0;
    // Odd sizes and an offset source, so pieces start at every alignment of the source.
    const big = Uint8Array.from({ length: 3 * 65_536 + 5 }, (_, i) => (i * 31 + 7) & 0xff);
    const source = new Uint8Array(big.length + 3);
    source.set(big, 3);
    client.sendText("before");
    client.sendBinary(source.subarray(3));
    client.sendBinary(big.subarray(1, 100_001));
    client.sendText("after");
    const out = client.dataToSend() as Uint8Array[];
    expect(out.map((o) => o.length)).toEqual([
      12 + 14, // "before" and the first header share the block
      65_536,
      65_536,
      65_536,
      5,
      14, // the second header, from the same block
      65_536,
      100_000 - 65_536,
      11, // "after", after it in the block
    ]);
    // Every payload piece is a buffer allocateFrame returned, handed out whole and once.
    const pieces = [1, 2, 3, 4, 6, 7].map((i) => out[i]!);
    for (const piece of pieces) expect(allocated.filter((a) => a === piece)).toHaveLength(1);
    const wire = drain(out).data;
    for (const split of [0, 13, 65_550, wire.length - 3]) {
      const { server: reader } = openPair();
      reader.receiveData(wire.slice(0, split));
      reader.receiveData(wire.slice(split));
      expect(reader.eventsReceived()).toEqual([
        { type: "text", data: "before" },
        { type: "binary", data: big },
        { type: "binary", data: big.subarray(1, 100_001) },
        { type: "text", data: "after" },
      ]);
    }
  });

  it("writes over its block again only after outputConsumed(), and never over frames not handed out", () => {
    const { client, server } = openPair();
    client.sendBinary(bytes("one"));
    const [first] = client.dataToSend() as Uint8Array[];
    const firstCopy = first!.slice();
    client.sendBinary(bytes("two"));
    client.outputConsumed(); // "two" is queued, not handed out: nothing may be reused yet
    const [second] = client.dataToSend() as Uint8Array[];
    const secondCopy = second!.slice(); // "written out" before declaring the output consumed
    expect(first).toEqual(firstCopy);
    expect(second!.byteOffset).toBe(first!.byteOffset + first!.length);
    client.outputConsumed();
    client.sendBinary(bytes("three"));
    const [third] = client.dataToSend() as Uint8Array[];
    expect(third!.buffer).toBe(first!.buffer);
    expect(third!.byteOffset).toBe(first!.byteOffset); // back at the start of the same block
    feed(server, concat([firstCopy, secondCopy, third!]), false);
    expect(server.eventsReceived()).toEqual(
      ["one", "two", "three"].map((t) => ({ type: "binary", data: bytes(t) })),
    );
  });

  it("keeps a small block for a connection that sends now and then, and grows it to 16 KiB for a steady sender", () => {
    const sizes: number[] = [];
    const { client } = openClient({
      allocateFrame: (n) => {
        sizes.push(n);
        return new Uint8Array(n);
      },
    });
    client.sendText("subscribe");
    client.dataToSend();
    expect(sizes).toEqual([1024]);
    for (let i = 0; i < 200; i++) client.sendBinary(new Uint8Array(500));
    client.dataToSend();
    expect(sizes.slice(0, 6)).toEqual([1024, 2048, 4096, 8192, 16_384, 16_384]);
    expect(Math.max(...sizes)).toBe(16_384);
  });

  it("never writes again into a view already handed out", () => {
    const { client, server } = openPair();
    client.sendBinary(bytes("first"));
    const [first] = client.dataToSend() as Uint8Array[];
    const copy = first!.slice();
    for (let i = 0; i < 40; i++) client.sendBinary(new Uint8Array(1000).fill(i));
    const rest = client.dataToSend();
    expect(first).toEqual(copy);
    expect(rest.length).toBeGreaterThan(1); // 40 KB of frames filled more than one block
    feed(server, concat([first!, drain(rest).data]), false);
    const events = server.eventsReceived();
    expect(events).toHaveLength(41);
    expect(events[40]).toEqual({ type: "binary", data: new Uint8Array(1000).fill(39) });
  });

  it("puts queued frames before the close frame and the end of stream, allocating through the option", () => {
    const sizes: number[] = [];
    const server = new ServerProtocol({
      allocate: (n) => {
        sizes.push(n);
        return new Uint8Array(n);
      },
    });
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    feed(server, drain(client.dataToSend()).data, false);
    server.eventsReceived();
    server.accept();
    feed(client, drain(server.dataToSend()).data, true);
    client.eventsReceived();
    server.sendText("bye");
    server.fail(CloseCode.PolicyViolation, "no");
    const out = server.dataToSend();
    // The text frame in the block, the close frame in a buffer of its own, then the end of stream.
    expect(out).toHaveLength(3);
    expect(out[2]).toBe(END_OF_STREAM);
    expect(sizes).toEqual([1024, 2 + 2 + 2]); // a first block of 1 KiB (see room())
    feed(client, drain(out).data, true);
    expect(client.eventsReceived()).toEqual([
      { type: "text", data: "bye" },
      { type: "close", code: CloseCode.PolicyViolation, reason: "no" },
    ]);
  });
});

describe("Protocol output: a connection that only closes", () => {
  it("allocates no block: the close frame gets a buffer of its own", () => {
    const sizes: number[] = [];
    const { client, server } = openClient({
      allocate: (n) => {
        sizes.push(n);
        return new Uint8Array(n);
      },
    });
    client.sendClose(CloseCode.Normal);
    const out = client.dataToSend();
    expect(sizes).toEqual([2 + 4 + 2]);
    feed(server, drain(out).data, true);
    expect(server.eventsReceived()).toEqual([{ type: "close", code: CloseCode.Normal, reason: "" }]);
  });
});

describe("Protocol sendText: strings encoded straight into the output", () => {
  const texts = [
    "",
    "hi",
    "a".repeat(41), // worst case 123 bytes: 2-byte length form either way
    "a".repeat(42), // worst case 126 bytes (4-byte form), 42 actual (2-byte form): the payload moves
    "é".repeat(100), // 200 bytes
    "a".repeat(125),
    "日本語".repeat(50),
    "😀 emoji",
    "lone \ud800 surrogate",
    "x".repeat(5458), // worst case 16374 + 8 header bytes + 2 spare: the largest that fits a block
    "x".repeat(5459), // 16377 + 8 does not: encoded then copied
    "y".repeat(30_000),
  ];
  const expected = (t: string) => new TextDecoder().decode(new TextEncoder().encode(t));

  it("sends each text as the server reads it, whole and at every split point of the output", () => {
    const { client } = openPair();
    for (const t of texts) client.sendText(t);
    const wire = drain(client.dataToSend()).data;
    const want = texts.map((t) => ({ type: "text", data: expected(t) }));
    const splits = [0, 1, 2, 9, 50, 200, 1000, 17_000, wire.length - 1];
    for (const split of splits) {
      const { server } = openPair();
      server.receiveData(wire.slice(0, split));
      server.receiveData(wire.slice(split));
      expect(server.eventsReceived()).toEqual(want);
    }
  });

  it("encodes fragments in place too, and a continuation follows them", () => {
    const { client, server } = openPair();
    client.sendText("frag", false);
    client.sendContinuation(bytes("ment"), true);
    feed(server, drain(client.dataToSend()).data, true);
    expect(server.eventsReceived()).toEqual([{ type: "text", data: "fragment" }]);
  });

  it("uses a custom encode (and no default encodeInto) or a custom encodeInto when given", () => {
    const encoded: string[] = [];
    const custom = new ClientProtocol({
      url: "ws://example.test/",
      randomFill: counterFill(),
      utf8: {
        encode: (t) => {
          encoded.push(t);
          return text.encode(t.toUpperCase());
        },
      },
    });
    const into: string[] = [];
    const customInto = new ClientProtocol({
      url: "ws://example.test/",
      randomFill: counterFill(),
      utf8: {
        encodeInto: (t, dst, offset) => {
          into.push(t);
          return text.encodeInto(t.toLowerCase(), dst.subarray(offset)).written;
        },
      },
    });
    for (const [client, sent, want] of [
      [custom, encoded, "ABC"],
      [customInto, into, "abc"],
    ] as const) {
      const server = shakeHands(client);
      client.sendText("aBc");
      feed(server, drain(client.dataToSend()).data, false);
      expect(server.eventsReceived()).toEqual([{ type: "text", data: want }]);
      expect(sent).toEqual(["aBc"]);
    }
  });
});

describe("receiveBuffer: reading a large payload in place", () => {
  function openPair() {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    const server = new ServerProtocol();
    server.receiveData(drain(client.dataToSend()).data);
    server.eventsReceived();
    server.accept();
    return { client, server, response: drain(server.dataToSend()).data };
  }

  it("offers nothing during the handshake, the rest of a big frame once open, nothing after a failure", () => {
    const { client, server, response } = openPair();
    expect(client.receiveBuffer()).toBeUndefined();
    const payload = new Uint8Array(100_000).map((_, i) => i % 251);
    server.sendBinary(payload);
    const frame = drain(server.dataToSend()).data;
    client.receiveData(concat([response, frame.subarray(0, 1000)]));
    const region = client.receiveBuffer()!;
    expect(region.length).toBe(frame.length - 1000); // exactly the rest of the payload
    region.set(frame.subarray(1000, 50_000));
    client.receiveData(region.subarray(0, 49_000));
    const rest = client.receiveBuffer()!;
    expect(rest.byteOffset).toBe(region.byteOffset + 49_000);
    rest.set(frame.subarray(50_000));
    client.receiveData(rest);
    const events = client.eventsReceived();
    expect(events.map((e) => e.type)).toEqual(["open", "binary"]);
    const data = (events[1] as { data: Uint8Array }).data;
    expect(data).toEqual(payload);
    expect(data.buffer).toBe(region.buffer);
    // Under 16 KiB still to come: not worth a read of its own.
    server.sendBinary(payload);
    client.receiveData(drain(server.dataToSend()).data.subarray(0, 90_000));
    expect(client.receiveBuffer()).toBeUndefined();
    client.fail(CloseCode.GoingAway);
    expect(client.receiveBuffer()).toBeUndefined();
  });
});

describe("receiving within limits: maxFragments and receiveData's limit", () => {
  it("fails with 1009 on a message in more frames than maxFragments", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", maxFragments: 3 });
    const server = new ServerProtocol();
    server.receiveData(drain(client.dataToSend()).data);
    server.eventsReceived();
    server.accept();
    client.receiveData(drain(server.dataToSend()).data);
    client.eventsReceived();
    const frame = (opcode: number, fin: boolean) => encodeFrame(opcode, bytes("ab"), { fin });
    client.receiveData(concat([frame(Opcode.Text, false), frame(0, false), frame(0, true)]));
    expect(client.eventsReceived()).toEqual([{ type: "text", data: "ababab" }]);
    client.receiveData(concat([frame(Opcode.Text, false), frame(0, false), frame(0, false), frame(0, true)]));
    const [event] = client.eventsReceived();
    expect((event as { error: ProtocolError }).error.code).toBe(ErrorCodes.TooManyFragments);
    expect(client.closeSent?.code).toBe(CloseCode.MessageTooBig);
  });

  it("rejects a maxFragments that is not a non-negative integer", () => {
    expect(() => new ClientProtocol({ url: "ws://example.test/", maxFragments: -1 })).toThrow(TypeError);
    expect(() => new ServerProtocol({ maxFragments: 1.5 })).toThrow(TypeError);
  });

  it("stops at the limit among frames that came with the 101, and goes on with an empty chunk", () => {
    const client = new ClientProtocol({ url: "ws://example.test/", randomFill: counterFill() });
    const server = new ServerProtocol();
    server.receiveData(drain(client.dataToSend()).data);
    server.eventsReceived();
    server.accept();
    for (const s of ["one", "two", "three"]) server.sendText(s);
    server.sendClose(1000);
    client.receiveData(drain(server.dataToSend()).data, 3);
    expect(client.eventsReceived().map((e) => e.type)).toEqual(["open", "text"]);
    expect(client.receiveStopped).toBe(true);
    client.receiveData(new Uint8Array(0), 3);
    expect(client.eventsReceived()).toEqual([{ type: "text", data: "two" }]);
    expect(client.receiveStopped).toBe(true);
    // A close frame right after the message that reached the limit is parsed with it: the echo is
    // queued and nothing is left.
    client.receiveData(new Uint8Array(0), 3);
    expect(client.eventsReceived().map((e) => e.type)).toEqual(["text", "close"]);
    expect(client.receiveStopped).toBe(false);
    expect(client.closeSent?.code).toBe(1000);
  });

  it("is not stopped after a failure, whatever was left unparsed", () => {
    const { client } = openPair();
    client.receiveData(concat([encodeFrame(Opcode.Text, bytes("ok")), Uint8Array.of(0x83, 0)]), 1);
    expect(client.receiveStopped).toBe(true);
    client.receiveData(new Uint8Array(0), 1);
    expect(client.eventsReceived().map((e) => e.type)).toEqual(["text", "error"]);
    expect(client.receiveStopped).toBe(false);
  });
});

describe("streamMessages: data messages as parts", () => {
  it("reports message-start, chunks and message-end, and fails a message over maxStreamedPayload with 1009", () => {
    const { client } = openClient({ streamMessages: true, maxStreamedPayload: 8, maxPayload: 4 });
    client.eventsReceived();
    client.receiveData(encodeFrame(Opcode.Text, new TextEncoder().encode("abcd"), { fin: false }));
    expect(client.eventsReceived()).toEqual([
      { type: "message-start", binary: false, compressed: false },
      { type: "message-chunk", data: "abcd" },
    ]);
    client.receiveData(encodeFrame(Opcode.Continuation, new TextEncoder().encode("efgh"), { fin: false }));
    expect(client.eventsReceived()).toEqual([{ type: "message-chunk", data: "efgh" }]);
    client.receiveData(encodeFrame(Opcode.Continuation, new TextEncoder().encode("i")));
    const [error] = client.eventsReceived();
    expect(error).toMatchObject({
      type: "error",
      error: { code: ErrorCodes.PayloadTooBig, closeCode: 1009 },
    });
    expect(client.closeSent?.code).toBe(1009);
  });

  it("checks maxStreamedPayload: a non-negative integer or Infinity", () => {
    expect(() =>
      openClient({ streamMessages: true, maxStreamedPayload: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
    expect(() => openClient({ streamMessages: true, maxStreamedPayload: -1 })).toThrow(TypeError);
  });
});
