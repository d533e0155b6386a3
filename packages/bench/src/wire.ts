// The bench server's side of RFC 6455: just enough to accept a handshake, write unmasked server
// frames and read masked client frames. Written here, not taken from @tideway/core, so that the
// server measuring Tideway does not share Tideway's bugs.
import { createHash } from "node:crypto";

/** RFC 6455 section 1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

/** Sec-WebSocket-Accept for a given Sec-WebSocket-Key (RFC 6455 section 4.2.2 item 5.4). */
export function acceptKey(key: string): string {
  return createHash("sha1")
    .update(key + HANDSHAKE_GUID)
    .digest("base64");
}

/** The parsed request line and headers of an HTTP upgrade request (header names lower-cased). */
export interface UpgradeRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: ReadonlyMap<string, string>;
}

/** Parses a request head (without the final CRLF CRLF); throws on a malformed head. */
export function parseRequestHead(head: string): UpgradeRequest {
  const lines = head.split("\r\n");
  const [method, target, version] = (lines[0] ?? "").split(" ");
  if (!method || !target || version !== "HTTP/1.1") throw new Error(`bad request line: ${lines[0]}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`bad header line: ${line}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  return { method, target, headers };
}

/** The permessage-deflate parameters a connection runs with, once negotiated (RFC 7692 section 7.1). */
export interface DeflateParams {
  /** The server's compressor starts afresh for every message (no history). */
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  /** The LZ77 window the server compresses with, 9..15 (zlib cannot compress with 8). */
  readonly serverMaxWindowBits: number;
}

/** What the server accepted: the parameters, and the `Sec-WebSocket-Extensions` value to answer. */
export interface DeflateAgreement {
  readonly params: DeflateParams;
  readonly header: string;
}

/**
 * Accepts the first permessage-deflate offer of a `Sec-WebSocket-Extensions` header that this
 * server can honour, as a real server does: it keeps context takeover unless the client asks for
 * none, confirms what the client asked (RFC 7692 section 7.1.1: no_context_takeover flags, a
 * server_max_window_bits of 9..15) and echoes a client_max_window_bits value the client offered.
 * Returns undefined when no offer is acceptable (an unknown parameter, a bad or duplicate value,
 * server_max_window_bits=8).
 */
export function negotiateDeflate(header: string | undefined): DeflateAgreement | undefined {
  for (const offer of (header ?? "").split(",")) {
    const [name, ...parts] = offer.split(";").map((p) => p.trim());
    if (name?.toLowerCase() !== "permessage-deflate") continue;
    const seen = new Map<string, string | undefined>();
    let ok = true;
    for (const part of parts) {
      const eq = part.indexOf("=");
      const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
      const value =
        eq < 0
          ? undefined
          : part
              .slice(eq + 1)
              .trim()
              .replace(/^"(.*)"$/, "$1");
      if (seen.has(key)) ok = false;
      seen.set(key, value);
    }
    const bits = (value: string | undefined, min: number) =>
      value !== undefined && /^\d+$/.test(value) && Number(value) >= min && Number(value) <= 15;
    for (const [key, value] of seen) {
      if (key === "server_no_context_takeover" || key === "client_no_context_takeover")
        ok &&= value === undefined;
      else if (key === "server_max_window_bits") ok &&= bits(value, 9);
      else if (key === "client_max_window_bits") ok &&= value === undefined || bits(value, 8);
      else ok = false;
    }
    if (!ok) continue;
    const answer = ["permessage-deflate"];
    const serverNoContextTakeover = seen.has("server_no_context_takeover");
    const clientNoContextTakeover = seen.has("client_no_context_takeover");
    if (serverNoContextTakeover) answer.push("server_no_context_takeover");
    if (clientNoContextTakeover) answer.push("client_no_context_takeover");
    const serverBits = seen.get("server_max_window_bits");
    if (serverBits !== undefined) answer.push(`server_max_window_bits=${serverBits}`);
    const clientBits = seen.get("client_max_window_bits");
    if (clientBits !== undefined) answer.push(`client_max_window_bits=${clientBits}`);
    return {
      params: {
        serverNoContextTakeover,
        clientNoContextTakeover,
        serverMaxWindowBits: serverBits === undefined ? 15 : Number(serverBits),
      },
      header: answer.join("; "),
    };
  }
  return undefined;
}

/**
 * Checks the request the way a server must (RFC 6455 section 4.2.1) and returns the 101 response,
 * with `Sec-WebSocket-Extensions: <extensions>` when given.
 */
export function upgradeResponse(request: UpgradeRequest, extensions?: string): string {
  const tokens = (name: string) =>
    (request.headers.get(name) ?? "")
      .toLowerCase()
      .split(",")
      .map((t) => t.trim());
  if (request.method !== "GET") throw new Error(`method ${request.method}`);
  if (!tokens("upgrade").includes("websocket")) throw new Error("no Upgrade: websocket");
  if (!tokens("connection").includes("upgrade")) throw new Error("no Connection: upgrade");
  if (request.headers.get("sec-websocket-version") !== "13") throw new Error("version is not 13");
  const key = request.headers.get("sec-websocket-key") ?? "";
  if (Buffer.from(key, "base64").length !== 16) throw new Error(`bad Sec-WebSocket-Key ${key}`);
  // Without `extensions` the answer names none: uncompressed scenarios run uncompressed, whatever
  // the client offers.
  return (
    "HTTP/1.1 101 Switching Protocols\r\n" +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    (extensions === undefined ? "" : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`
  );
}

/** An unmasked server frame (FIN set) with the given opcode and payload; `rsv1` marks it compressed. */
export function serverFrame(opcode: number, payload: Uint8Array, rsv1 = false): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 0x10000) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.set(payload, headerLength);
  return frame;
}

/** A frame header read from a client. */
export interface ClientFrameHeader {
  readonly fin: boolean;
  /** "Per-message compressed" (RFC 7692 section 6), allowed only when the reader was told so. */
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly length: number;
  /** The 4 mask bytes as they appear on the wire. */
  readonly mask: Uint8Array;
}

/** What a FrameReader reports; payload segments are still masked and alias the input chunk. */
export interface FrameSink {
  frameStart(header: ClientFrameHeader): void;
  /** `offset` is the position of `segment[0]` within the frame's payload (for the mask phase). */
  payload(segment: Uint8Array, offset: number): void;
  frameEnd(header: ClientFrameHeader): void;
}

/**
 * Reads masked client frames from TCP chunks without copying payloads: the sink sees each payload
 * as segments of the chunks it arrived in. Throws on a frame a client must not send (unmasked,
 * reserved bits, 64-bit lengths over 2^53). With `deflate` (permessage-deflate negotiated), RSV1
 * is allowed on data frames.
 */
export class FrameReader {
  private header = new Uint8Array(14);
  private headerFill = 0;
  private current: ClientFrameHeader | undefined;
  private remaining = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly deflate = false,
  ) {}

  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.current === undefined) {
        pos = this.readHeader(chunk, pos);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - pos);
      const offset = this.current.length - this.remaining;
      this.sink.payload(chunk.subarray(pos, pos + take), offset);
      pos += take;
      this.remaining -= take;
      if (this.remaining === 0) this.finishFrame();
    }
  }

  private readHeader(chunk: Uint8Array, start: number): number {
    let pos = start;
    while (pos < chunk.length) {
      this.header[this.headerFill++] = chunk[pos++]!;
      if (this.headerFill === 2) this.checkFirstBytes();
      const needed = this.headerLength();
      if (needed !== undefined && this.headerFill === needed) {
        this.startFrame();
        break;
      }
    }
    return pos;
  }

  /** The full header length, once the second byte is known. */
  private headerLength(): number | undefined {
    if (this.headerFill < 2) return undefined;
    const len7 = this.header[1]! & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
  }

  /** Rejects as soon as the first two bytes show a frame no client may send. */
  private checkFirstBytes(): void {
    const b0 = this.header[0]!;
    // RFC 7692 section 6.1: RSV1 only on the first frame of a data message, never on control frames.
    const opcode = b0 & 0x0f;
    const allowed = this.deflate && (opcode === OPCODE_TEXT || opcode === OPCODE_BINARY) ? 0x30 : 0x70;
    if ((b0 & allowed) !== 0) throw new Error("reserved bits set");
    if ((this.header[1]! & 0x80) === 0) throw new Error("client frame is not masked");
  }

  private startFrame(): void {
    const h = this.header;
    const len7 = h[1]! & 0x7f;
    const view = new DataView(h.buffer, h.byteOffset);
    let length = len7;
    let maskAt = 2;
    if (len7 === 126) {
      length = view.getUint16(2);
      maskAt = 4;
    } else if (len7 === 127) {
      const high = view.getUint32(2);
      if (high > 0x1fffff) throw new Error("frame length over 2^53");
      length = high * 2 ** 32 + view.getUint32(6);
      maskAt = 10;
    }
    this.current = {
      fin: (h[0]! & 0x80) !== 0,
      rsv1: (h[0]! & 0x40) !== 0,
      opcode: h[0]! & 0x0f,
      length,
      mask: h.slice(maskAt, maskAt + 4),
    };
    this.headerFill = 0;
    this.remaining = length;
    this.sink.frameStart(this.current);
    if (length === 0) this.finishFrame();
  }

  private finishFrame(): void {
    const header = this.current!;
    this.current = undefined;
    this.sink.frameEnd(header);
  }
}

/** Unmasks a copy of `segment`, which starts `offset` bytes into a payload masked with `mask`. */
export function unmaskCopy(segment: Uint8Array, mask: Uint8Array, offset: number): Buffer {
  const out = Buffer.allocUnsafe(segment.length);
  for (let i = 0; i < segment.length; i++) out[i] = segment[i]! ^ mask[(offset + i) & 3]!;
  return out;
}
