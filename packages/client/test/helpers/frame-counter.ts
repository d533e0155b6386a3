/**
 * A raw WebSocket server for the streaming tests: it parses the client's frames as they arrive and
 * counts their payload bytes without keeping them (a 256 MiB message costs it nothing), so tests can
 * check the fragments themselves (opcodes, FIN), what was interleaved (pongs), and the close code.
 * Payloads of up to 1 KiB are kept, unmasked, to check the order of small messages.
 */
import type net from "node:net";
import { rawServer } from "./harness.js";
import { onUpgradeRequest, type RawServer, serverFrame, switchingProtocols } from "./servers.js";

export interface SeenFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly length: number;
  /** The unmasked payload, for frames of up to 1 KiB. */
  readonly payload: Buffer | undefined;
}

export interface FrameCounter {
  readonly server: RawServer;
  /** The connections' server sockets, in order. */
  readonly sockets: net.Socket[];
  /** Every frame seen, in order; with `keepFrames: false` only control frames and small ones. */
  readonly frames: SeenFrame[];
  /** Payload bytes of data frames (text, binary, continuation) received. */
  dataBytes: number;
  /** Data messages completed (FIN seen). */
  messages: number;
  /** The close code the client sent, once it did. */
  closeCode: number | undefined;
}

const KEEP = 1024;

/**
 * Starts the server. It answers a ping with a pong, and a close frame with the same code, then ends
 * TCP, as a server does.
 * `onFrame` runs after each frame is counted (to send pings from the server, say).
 */
export async function frameCounter(
  o: { onFrame?: (frame: SeenFrame, socket: net.Socket) => void; keepFrames?: boolean } = {},
): Promise<FrameCounter> {
  const sockets: net.Socket[] = [];
  const counter: Omit<FrameCounter, "server"> = {
    sockets,
    frames: [],
    dataBytes: 0,
    messages: 0,
    closeCode: undefined,
  };
  const server = await rawServer((socket) => {
    sockets.push(socket);
    onUpgradeRequest(socket, (key) => {
      socket.write(switchingProtocols(key));
      parseFrames(
        socket,
        (frame) => {
          if (frame.opcode <= 2) {
            if (frame.fin) counter.messages++;
          } else if (frame.opcode === 9) {
            socket.write(serverFrame(10, frame.payload ?? Buffer.alloc(0)));
          } else if (frame.opcode === 8) {
            const code =
              frame.payload !== undefined && frame.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
            counter.closeCode = code;
            if (!socket.destroyed) socket.end(serverFrame(8, frame.payload ?? Buffer.alloc(0)));
          }
          if (o.keepFrames !== false || frame.opcode >= 8 || frame.length <= KEEP) counter.frames.push(frame);
          o.onFrame?.(frame, socket);
        },
        (n) => {
          counter.dataBytes += n;
        },
      );
    });
  });
  return Object.assign(counter, { server });
}

/** Parses masked client frames from `socket`; `onPayload` gets data payload byte counts as they arrive. */
function parseFrames(
  socket: net.Socket,
  onFrame: (f: SeenFrame) => void,
  onPayload: (n: number) => void,
): void {
  let head: Buffer = Buffer.alloc(0);
  // The frame whose payload is being skipped.
  let current:
    | { opcode: number; fin: boolean; length: number; left: number; mask: Buffer; kept: Buffer[] }
    | undefined;
  socket.on("data", (chunk: Buffer) => {
    let data = chunk;
    while (data.length > 0) {
      if (current === undefined) {
        head = head.length === 0 ? data : Buffer.concat([head, data]);
        data = Buffer.alloc(0);
        if (head.length < 2) return;
        const len7 = head[1]! & 0x7f;
        const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
        const size = 2 + extra + 4;
        if (head.length < size) return;
        const length =
          len7 === 126 ? head.readUInt16BE(2) : len7 === 127 ? Number(head.readBigUInt64BE(2)) : len7;
        current = {
          opcode: head[0]! & 0x0f,
          fin: (head[0]! & 0x80) !== 0,
          length,
          left: length,
          mask: Buffer.from(head.subarray(2 + extra, size)),
          kept: [],
        };
        data = head.subarray(size);
        head = Buffer.alloc(0);
      }
      const take = Math.min(current.left, data.length);
      if (current.length <= KEEP) current.kept.push(Buffer.from(data.subarray(0, take)));
      if (current.opcode <= 2) onPayload(take);
      current.left -= take;
      data = data.subarray(take);
      if (current.left === 0) {
        let payload: Buffer | undefined;
        if (current.length <= KEEP) {
          payload = Buffer.concat(current.kept);
          for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ current.mask[i & 3]!;
        }
        const { opcode, fin, length } = current;
        current = undefined;
        onFrame({ opcode, fin, length, payload });
      }
    }
  });
}
