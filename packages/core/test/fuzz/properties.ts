/**
 * Fuzz properties with an oracle, shared by the short CI sample (fuzz.test.ts) and `pnpm fuzz`.
 * The oracle: for any byte stream, in any chunking,
 *  - `receiveData` never throws;
 *  - the events are the documented ones, and an `error` event is the last one;
 *  - an error is a ProtocolError (after the handshake) or a HandshakeError (before it) with a
 *    documented code, and the close frame sent carries exactly `error.closeCode`;
 *  - the events do not depend on how the stream was chunked.
 */
import fc from "fast-check";
import { Opcode } from "../../src/constants.js";
import { ErrorCodes, HandshakeError, ProtocolError } from "../../src/errors.js";
import type { WsEvent } from "../../src/events.js";
import { encodeFrame } from "../../src/frame.js";
import { State } from "../../src/protocol.js";
import { ClientProtocol } from "../../src/protocol-client.js";
import { ServerProtocol } from "../../src/protocol-server.js";

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));
const EVENT_TYPES = new Set(["open", "text", "binary", "ping", "pong", "close", "error"]);

function deterministicFill(b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + 7) & 0xff;
}

/** An open client, fed the 101 response of a real ServerProtocol. */
export function openClient(maxPayload = 1 << 16): ClientProtocol {
  const client = new ClientProtocol({ url: "ws://fuzz.test/", randomFill: deterministicFill, maxPayload });
  const server = new ServerProtocol();
  for (const item of client.dataToSend()) if (item instanceof Uint8Array) server.receiveData(item);
  server.eventsReceived();
  server.accept();
  for (const item of server.dataToSend()) if (item instanceof Uint8Array) client.receiveData(item);
  client.eventsReceived();
  return client;
}

/** Plain-data view of events, comparable across runs (binary data as arrays). */
function snapshot(events: WsEvent[]): unknown[] {
  return events.map((e) => {
    if (e.type === "error") return { type: "error", code: e.error.code };
    if (e.type === "open") return { type: "open", status: e.response.status };
    if ("data" in e && e.data instanceof Uint8Array) return { type: e.type, data: Array.from(e.data) };
    return e;
  });
}

/** Splits `data` at the given cut points (sorted, deduplicated). */
function chunk(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(data.slice(last, p));
    last = p;
  }
  out.push(data.slice(last));
  return out;
}

function checkOracle(client: ClientProtocol, events: WsEvent[], phase: "frames" | "handshake"): void {
  events.forEach((event, i) => {
    if (!EVENT_TYPES.has(event.type)) throw new Error(`undocumented event ${event.type}`);
    if (event.type !== "error") return;
    if (i !== events.length - 1) throw new Error("an error event must be the last event");
    const error = event.error;
    if (!KNOWN_CODES.has(error.code)) throw new Error(`undocumented error code ${error.code}`);
    if (phase === "frames") {
      if (!(error instanceof ProtocolError)) throw new Error(`expected a ProtocolError, got ${error.name}`);
      if (client.closeSent?.code !== error.closeCode) {
        throw new Error(`close frame ${client.closeSent?.code} does not carry closeCode ${error.closeCode}`);
      }
      if (![1002, 1007, 1009].includes(error.closeCode))
        throw new Error(`unexpected close code ${error.closeCode}`);
      if (client.state !== State.Closing) throw new Error("a failed connection must be CLOSING");
    } else if (!(error instanceof HandshakeError)) {
      throw new Error(`expected a HandshakeError, got ${error.name}`);
    }
  });
}

/** Feeds `data` in the given chunks; returns the events, after checking the oracle. */
function run(data: Uint8Array, cuts: number[], phase: "frames" | "handshake"): unknown[] {
  const client =
    phase === "frames"
      ? openClient()
      : new ClientProtocol({ url: "ws://fuzz.test/", randomFill: deterministicFill });
  if (phase === "handshake") client.dataToSend();
  const events: WsEvent[] = [];
  for (const part of chunk(data, cuts)) {
    client.receiveData(part); // must never throw
    events.push(...client.eventsReceived());
    client.dataToSend();
  }
  checkOracle(client, events, phase);
  return snapshot(events);
}

const validFrame = fc.oneof(
  fc
    .string({ unit: "binary", maxLength: 300 })
    .map((s) => encodeFrame(Opcode.Text, new TextEncoder().encode(s))),
  fc.uint8Array({ maxLength: 300 }).map((b) => encodeFrame(Opcode.Binary, b)),
  fc.uint8Array({ maxLength: 125 }).map((b) => encodeFrame(Opcode.Ping, b)),
  fc.uint8Array({ maxLength: 125 }).map((b) => encodeFrame(Opcode.Pong, b)),
  fc.uint8Array({ maxLength: 40 }).map((b) => encodeFrame(Opcode.Text, b, { fin: false })),
  fc.uint8Array({ maxLength: 40 }).map((b) => encodeFrame(Opcode.Continuation, b, { fin: true })),
  fc.uint8Array({ maxLength: 40 }).map((b) => encodeFrame(Opcode.Continuation, b, { fin: false })),
  fc.uint8Array({ minLength: 0, maxLength: 20 }).map((b) => encodeFrame(Opcode.Close, b)),
);

/** A stream of mostly valid frames with random byte flips: the interesting inputs sit near valid ones. */
export const mutatedStream = fc
  .tuple(
    fc.array(validFrame, { maxLength: 8 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  )
  .map(([frames, flips]) => {
    const data = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      data.set(f, at);
      at += f.length;
    }
    if (data.length > 0) for (const [pos, value] of flips) data[pos % data.length] = value;
    return data;
  });

export const cutPoints = fc.array(fc.nat({ max: 4000 }), { maxLength: 12 });

/** The property for frames: any stream, any chunking, the oracle holds and chunking does not matter. */
export const framesProperty = fc.property(
  fc.oneof(mutatedStream, fc.uint8Array({ maxLength: 400 })),
  cutPoints,
  (data, cuts) => {
    const whole = run(data, [], "frames");
    const chunked = run(data, cuts, "frames");
    if (JSON.stringify(whole) !== JSON.stringify(chunked)) throw new Error("events depend on chunking");
  },
);

const statusLines = [
  "HTTP/1.1 101 Switching Protocols",
  "HTTP/1.1 404 Not Found",
  "HTTP/1.0 200 OK",
  "garbage",
];
const headerLines = [
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Connection: keep-alive, Upgrade",
  "Sec-WebSocket-Accept: x",
  "Sec-WebSocket-Protocol: chat",
  "Sec-WebSocket-Extensions: permessage-deflate",
  "Content-Length: 3",
  "Transfer-Encoding: chunked",
  "Bad Header",
  " folded",
];

/** Random HTTP-looking responses, mutated: the handshake never throws and fails with a HandshakeError. */
export const handshakeProperty = fc.property(
  fc.constantFrom(...statusLines),
  fc.array(fc.constantFrom(...headerLines), { maxLength: 6 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
  cutPoints,
  (status, headers, body, flips, cuts) => {
    const text = `${status}\r\n${headers.join("\r\n")}\r\n\r\n`;
    const head = new TextEncoder().encode(text);
    const data = new Uint8Array(head.length + body.length);
    data.set(head);
    data.set(body, head.length);
    for (const [pos, value] of flips) data[pos % data.length] = value;
    const whole = run(data, [], "handshake");
    const chunked = run(data, cuts, "handshake");
    if (JSON.stringify(whole) !== JSON.stringify(chunked)) throw new Error("handshake depends on chunking");
  },
);
