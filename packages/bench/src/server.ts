// The bench server: raw node:net, one process of its own, prebuilt frames. Each connection's
// request target picks its behaviour:
//   /recv?size=N&count=M&text=0|1  waits for one message from the client ("go"), then floods M
//                                  prebuilt frames of N bytes (binary, or text when text=1)
//   /sink?size=N&count=M           reads M binary frames of N bytes, verifies every byte against
//                                  the payload pattern, then answers "ok M BYTES" (or "error: ...")
//   /echo                          echoes every data frame
//   /idle, /hs                     holds the connection (idle memory) / only handshakes
// Every connection answers pings and echoes a close frame, then ends the TCP stream.
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { PATTERN_PERIOD, patternByte } from "./payload.js";
import {
  type ClientFrameHeader,
  FrameReader,
  type FrameSink,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  parseRequestHead,
  serverFrame,
  unmaskCopy,
  upgradeResponse,
} from "./wire.js";

/** Limit on the request head, so a confused client cannot grow the server without bound. */
const MAX_HEAD = 16 * 1024;
/** Roughly how many bytes one flood write carries (several small frames per write, like a busy server). */
const FLOOD_BATCH_BYTES = 256 * 1024;

const floodBatches = new Map<string, { batch: Buffer; frameLength: number; frames: number }>();

/** A prebuilt run of frames (a multiple of PATTERN_PERIOD, so batches follow each other seamlessly). */
function floodBatch(size: number, text: boolean) {
  const key = `${size}:${text}`;
  let entry = floodBatches.get(key);
  if (entry === undefined) {
    const frames0 = Array.from({ length: PATTERN_PERIOD }, (_, seq) =>
      serverFrame(text ? OPCODE_TEXT : OPCODE_BINARY, new Uint8Array(size).fill(patternByte(seq))),
    );
    const frameLength = frames0[0]!.length;
    const groups = Math.max(1, Math.ceil(FLOOD_BATCH_BYTES / (frameLength * PATTERN_PERIOD)));
    const frames = groups * PATTERN_PERIOD;
    const batch = Buffer.concat(Array.from({ length: groups }, () => frames0).flat());
    entry = { batch, frameLength, frames };
    floodBatches.set(key, entry);
  }
  return entry;
}

