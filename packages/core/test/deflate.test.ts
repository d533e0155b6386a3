import { describe, expect, it } from "vitest";
import { Opcode } from "../src/constants.js";
import {
  acceptDeflateOffer,
  type DeflateOffer,
  type DeflateParams,
  formatDeflateOffer,
  type MessageCodec,
  parseDeflateResponse,
} from "../src/deflate.js";
import { ErrorCodes, HandshakeError, ProtocolError } from "../src/errors.js";
import { END_OF_STREAM, type Outgoing, type WsEvent } from "../src/events.js";
import { decodeFrameHeader, encodeFrame as encodeFrameRaw } from "../src/frame.js";
import { parseExtensionList } from "../src/headers.js";
import { State } from "../src/protocol.js";
import { ClientProtocol } from "../src/protocol-client.js";
import { ServerProtocol } from "../src/protocol-server.js";
import { MessageReader } from "../src/reader.js";
import { defaultUtf8 } from "../src/utf8.js";

const enc = (s: string) => new TextEncoder().encode(s);
const encodeFrame = (f: { fin: boolean; rsv1?: boolean; opcode: number; payload: Uint8Array }) =>
  encodeFrameRaw(f.opcode, f.payload, { fin: f.fin, rsv1: f.rsv1 ?? false });
const DEFAULTS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

/**
 * A stand-in for deflate, so the core's tests need no zlib: "compressed" bytes are a 0x42 marker then
 * the message XOR 0x5a (so compressed text is not valid UTF-8 as sent). Whole-message mode inflates at
 * `fin`, like the Node codec; streaming mode inflates each frame (its frames carry no marker).
 */
class XorCodec implements MessageCodec {
  readonly calls: Array<{ length: number; fin: boolean; maxOutput: number }> = [];
  closed = 0;
  #pending: number[] = [];
  constructor(private readonly streaming = false) {}
  compress(data: Uint8Array): Uint8Array {
    return Uint8Array.from([0x42, ...Array.from(data, (b) => b ^ 0x5a)]);
  }
  decompress(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    this.calls.push({ length: data.length, fin, maxOutput });
    if (this.streaming) return Uint8Array.from(data, (b) => b ^ 0x5a);
    this.#pending.push(...data);
    if (!fin) return new Uint8Array(0);
    const [marker, ...rest] = this.#pending;
    this.#pending = [];
    if (marker !== 0x42) throw new Error("invalid block type");
    if (rest.length > maxOutput) throw new ProtocolError(ErrorCodes.PayloadTooBig, "too big once inflated");
    return Uint8Array.from(rest, (b) => b ^ 0x5a);
  }
  close(): void {
    this.closed++;
  }
}
const xor = (s: string | Uint8Array) => new XorCodec().compress(typeof s === "string" ? enc(s) : s);

