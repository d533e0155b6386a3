/**
 * The frames the conformance server writes.
 *
 * The writer is deliberately NOT the core's `encodeFrame`: a fuzzing server must also produce frames
 * the RFC forbids (reserved opcodes, RSV bits, oversized control frames, control frames with FIN
 * clear), and the core's encoder rightly has no way to express some of those. The header layout itself
 * still comes from the core's one header writer, `writeFrameHeader`, which puts any opcode and RSV bits
 * on the wire as given.
 *
 * What the client sends back is read by the core's own `MessageReader` (see session.ts).
 */
import { frameHeaderSize, unmask, writeFrameHeader } from "@tideway/core/internals";

export interface RawFrameSpec {
  /** Defaults to true. */
  fin?: boolean;
  /** The 3-bit RSV field as a number 0..7, as Autobahn's "RSV = n": 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  /** Masks the payload with this key: servers must not, so only for "server sent a masked frame" cases. */
  maskKey?: Uint8Array;
}

/** Encodes one frame exactly as told, valid or not. `opcode` may be any 4-bit value. */
export function rawFrame(opcode: number, payload: Uint8Array, spec: RawFrameSpec = {}): Uint8Array {
  const rsv = spec.rsv ?? 0;
  const masked = spec.maskKey !== undefined;
  const out = new Uint8Array(frameHeaderSize(payload.length, masked) + payload.length);
  const at = writeFrameHeader(
    out,
    0,
    spec.fin ?? true,
    (rsv & 4) !== 0,
    opcode & 0x0f,
    payload.length,
    spec.maskKey,
    (rsv & 2) !== 0,
    (rsv & 1) !== 0,
  );
  out.set(payload, at);
  if (spec.maskKey !== undefined) unmask(out.subarray(at), spec.maskKey);
  return out;
}

/** A close frame payload: the 2-byte code (when given) and the reason bytes. */
export function closePayload(code?: number, reason: Uint8Array | string = ""): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const r = typeof reason === "string" ? new TextEncoder().encode(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = (code >>> 8) & 0xff;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