/** Resolves on the socket's next "drain" or "close", removing both listeners either way. */
function drainOrClose(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

async function flood(socket: Socket, size: number, count: number, text: boolean): Promise<void> {
  const { batch, frameLength, frames } = floodBatch(size, text);
  let left = count;
  while (left > 0 && !socket.destroyed) {
    const n = Math.min(left, frames);
    left -= n;
    const ok = socket.write(n === frames ? batch : batch.subarray(0, n * frameLength));
    if (!ok) await drainOrClose(socket);
  }
}

/** Per-connection behaviour after the handshake. */
class Session implements FrameSink {
  private readonly reader = new FrameReader(this);
  private parts: Buffer[] = [];
  private started = false;
  // /sink state
  private seq = 0;
  private verified = 0;
  private reference = Buffer.alloc(0);
  /** True while a /sink data frame that passed the header checks is being read. */
  private verifying = false;
  private failed = false;

  constructor(
    private readonly socket: Socket,
    private readonly path: string,
    private readonly params: URLSearchParams,
  ) {}

  data(chunk: Buffer): void {
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.fail(`bad frame: ${(error as Error).message}`);
    }
  }

  frameStart(header: ClientFrameHeader): void {
    this.parts = [];
    this.verifying = false;
    if (this.path !== "/sink" || header.opcode >= OPCODE_CLOSE || this.failed) return;
    const size = Number(this.params.get("size"));
    if (header.opcode !== OPCODE_BINARY || !header.fin || header.length !== size) {
      this.fail(`message ${this.seq}: opcode ${header.opcode} fin ${header.fin} length ${header.length}`);
      return;
    }
    // Each message is one repeated byte, so its masked form repeats every 4 bytes: compare it
    // with a reference of that 4-byte pattern (a native memcmp, so the sink keeps up at GB/s).
    const want = patternByte(this.seq);
    const quad = Buffer.from([0, 1, 2, 3].map((i) => want ^ header.mask[i]!));
    const referenceLength = Math.min(size, 64 * 1024) + 4;
    if (this.reference.length !== referenceLength) this.reference = Buffer.allocUnsafe(referenceLength);
    this.reference.fill(quad);
    this.verifying = true;
  }

  payload(segment: Uint8Array, offset: number): void {
    if (this.verifying) {
      const window = this.reference.length - 4;
      for (let at = 0; at < segment.length; at += window) {
        const piece = segment.subarray(at, Math.min(segment.length, at + window));
        const phase = (offset + at) & 3;
        if (Buffer.compare(piece, this.reference.subarray(phase, phase + piece.length)) !== 0) {
          this.fail(`message ${this.seq}: payload differs from the pattern near byte ${offset + at}`);
          this.verifying = false;
          return;
        }
      }
      this.verified += segment.length;
      return;
    }
    this.parts.push(Buffer.from(segment));
  }

  frameEnd(header: ClientFrameHeader): void {
    const masked = Buffer.concat(this.parts);
    this.parts = [];
    if (header.opcode >= OPCODE_CLOSE) {
      const payload = unmaskCopy(masked, header.mask, 0);
      if (header.opcode === OPCODE_CLOSE) {
        this.write(serverFrame(OPCODE_CLOSE, payload.subarray(0, 2)));
        this.socket.end();
      } else if (header.opcode === OPCODE_PING) {
        this.write(serverFrame(OPCODE_PONG, payload));
      }
      return;
    }
    if (this.path === "/echo") {
      this.write(serverFrame(header.opcode, unmaskCopy(masked, header.mask, 0)));
    } else if (this.path === "/recv" && !this.started) {
      this.started = true;
      const size = Number(this.params.get("size"));
      const count = Number(this.params.get("count"));
      flood(this.socket, size, count, this.params.get("text") === "1").catch(() => this.socket.destroy());
    } else if (this.verifying) {
      this.verifying = false;
      this.endSinkMessage();
    }
  }

  private endSinkMessage(): void {
    this.seq++;
    const count = Number(this.params.get("count"));
    const size = Number(this.params.get("size"));
    if (this.seq === count) {
      if (this.verified !== count * size) {
        this.fail(`verified ${this.verified} bytes, expected ${count * size}`);
        return;
      }
      this.write(serverFrame(OPCODE_TEXT, Buffer.from(`ok ${this.seq} ${this.verified}`)));
    } else if (this.seq > count) {
      this.fail(`more than ${count} messages`);
    }
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.write(serverFrame(OPCODE_TEXT, Buffer.from(`error: ${reason}`)));
    const close = Buffer.alloc(2);
    close.writeUInt16BE(1002);
    this.write(serverFrame(OPCODE_CLOSE, close));
    this.socket.end();
  }

  private write(frame: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(frame);
  }
}

function handle(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on("error", () => socket.destroy());
  let head = Buffer.alloc(0);
  let session: Session | undefined;
  socket.on("data", (chunk: Buffer) => {
    if (session !== undefined) {
      session.data(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > MAX_HEAD) socket.destroy();
      return;
    }
    try {
      const request = parseRequestHead(head.subarray(0, end).toString("latin1"));
      const url = new URL(request.target, "http://bench");
      socket.write(upgradeResponse(request));
      session = new Session(socket, url.pathname, url.searchParams);
    } catch (error) {
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n`);
      process.stderr.write(`bench server: ${(error as Error).message}\n`);
      return;
    }
    const rest = head.subarray(end + 4);
    if (rest.length > 0) session.data(rest);
  });
}

/** Starts a bench server on an ephemeral loopback port. */
export async function startServer(): Promise<{ server: Server; port: number }> {
  const server = createServer(handle);
  server.listen({ host: "127.0.0.1", port: 0, backlog: 4096 });
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
}

// Run as the driver's child: report the port, and exit when the driver goes away.
if (process.send !== undefined && process.argv[1]?.endsWith("server.ts")) {
  const { server, port } = await startServer();
  process.send({ type: "listening", port });
  // The driver asks between measurements, so that one starts only once the previous client's
  // connections (10k of them after an idle run) are gone.
  process.on("message", (message: { type?: string }) => {
    if (message.type === "connections") {
      server.getConnections((_, count) => process.send?.({ type: "connections", count }));
    }
  });
  process.on("disconnect", () => process.exit(0));
}