function bytesOut(out: Outgoing[]): Uint8Array {
  const parts = out.filter((o): o is Uint8Array => o !== END_OF_STREAM);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

describe("formatDeflateOffer", () => {
  it.each<[DeflateOffer, string]>([
    [{}, "permessage-deflate; client_max_window_bits"],
    [{ clientMaxWindowBits: false }, "permessage-deflate"],
    [{ clientMaxWindowBits: 10 }, "permessage-deflate; client_max_window_bits=10"],
    [{ serverMaxWindowBits: 8 }, "permessage-deflate; client_max_window_bits; server_max_window_bits=8"],
    [
      { clientNoContextTakeover: true, serverNoContextTakeover: true, clientMaxWindowBits: 15 },
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=15",
    ],
  ])("offers %j as %s", (offer, header) => {
    expect(formatDeflateOffer(offer)).toBe(header);
    // What we send parses back with our own header parser.
    expect(parseExtensionList(header)[0]?.name).toBe("permessage-deflate");
  });

  it.each([7, 16, 9.5, Number.NaN])("refuses window bits %s", (bits) => {
    expect(() => formatDeflateOffer({ clientMaxWindowBits: bits })).toThrow(RangeError);
    expect(() => formatDeflateOffer({ serverMaxWindowBits: bits })).toThrow(/from 8 to 15/);
  });
});

describe("parseDeflateResponse: answers a client accepts", () => {
  it.each<[string, DeflateOffer, Partial<DeflateParams> | undefined]>([
    ["", {}, undefined],
    ["x-other", {}, undefined],
    ["permessage-deflate", {}, {}],
    ["Permessage-Deflate", {}, {}],
    ["permessage-deflate; server_no_context_takeover", {}, { serverNoContextTakeover: true }],
    ["permessage-deflate; client_no_context_takeover", {}, { clientNoContextTakeover: true }],
    ["permessage-deflate", { clientNoContextTakeover: true }, { clientNoContextTakeover: true }],
    ["permessage-deflate; server_max_window_bits=10", {}, { serverMaxWindowBits: 10 }],
    ["permessage-deflate; server_max_window_bits=8", { serverMaxWindowBits: 8 }, { serverMaxWindowBits: 8 }],
    ["permessage-deflate; server_max_window_bits=9", { serverMaxWindowBits: 12 }, { serverMaxWindowBits: 9 }],
    ['permessage-deflate; server_max_window_bits="11"', {}, { serverMaxWindowBits: 11 }],
    ["permessage-deflate; client_max_window_bits=8", {}, { clientMaxWindowBits: 8 }],
    [
      "permessage-deflate; client_max_window_bits=12",
      { clientMaxWindowBits: 12 },
      { clientMaxWindowBits: 12 },
    ],
    ["permessage-deflate", { clientMaxWindowBits: 11 }, { clientMaxWindowBits: 11 }],
    [
      "permessage-deflate; server_no_context_takeover; SERVER_MAX_WINDOW_BITS=15",
      { serverNoContextTakeover: true, serverMaxWindowBits: 15 },
      { serverNoContextTakeover: true },
    ],
  ])("%s (offer %j)", (header, offer, expected) => {
    expect(parseDeflateResponse(header, offer)).toEqual(
      expected === undefined ? undefined : { ...DEFAULTS, ...expected },
    );
  });
});

describe("parseDeflateResponse: answers that fail the handshake", () => {
  it.each<[string, DeflateOffer, RegExp]>([
    ["permessage-deflate; foo", {}, /unknown parameter foo/],
    ["permessage-deflate; foo=1", {}, /unknown parameter foo/],
    ["permessage-deflate; server_no_context_takeover; server_no_context_takeover", {}, /duplicate/],
    ["permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", {}, /duplicate/],
    ["permessage-deflate; server_no_context_takeover=1", {}, /takes no value/],
    ["permessage-deflate; client_no_context_takeover=true", {}, /takes no value/],
    ["permessage-deflate; server_max_window_bits", {}, /needs a value/],
    ["permessage-deflate; client_max_window_bits", {}, /needs a value/],
    ["permessage-deflate; server_max_window_bits=7", {}, /from 8 to 15/],
    ["permessage-deflate; server_max_window_bits=16", {}, /from 8 to 15/],
    ["permessage-deflate; server_max_window_bits=08", {}, /from 8 to 15/],
    ["permessage-deflate; client_max_window_bits=0x9", {}, /from 8 to 15/],
    ["permessage-deflate; client_max_window_bits=10", { clientMaxWindowBits: false }, /not offered/],
    ["permessage-deflate; client_max_window_bits=12", { clientMaxWindowBits: 10 }, /above the offered 10/],
    ["permessage-deflate; server_max_window_bits=12", { serverMaxWindowBits: 10 }, /above the requested 10/],
    ["permessage-deflate", { serverMaxWindowBits: 10 }, /requested but not confirmed/],
    ["permessage-deflate", { serverNoContextTakeover: true }, /server_no_context_takeover was requested/],
    ["permessage-deflate, permessage-deflate", {}, /more than once/],
    ["permessage-deflate; =1", {}, /Invalid Sec-WebSocket-Extensions/],
  ])("%s (offer %j)", (header, offer, message) => {
    let error: unknown;
    try {
      parseDeflateResponse(header, offer);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).code).toBe(ErrorCodes.InvalidExtension);
    expect((error as Error).message).toMatch(message);
  });
});

