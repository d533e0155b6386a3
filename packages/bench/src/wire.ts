// The bench server's side of RFC 6455: just enough to accept a handshake, write unmasked server
// frames and read masked client frames. Written here, not taken from @tideway/core, so that the
// server measuring Tideway does not share Tideway's bugs.
import { createHash } from "node:crypto";

/** RFC 6455 section 1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
const HANDSHAKE_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

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

/** Checks the request the way a server must (RFC 6455 section 4.2.1) and returns the 101 response. */
export function upgradeResponse(request: UpgradeRequest): string {
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
  // No Sec-WebSocket-Extensions in the answer: every current scenario runs uncompressed, whatever
  // the client offers. The permessage-deflate scenarios will negotiate here (see scenarios.ts).
  return (
    "HTTP/1.1 101 Switching Protocols\r\n" +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`
  );
}

/** An unmasked server frame (FIN set) with the given opcode and payload. */
export function serverFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | opcode;
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
 * reserved bits, 64-bit lengths over 2^53).
 */
export class FrameReader {
  private header = new Uint8Array(14);
  private headerFill = 0;
  private current: ClientFrameHeader | undefined;
  private remaining = 0;

  constructor(private readonly sink: FrameSink) {}

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
    if ((this.header[0]! & 0x70) !== 0) throw new Error("reserved bits set");
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
