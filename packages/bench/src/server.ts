// The bench server: raw node:net, one process of its own, prebuilt frames. Each connection's
// request target picks its behaviour:
//   /recv?size=N&count=M&text=0|1|utf8  waits for one message from the client ("go"), then floods
//                                  M prebuilt frames of N bytes (binary; ASCII text when text=1;
//                                  mixed 1- to 4-byte UTF-8 text when text=utf8)
//   /sink?size=N&count=M           reads M binary frames of N bytes, verifies every byte against
//                                  the payload pattern, then answers "ok M BYTES" (or "error: ...");
//                                  with &fragments=1 each message may come as fragments (streamed)
//   /recv-deflate?size=N&count=M   permessage-deflate: after "go", sends M distinct JSON text
//                                  messages of N bytes, compressed in order with one context
//   /sink-deflate?size=N&count=M   permessage-deflate: reads M compressed JSON text messages of N
//                                  bytes, inflates and verifies them, answers "ok M BYTES"
//   /slow-json?size=N&count=M      after "go", sends M distinct JSON text messages of N bytes
//   /slow-json-deflate?size=N&count=M  the same compressed (permessage-deflate, context takeover)
//   /echo                          echoes every data frame
//   /idle, /hs                     holds the connection (idle memory) / only handshakes
// Every connection answers pings and echoes a close frame, then ends the TCP stream. The two
// -deflate paths negotiate permessage-deflate (negotiateDeflate in wire.ts) and answer 400 to a
// client that does not offer it; the others never accept an extension.
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { MessageDeflater, StreamVerifier } from "./deflate.js";
import { JSON_SEND_CYCLE, jsonMessage, PATTERN_PERIOD, patternByte, utf8Payload } from "./payload.js";
import { PatternSink } from "./sink.js";
import {
  type ClientFrameHeader,
  type DeflateParams,
  FrameReader,
  type FrameSink,
  negotiateDeflate,
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

/** What a /recv flood carries: its `text` parameter. */
type FloodKind = "binary" | "text" | "utf8";

function floodKind(text: string | null): FloodKind {
  return text === "utf8" ? "utf8" : text === "1" ? "text" : "binary";
}

/** A prebuilt run of frames (a multiple of PATTERN_PERIOD, so batches follow each other seamlessly). */
function floodBatch(size: number, kind: FloodKind) {
  const key = `${size}:${kind}`;
  let entry = floodBatches.get(key);
  if (entry === undefined) {
    const frames0 = Array.from({ length: PATTERN_PERIOD }, (_, seq) =>
      kind === "utf8"
        ? serverFrame(OPCODE_TEXT, utf8Payload(size, seq))
        : serverFrame(
            kind === "text" ? OPCODE_TEXT : OPCODE_BINARY,
            new Uint8Array(size).fill(patternByte(seq)),
          ),
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

const deflateFloods = new Map<string, Buffer>();

/**
 * The whole compressed stream of a /recv-deflate run: `count` distinct JSON messages compressed in
 * order with one context (with context takeover a message refers to earlier ones, so frames cannot
 * be repeated: each run gets its own stream, cached for the next run with the same parameters).
 * Built before the 101 answer, so the client's clock (started at "go") does not include it.
 */
function deflateFlood(size: number, count: number, params: DeflateParams): Buffer {
  const key = `${size}:${count}:${JSON.stringify(params)}`;
  let stream = deflateFloods.get(key);
  if (stream === undefined) {
    const deflater = new MessageDeflater(params);
    const frames: Buffer[] = [];
    for (let seq = 0; seq < count; seq++) {
      frames.push(serverFrame(OPCODE_TEXT, deflater.compress(Buffer.from(jsonMessage(size, seq))), true));
    }
    stream = Buffer.concat(frames);
    deflateFloods.set(key, stream);
  }
  return stream;
}

const slowJsonStreams = new Map<string, Buffer>();

/**
 * History of the /slow-json-deflate compressor: 4 KiB of the 32 KiB window, so that 50 000
 * messages compress in seconds (zlib hashes the preset dictionary on every message); the JSON
 * feed still shrinks to ~16% (150 B messages).
 */
const SLOW_JSON_HISTORY = 4 * 1024;

/**
 * The frames of a /slow-json run: `count` distinct JSON messages, compressed in order with one
 * context when `params` are given, else plain text. Built at the client's "go" (the slow-consumer
 * scenario measures memory, not time; before the 101 it could outlast a handshake timeout), and
 * cached for the next run with the same parameters.
 */
function slowJsonStream(size: number, count: number, params: DeflateParams | undefined): Buffer {
  const key = `${size}:${count}:${JSON.stringify(params ?? "plain")}`;
  let stream = slowJsonStreams.get(key);
  if (stream === undefined) {
    const deflater = params !== undefined ? new MessageDeflater(params, SLOW_JSON_HISTORY) : undefined;
    const frames: Buffer[] = [];
    for (let seq = 0; seq < count; seq++) {
      const message = Buffer.from(jsonMessage(size, seq));
      frames.push(
        deflater !== undefined
          ? serverFrame(OPCODE_TEXT, deflater.compress(message), true)
          : serverFrame(OPCODE_TEXT, message),
      );
    }
    stream = Buffer.concat(frames);
    slowJsonStreams.set(key, stream);
  }
  return stream;
}

/** Writes `stream` in FLOOD_BATCH_BYTES slices with drain backpressure. */
async function floodStream(socket: Socket, stream: Buffer): Promise<void> {
  for (let at = 0; at < stream.length && !socket.destroyed; at += FLOOD_BATCH_BYTES) {
    if (!socket.write(stream.subarray(at, at + FLOOD_BATCH_BYTES))) await drainOrClose(socket);
  }
}

/** The messages a /sink-deflate client sends, end to end: JSON_SEND_CYCLE documents, repeated. */
const sinkReferences = new Map<number, Buffer>();
function sinkReference(size: number): Buffer {
  let reference = sinkReferences.get(size);
  if (reference === undefined) {
    reference = Buffer.from(
      Array.from({ length: JSON_SEND_CYCLE }, (_, seq) => jsonMessage(size, seq)).join(""),
    );
    sinkReferences.set(size, reference);
  }
  return reference;
}

async function flood(socket: Socket, size: number, count: number, kind: FloodKind): Promise<void> {
  const { batch, frameLength, frames } = floodBatch(size, kind);
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
  private readonly reader: FrameReader;
  private parts: Buffer[] = [];
  private started = false;
  /** /sink: reads and verifies frames itself, cheaper per frame than FrameReader (see sink.ts). */
  private readonly patternSink: PatternSink | undefined;
  private seq = 0;
  private failed = false;

  // /sink-deflate state
  private readonly inflater: StreamVerifier | undefined;
  private inflating = false;
  private answered = false;
  private currentMask: Uint8Array | undefined;

  /**
   * `deflateStream`: for /recv-deflate, the prebuilt compressed frames to send after "go";
   * `streamOnGo`: for /slow-json, makes the frames to send after "go".
   */
  constructor(
    private readonly socket: Socket,
    private readonly path: string,
    private readonly params: URLSearchParams,
    deflate = false,
    private readonly deflateStream?: Buffer,
    private readonly streamOnGo?: () => Buffer,
  ) {
    this.reader = new FrameReader(this, deflate);
    if (path === "/sink") {
      this.patternSink = new PatternSink(
        Number(params.get("size")),
        Number(params.get("count")),
        {
          control: (opcode, payload) => this.control(opcode, payload),
          done: (count, bytes) => this.write(serverFrame(OPCODE_TEXT, Buffer.from(`ok ${count} ${bytes}`))),
          fail: (reason) => this.fail(reason),
        },
        params.get("fragments") === "1",
      );
    }
    if (path === "/sink-deflate") {
      const size = Number(params.get("size"));
      this.inflater = new StreamVerifier(
        sinkReference(size),
        size,
        () => this.maybeDeflateVerdict(),
        (reason) => this.fail(reason),
      );
      socket.once("close", () => this.inflater?.close());
    }
  }

  data(chunk: Buffer): void {
    if (this.patternSink !== undefined) {
      this.patternSink.push(chunk);
      return;
    }
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.fail(`bad frame: ${(error as Error).message}`);
      return;
    }
    // One zlib job per TCP read; if zlib falls behind, stop reading until it catches up.
    if (this.inflater !== undefined && !this.inflater.flush()) {
      this.socket.pause();
      void this.inflater.drained().then(() => this.socket.resume());
    }
  }

  frameStart(header: ClientFrameHeader): void {
    this.currentMask = header.mask;
    this.parts = [];
    this.inflating = false;
    if (this.inflater !== undefined && header.opcode < OPCODE_CLOSE && !this.failed) {
      // Every message must arrive compressed (both libraries compress messages of 1024 bytes and
      // more), whole, as text: otherwise this would not measure what it says.
      if (header.opcode !== OPCODE_TEXT || !header.fin || !header.rsv1) {
        this.fail(`message ${this.seq}: opcode ${header.opcode} fin ${header.fin} rsv1 ${header.rsv1}`);
        return;
      }
      this.inflating = true;
    }
  }

  payload(segment: Uint8Array, offset: number): void {
    if (this.inflating) {
      this.inflater!.append(unmaskCopy(segment, this.currentMask!, offset));
      return;
    }
    this.parts.push(Buffer.from(segment));
  }

  frameEnd(header: ClientFrameHeader): void {
    const masked = Buffer.concat(this.parts);
    this.parts = [];
    if (header.opcode >= OPCODE_CLOSE) {
      this.control(header.opcode, unmaskCopy(masked, header.mask, 0));
      return;
    }
    if (this.path === "/echo") {
      this.write(serverFrame(header.opcode, unmaskCopy(masked, header.mask, 0)));
    } else if (this.inflating) {
      this.inflating = false;
      this.inflater!.endMessage();
      this.seq++;
      if (this.seq > Number(this.params.get("count")))
        this.fail(`more than ${this.params.get("count")} messages`);
      else this.maybeDeflateVerdict();
    } else if (this.streamOnGo !== undefined && !this.started) {
      this.started = true;
      floodStream(this.socket, this.streamOnGo()).catch(() => this.socket.destroy());
    } else if (this.path === "/recv-deflate" && !this.started) {
      this.started = true;
      floodStream(this.socket, this.deflateStream!).catch(() => this.socket.destroy());
    } else if (this.path === "/recv" && !this.started) {
      this.started = true;
      const size = Number(this.params.get("size"));
      const count = Number(this.params.get("count"));
      flood(this.socket, size, count, floodKind(this.params.get("text"))).catch(() => this.socket.destroy());
    }
  }

  /** Answers a close (echoing its code, then ending the stream) or a ping; ignores a pong. */
  private control(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE_CLOSE) {
      this.write(serverFrame(OPCODE_CLOSE, payload.subarray(0, 2)));
      this.socket.end();
    } else if (opcode === OPCODE_PING) {
      this.write(serverFrame(OPCODE_PONG, payload));
    }
  }

  /** Answers "ok COUNT BYTES" once every message arrived and all of its inflated bytes matched. */
  private maybeDeflateVerdict(): void {
    const count = Number(this.params.get("count"));
    const bytes = count * Number(this.params.get("size"));
    if (this.failed || this.answered || this.seq !== count) return;
    const verified = this.inflater!.verifiedBytes;
    if (verified > bytes) this.fail(`inflated ${verified} bytes, expected ${bytes}`);
    else if (verified === bytes) {
      this.answered = true;
      this.write(serverFrame(OPCODE_TEXT, Buffer.from(`ok ${this.seq} ${verified}`)));
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
      const deflate = url.pathname.endsWith("-deflate");
      const agreement = deflate
        ? negotiateDeflate(request.headers.get("sec-websocket-extensions"))
        : undefined;
      if (deflate && agreement === undefined) throw new Error("the client did not offer permessage-deflate");
      const stream =
        url.pathname === "/recv-deflate" && agreement !== undefined
          ? deflateFlood(
              Number(url.searchParams.get("size")),
              Number(url.searchParams.get("count")),
              agreement.params,
            )
          : undefined;
      const size = Number(url.searchParams.get("size"));
      const count = Number(url.searchParams.get("count"));
      const streamOnGo = url.pathname.startsWith("/slow-json")
        ? () => slowJsonStream(size, count, agreement?.params)
        : undefined;
      socket.write(upgradeResponse(request, agreement?.header));
      session = new Session(socket, url.pathname, url.searchParams, deflate, stream, streamOnGo);
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