describe("acceptDeflateOffer (the server's answer)", () => {
  const offers = (header: string) => parseExtensionList(header);
  it.each<[string, Parameters<typeof acceptDeflateOffer>[1], string | undefined, Partial<DeflateParams>]>([
    ["", {}, undefined, {}],
    ["x-foo", {}, undefined, {}],
    ["permessage-deflate", {}, "permessage-deflate", {}],
    ["permessage-deflate; client_max_window_bits", {}, "permessage-deflate", {}],
    [
      "permessage-deflate; client_max_window_bits",
      { clientMaxWindowBits: 10 },
      "permessage-deflate; client_max_window_bits=10",
      { clientMaxWindowBits: 10 },
    ],
    // Without client_max_window_bits in the offer, the answer must not carry it (section 7.1.2.2).
    ["permessage-deflate", { clientMaxWindowBits: 10 }, "permessage-deflate", {}],
    [
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 12 },
      "permessage-deflate; server_max_window_bits=10",
      { serverMaxWindowBits: 10 },
    ],
    [
      "permessage-deflate",
      { serverMaxWindowBits: 9, serverNoContextTakeover: true },
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
      { serverMaxWindowBits: 9, serverNoContextTakeover: true },
    ],
    [
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
      {},
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
      { serverNoContextTakeover: true, clientNoContextTakeover: true },
    ],
    // A malformed offer is declined and the next one accepted.
    [
      "permessage-deflate; server_max_window_bits=20, permessage-deflate; client_no_context_takeover",
      {},
      "permessage-deflate; client_no_context_takeover",
      { clientNoContextTakeover: true },
    ],
    ["permessage-deflate; bogus", {}, undefined, {}],
  ])("offer %s, config %j -> %s", (header, config, answer, params) => {
    const result = acceptDeflateOffer(offers(header), config);
    expect(result?.answer).toBe(answer);
    if (answer !== undefined) {
      expect(result?.params).toEqual({ ...DEFAULTS, ...params });
      // Whatever the server answers, a client that made this offer accepts it with the same params.
      const offer = offers(header).find((o) => acceptDeflateOffer([o], config) !== undefined)!;
      const clientOffer: DeflateOffer = {};
      for (const [name, value] of offer.params) {
        if (name === "client_max_window_bits")
          clientOffer.clientMaxWindowBits = value === true ? true : Number(value);
        if (name === "server_max_window_bits") clientOffer.serverMaxWindowBits = Number(value);
        if (name === "client_no_context_takeover") clientOffer.clientNoContextTakeover = true;
        if (name === "server_no_context_takeover") clientOffer.serverNoContextTakeover = true;
      }
      if (!offer.params.some(([n]) => n === "client_max_window_bits"))
        clientOffer.clientMaxWindowBits = false;
      expect(parseDeflateResponse(answer, clientOffer)).toEqual(result?.params);
    }
  });
});

/** A client and a server with the fake codec, handshake done. */
function openPair(
  o: { clientDeflate?: boolean; serverDeflate?: boolean; threshold?: number; maxPayload?: number } = {},
) {
  const clientCodecs: XorCodec[] = [];
  const client = new ClientProtocol({
    url: "ws://example.test/",
    ...(o.maxPayload !== undefined ? { maxPayload: o.maxPayload } : {}),
    ...(o.clientDeflate !== false
      ? {
          perMessageDeflate: {
            codecFactory: () => {
              const codec = new XorCodec();
              clientCodecs.push(codec);
              return codec;
            },
            ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
          },
        }
      : {}),
  });
  const server = new ServerProtocol(
    o.serverDeflate !== false
      ? { perMessageDeflate: { codecFactory: () => new XorCodec(), threshold: 0 } }
      : {},
  );
  const request = latin1(bytesOut(client.dataToSend()));
  server.receiveData(enc(request));
  server.eventsReceived();
  server.accept();
  const response = latin1(bytesOut(server.dataToSend()));
  client.receiveData(enc(response));
  const events = client.eventsReceived();
  return { client, server, request, response, events, clientCodecs };
}

/** The RSV1 bit of each frame in the output (small frames share one buffer: walk its headers). */
function rsv1Bits(wire: readonly Uint8Array[]): boolean[] {
  const bits: boolean[] = [];
  for (const chunk of wire) {
    for (let at = 0; at < chunk.length; ) {
      const decoded = decodeFrameHeader(chunk, at);
      if (decoded === undefined) throw new Error("truncated frame in the output");
      bits.push(decoded.header.rsv1);
      at += decoded.headerSize + decoded.header.payloadLength;
    }
  }
  return bits;
}

