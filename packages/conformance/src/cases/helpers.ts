/** Small builders shared by the case sections. */
import { Opcode } from "@tideway/core";
import type { Session } from "../session.js";
import type { Item } from "../types.js";
import { rawFrame } from "../wire.js";

const encoder = new TextEncoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** ASCII payload of `n` bytes (valid UTF-8 whatever the length). */
export const asciiPayload = (n: number): Uint8Array => new Uint8Array(n).fill(0x2a);
/** Binary payload of `n` bytes with every byte value (so a byte-mangling echo shows). */
export const binaryPayload = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
};

export const textItem = (data: Uint8Array | string): Item => ({
  type: "text",
  data: typeof data === "string" ? utf8(data) : data,
});
export const binaryItem = (data: Uint8Array): Item => ({ type: "binary", data });
export const pongItem = (data: Uint8Array | string = ""): Item => ({
  type: "pong",
  data: typeof data === "string" ? utf8(data) : data,
});

/** Frame builders for the common cases (server frames: never masked). */
export const f = {
  text: (p: Uint8Array | string, fin = true, rsv = 0) => rawFrame(Opcode.Text, toBytes(p), { fin, rsv }),
  binary: (p: Uint8Array, fin = true, rsv = 0) => rawFrame(Opcode.Binary, p, { fin, rsv }),
  cont: (p: Uint8Array | string, fin = true, rsv = 0) =>
    rawFrame(Opcode.Continuation, toBytes(p), { fin, rsv }),
  ping: (p: Uint8Array | string = "", fin = true, rsv = 0) => rawFrame(Opcode.Ping, toBytes(p), { fin, rsv }),
  pong: (p: Uint8Array | string = "", fin = true, rsv = 0) => rawFrame(Opcode.Pong, toBytes(p), { fin, rsv }),
  op: (opcode: number, p: Uint8Array | string = "", fin = true, rsv = 0) =>
    rawFrame(opcode, toBytes(p), { fin, rsv }),
};

function toBytes(p: Uint8Array | string): Uint8Array {
  return typeof p === "string" ? utf8(p) : p;
}

/**
 * How a sequence of frames reaches the client: all in one write, one frame per write with a pause,
 * or one byte per write. The three deliveries catch parsers that assume a frame arrives whole.
 */
export type Delivery = "whole" | "frame-wise" | "octet-wise";

export async function deliver(s: Session, frames: readonly Uint8Array[], how: Delivery): Promise<void> {
  if (how === "whole") s.write(concat(...frames));
  else if (how === "frame-wise") await s.frameWise(frames);
  else await s.chopped(concat(...frames), 1);
}

export const deliveryText: Record<Delivery, string> = {
  whole: "all in one write",
  "frame-wise": "one frame per write with pauses",
  "octet-wise": "one octet per write",
};