describe("ClientProtocol and ServerProtocol with permessage-deflate", () => {
  it("offers the extension, accepts the answer and reports it on open", () => {
    const { client, server, request, response, events } = openPair();
    expect(request).toContain("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    expect(response).toContain("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n");
    expect(events).toEqual([
      { type: "open", response: expect.objectContaining({ extensions: "permessage-deflate" }) },
    ]);
    expect(client.deflateParams).toEqual(DEFAULTS);
    expect(server.deflateParams).toEqual(DEFAULTS);
  });

  it("closes the codec once, at end of stream", () => {
    const { client, clientCodecs } = openPair();
    client.sendText("before the end");
    expect(clientCodecs[0]!.closed).toBe(0);
    client.receiveEof();
    client.receiveEof();
    expect(clientCodecs[0]!.closed).toBe(1);
  });

  it("compresses messages at or over the threshold (RSV1 set) and sends smaller ones plain", () => {
    const { client, server } = openPair({ threshold: 4 });
    client.sendText("abc");
    client.sendText("abcd");
    client.sendBinary(Uint8Array.of(1, 2, 3, 4, 5));
    const wire = client.dataToSend() as Uint8Array[];
    expect(rsv1Bits(wire)).toEqual([false, true, true]);
    // The compressed text is not valid UTF-8 on the wire, and the server still reads it.
    for (const frame of wire) server.receiveData(frame);
    expect(server.eventsReceived()).toEqual([
      { type: "text", data: "abc" },
      { type: "text", data: "abcd" },
      { type: "binary", data: Uint8Array.of(1, 2, 3, 4, 5) },
    ]);
    server.sendText("from the server");
    for (const frame of server.dataToSend() as Uint8Array[]) client.receiveData(frame);
    expect(client.eventsReceived()).toEqual([{ type: "text", data: "from the server" }]);
  });

  it("sends a message plain (RSV1 clear) when told not to compress it, whatever its size", () => {
    const { client, server } = openPair({ threshold: 4 });
    client.sendText("abcdefgh", true, false);
    client.sendBinary(Uint8Array.of(1, 2, 3, 4, 5), true, false);
    client.sendText(enc("bytes as text"), true, false);
    client.sendText("compressed");
    const wire = client.dataToSend() as Uint8Array[];
    expect(rsv1Bits(wire)).toEqual([false, false, false, true]);
    for (const frame of wire) server.receiveData(frame);
    expect(server.eventsReceived()).toEqual([
      { type: "text", data: "abcdefgh" },
      { type: "binary", data: Uint8Array.of(1, 2, 3, 4, 5) },
      { type: "text", data: "bytes as text" },
      { type: "text", data: "compressed" },
    ]);
  });

  it("never compresses fragmented sends", () => {
    const { client, server } = openPair({ threshold: 0 });
    client.sendText("frag", false);
    client.sendContinuation(enc("ment"), true);
    const wire = client.dataToSend() as Uint8Array[];
    expect(rsv1Bits(wire)).toEqual([false, false]);
    for (const frame of wire) server.receiveData(frame);
    expect(server.eventsReceived()).toEqual([{ type: "text", data: "fragment" }]);
  });

  it("sends plain when the server did not accept the extension, and RSV1 then fails with 1002", () => {
    const { client, response, events } = openPair({ serverDeflate: false, threshold: 0 });
    expect(response).not.toContain("Sec-WebSocket-Extensions");
    expect(events[0]?.type).toBe("open");
    expect(client.deflateParams).toBeUndefined();
    client.sendText("hello");
    expect(decodeFrameHeader((client.dataToSend() as Uint8Array[])[0]!)?.header.rsv1).toBe(false);
    client.receiveData(encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Text, payload: xor("x") }));
    const [error] = client.eventsReceived();
    expect(error?.type === "error" && error.error.code).toBe(ErrorCodes.UnexpectedRsvBits);
    expect(client.closeSent?.code).toBe(1002);
  });

  it("fails the handshake when the server's answer is invalid, without a close frame", () => {
    const client = new ClientProtocol({
      url: "ws://example.test/",
      perMessageDeflate: { codecFactory: () => new XorCodec(), clientMaxWindowBits: 10 },
    });
    const request = latin1(bytesOut(client.dataToSend()));
    const server = new ServerProtocol();
    server.receiveData(enc(request));
    server.eventsReceived();
    server.accept({ extensions: "permessage-deflate; client_max_window_bits=12" });
    client.receiveData(bytesOut(server.dataToSend()));
    const events = client.eventsReceived();
    expect(events).toHaveLength(1);
    const error = (events[0] as Extract<WsEvent, { type: "error" }>).error;
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error.code).toBe(ErrorCodes.InvalidExtension);
    expect(error.message).toMatch(/client_max_window_bits=12 is above the offered 10/);
    expect((error as HandshakeError).response?.status).toBe(101);
    expect(client.state).toBe(State.Closed);
    expect(client.dataToSend()).toEqual([END_OF_STREAM]);
  });

  it("fails the handshake when a client that offered nothing gets permessage-deflate", () => {
    const client = new ClientProtocol({ url: "ws://example.test/" });
    const server = new ServerProtocol();
    server.receiveData(bytesOut(client.dataToSend()));
    server.eventsReceived();
    server.accept({ extensions: "permessage-deflate" });
    client.receiveData(bytesOut(server.dataToSend()));
    const [event] = client.eventsReceived();
    expect(event?.type === "error" && event.error.code).toBe(ErrorCodes.InvalidExtension);
  });

  it("fails with 1007 and DecompressionFailed on a corrupt compressed message", () => {
    const { client } = openPair();
    client.receiveData(
      encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Binary, payload: Uint8Array.of(1, 2) }),
    );
    const [event] = client.eventsReceived();
    const error = (event as Extract<WsEvent, { type: "error" }>).error as ProtocolError;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.code).toBe(ErrorCodes.DecompressionFailed);
    expect(error.closeCode).toBe(1007);
    expect(error.message).toMatch(/invalid block type/);
    expect(client.closeSent?.code).toBe(1007);
  });

  it("counts the inflated size against maxPayload: 1009 when it passes", () => {
    // A tiny bomb: each compressed byte n inflates to n bytes; 2 wire bytes ask for 400.
    const rle: MessageCodec = {
      compress: (d) => d,
      decompress: (data, _fin, maxOutput) => {
        const size = data.reduce((n, b) => n + b, 0);
        if (size > maxOutput) throw new ProtocolError(ErrorCodes.PayloadTooBig, "over the budget");
        return new Uint8Array(size).fill(0x61);
      },
    };
    const client = new ClientProtocol({
      url: "ws://example.test/",
      maxPayload: 100,
      perMessageDeflate: { codecFactory: () => rle },
    });
    const server = new ServerProtocol({ perMessageDeflate: { codecFactory: () => rle } });
    server.receiveData(bytesOut(client.dataToSend()));
    server.eventsReceived();
    server.accept();
    client.receiveData(bytesOut(server.dataToSend()));
    client.receiveData(
      encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Text, payload: Uint8Array.of(60) }),
    );
    client.receiveData(
      encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Text, payload: Uint8Array.of(200, 200) }),
    );
    const events = client.eventsReceived();
    expect(events.map((e) => e.type)).toEqual(["open", "text", "error"]);
    const error = (events[2] as Extract<WsEvent, { type: "error" }>).error;
    expect(error.code).toBe(ErrorCodes.PayloadTooBig);
    expect(client.closeSent?.code).toBe(1009);
    const big = new Uint8Array(120).fill(0x61);
    const second = openPair({ maxPayload: 100 });
    second.client.receiveData(
      encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Text, payload: xor(big.subarray(0, 99)) }),
    );
    expect(second.client.eventsReceived()).toEqual([{ type: "text", data: "a".repeat(99) }]);
    expect(second.clientCodecs[0]?.calls).toEqual([{ length: 100, fin: true, maxOutput: 100 }]);
    const third = openPair({ maxPayload: 100 });
    const wire = xor(big.subarray(0, 101));
    // 102 wire bytes: fails before inflating, on the header (the compressed size is bounded too).
    third.client.receiveData(encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Text, payload: wire }));
    const [event] = third.client.eventsReceived();
    expect(event?.type === "error" && event.error.code).toBe(ErrorCodes.PayloadTooBig);
    expect(third.client.closeSent?.code).toBe(1009);
    expect(third.clientCodecs[0]?.calls).toEqual([]);
  });

  it("fails with 1007 when the inflated text is not UTF-8", () => {
    const { client } = openPair();
    client.receiveData(
      encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Text, payload: xor(Uint8Array.of(0xc3, 0x28)) }),
    );
    const [event] = client.eventsReceived();
    expect(event?.type === "error" && event.error.code).toBe(ErrorCodes.InvalidUtf8);
    expect(client.closeSent?.code).toBe(1007);
  });
});

describe("MessageReader with a codec", () => {
  const reader = (codec: MessageCodec, maxPayload = 2 ** 20) =>
    new MessageReader({ expectMasked: false, maxPayload, utf8: defaultUtf8, codec });
  const text = "héllo wörld, a compressed message 🌊";
  // First frame RSV1, then a ping between the fragments, then the continuation (RSV1 clear).
  const compressed = xor(text);
  const frames = [
    encodeFrame({ fin: false, rsv1: true, opcode: Opcode.Text, payload: compressed.subarray(0, 7) }),
    encodeFrame({ fin: true, opcode: Opcode.Ping, payload: enc("p") }),
    encodeFrame({ fin: true, opcode: Opcode.Continuation, payload: compressed.subarray(7) }),
    encodeFrame({ fin: true, opcode: Opcode.Text, payload: enc("plain") }),
    encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Binary, payload: xor(Uint8Array.of(9, 8, 7)) }),
  ];
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => {
    all.set(f, at);
    return at + f.length;
  }, 0);
  const expected = [
    { type: "ping", data: enc("p") },
    { type: "text", data: text },
    { type: "text", data: "plain" },
    { type: "binary", data: Uint8Array.of(9, 8, 7) },
  ];

  it("reassembles fragmented compressed messages fed whole, byte by byte and at every split point", () => {
    const run = (pieces: Uint8Array[]) => {
      const r = reader(new XorCodec());
      const out: WsEvent[] = [];
      for (const piece of pieces) r.read(piece, out);
      return out;
    };
    expect(run([all])).toEqual(expected);
    expect(run(Array.from(all, (b) => Uint8Array.of(b)))).toEqual(expected);
    for (let i = 0; i <= all.length; i++) {
      expect(run([all.subarray(0, i), all.subarray(i)])).toEqual(expected);
    }
  });

  it("passes each fragment to a streaming codec with the remaining budget, and stops at maxPayload", () => {
    const codec = new XorCodec(true);
    const r = reader(codec, 10);
    const out: WsEvent[] = [];
    r.read(encodeFrame({ fin: false, rsv1: true, opcode: Opcode.Binary, payload: new Uint8Array(6) }), out);
    expect(() =>
      r.read(encodeFrame({ fin: true, opcode: Opcode.Continuation, payload: new Uint8Array(4) }), out),
    ).not.toThrow();
    expect(codec.calls).toEqual([
      { length: 6, fin: false, maxOutput: 10 },
      { length: 4, fin: true, maxOutput: 4 },
    ]);
    expect(out).toEqual([{ type: "binary", data: new Uint8Array(10).fill(0x5a) }]);
    // A codec that returns more than the budget is caught by the reader itself.
    const liar: MessageCodec = { compress: (d) => d, decompress: () => new Uint8Array(11) };
    let error: unknown;
    try {
      reader(liar, 10).read(
        encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Binary, payload: Uint8Array.of(1) }),
        [],
      );
    } catch (e) {
      error = e;
    }
    expect((error as ProtocolError).code).toBe(ErrorCodes.PayloadTooBig);
    expect((error as ProtocolError).closeCode).toBe(1009);
  });

  it("still refuses RSV1 on continuation and control frames", () => {
    for (const bytes of [
      [
        encodeFrame({ fin: false, opcode: Opcode.Text, payload: enc("a") }),
        encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Continuation, payload: enc("b") }),
      ],
      [encodeFrame({ fin: true, rsv1: true, opcode: Opcode.Ping, payload: enc("a") })],
    ]) {
      const r = reader(new XorCodec());
      let error: unknown;
      try {
        for (const b of bytes) r.read(b, []);
      } catch (e) {
        error = e;
      }
      expect((error as ProtocolError).code).toBe(ErrorCodes.UnexpectedRsvBits);
    }
  });
});
