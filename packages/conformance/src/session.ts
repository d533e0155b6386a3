/**
 * One case on one connection: the server's side of the conversation. The case writes frames through
 * it (whole, chopped, with pauses); it parses what the client sends back with the core's
 * `MessageReader` (server role: masked frames expected) and records everything the
 * judge needs in an `Observation`. It also plays the server's fixed part of the close handshake:
 * answer a client close, close TCP after the handshake, notice a client that never lets go.
 */
import type { Socket } from "node:net";
import { CloseCode, Opcode, type WsEvent } from "@tideway/core";
import { defaultUtf8, MessageReader } from "@tideway/core/internals";
import { ClientInflater, compressedFrames, type Negotiation, ServerDeflater } from "./deflate.js";
import type { Observation } from "./types.js";
import { closePayload, type RawFrameSpec, rawFrame } from "./wire.js";

const encoder = new TextEncoder();

/** After the server ends TCP, the client has this long to close its side before it counts as hung. */
export const TCP_CLOSE_GRACE_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A fresh observation: nothing seen yet. */
export function emptyObservation(o: Partial<Observation> = {}): Observation {
  return {
    items: [],
    pings: 0,
    clientClose: undefined,
    clientStartedClose: false,
    serverCloseAt: undefined,
    clientTcpEndAt: undefined,
    serverTcpEndAt: undefined,
    hungAfterServerClose: false,
    violations: [],
    marks: new Map(),
    ...o,
  };
}

export class Session {
  readonly obs: Observation = emptyObservation();
  /** The client did not do its part (echo, fail, answer the close) within the case's time. */
  timedOut = false;

  readonly #socket: Socket;
  /**
   * The core's reader in the server role: it checks the client's frames (masked, no RSV bits unless
   * permessage-deflate was negotiated, valid lengths, UTF-8, close codes), inflates compressed ones
   * and reassembles its messages. 256 MiB: far above the largest echo.
   */
  readonly #reader: MessageReader;
  readonly #inflater: ClientInflater | undefined;
  /** The server's compressor, when permessage-deflate was negotiated. */
  readonly #deflater: ServerDeflater | undefined;
  #readerFailed = false;
  readonly #t0 = performance.now();
  readonly #waiters = new Set<() => void>();
  #closed: Promise<void>;
  #destroyed = false;

  /** Set by a case that must not close TCP after the close handshake (see the "linger" expectation). */
  lingerAfterClose = false;

  /**
   * `initial`: bytes that arrived with the request head (the client's first frames, if any).
   * `deflate`: the permessage-deflate negotiation of a compression case.
   */
  constructor(socket: Socket, initial?: Uint8Array, deflate?: Negotiation) {
    this.#socket = socket;
    const params = deflate?.params;
    this.#inflater = params === undefined ? undefined : new ClientInflater(params);
    this.#deflater = params === undefined ? undefined : new ServerDeflater(params);
    this.#reader = new MessageReader({
      expectMasked: true,
      maxPayload: 256 * 2 ** 20,
      utf8: defaultUtf8,
      ...(this.#inflater !== undefined ? { codec: this.#inflater } : {}),
    });
    if (deflate !== undefined) {
      this.obs.deflate = { offered: deflate.offered, answer: deflate.answer, compressedMessages: 0 };
    }
    socket.setNoDelay(true);
    this.#closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#tcpEnded());
    // A close we caused by destroying the socket is not the client's doing.
    socket.on("close", () => {
      if (!this.#destroyed) this.#tcpEnded();
    });
    // ECONNRESET and friends: the client dropped the connection; "close" follows and records it.
    socket.on("error", () => {});
    if (initial !== undefined && initial.length > 0) this.#onData(initial);
  }

  /** Milliseconds since the case started. */
  now(): number {
    return Math.round((performance.now() - this.#t0) * 10) / 10;
  }

  /** The client has sent its close frame or ended TCP: it is done with this connection. */
  get clientDone(): boolean {
    return this.obs.clientClose !== undefined || this.obs.clientTcpEndAt !== undefined;
  }

  mark(name: string): void {
    this.obs.marks.set(name, this.now());
  }

  /** Writes raw bytes, if the connection is still writable. */
  write(bytes: Uint8Array): void {
    if (this.#socket.writable) this.#socket.write(bytes);
  }

  /** Builds and writes one frame; see `rawFrame` for what may be invalid in it. */
  send(opcode: number, payload: Uint8Array | string, spec?: RawFrameSpec): void {
    this.write(rawFrame(opcode, typeof payload === "string" ? encoder.encode(payload) : payload, spec));
  }

  text(payload: Uint8Array | string, spec?: RawFrameSpec): void {
    this.send(Opcode.Text, payload, spec);
  }

  binary(payload: Uint8Array, spec?: RawFrameSpec): void {
    this.send(Opcode.Binary, payload, spec);
  }

  ping(payload: Uint8Array | string = ""): void {
    this.send(Opcode.Ping, payload);
  }

  /** Sends a close frame with this code and reason, or `payload` bytes as given (for invalid ones). */
  close(code?: number, reason: Uint8Array | string = "", payload?: Uint8Array): void {
    if (this.obs.serverCloseAt === undefined) this.obs.serverCloseAt = this.now();
    this.send(Opcode.Close, payload ?? closePayload(code, reason));
  }

  /**
   * Writes `bytes` in pieces of `chop` bytes, yielding to the event loop (or sleeping `delayMs`)
   * between pieces, so the client really receives them in separate reads.
   */
  async chopped(bytes: Uint8Array, chop: number, delayMs = 0): Promise<void> {
    for (let at = 0; at < bytes.length; at += chop) {
      if (!this.#socket.writable) return;
      this.write(bytes.subarray(at, at + chop));
      await (delayMs > 0 ? sleep(delayMs) : new Promise<void>((resolve) => setImmediate(resolve)));
    }
  }

  /** permessage-deflate was negotiated on this connection. */
  get compressing(): boolean {
    return this.#deflater !== undefined;
  }

  /**
   * The frames of `payload` compressed with the connection's compressor (its context moves on), in
   * fragments of `fragmentSize` compressed bytes when given. Throws when nothing was negotiated.
   */
  async compressedFrames(opcode: number, payload: Uint8Array, fragmentSize?: number): Promise<Uint8Array[]> {
    if (this.#deflater === undefined) throw new Error("permessage-deflate was not negotiated");
    return compressedFrames(opcode, await this.#deflater.compress(payload), fragmentSize);
  }

  /** Writes each frame separately with a pause between them ("frame-wise" delivery). */
  async frameWise(frames: readonly Uint8Array[], delayMs = 5): Promise<void> {
    for (const f of frames) {
      this.write(f);
      await sleep(delayMs);
    }
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }

  /** Resolves true as soon as `done()` holds, false after `timeoutMs`. */
  waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        resolve(done());
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Waits for the client to close (close frame or TCP end). */
  waitForClientDone(timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.clientDone, timeoutMs);
  }

  /**
   * The server's last move after a close handshake (or a failure): end TCP, as RFC 6455 section 7.1.1
   * wants ("the underlying TCP connection ... SHOULD be closed first by the server"), then give the
   * client `TCP_CLOSE_GRACE_MS` to close its side. A client that does not is recorded as hung.
   */
  async endTcp(): Promise<void> {
    if (this.obs.serverTcpEndAt === undefined) {
      this.obs.serverTcpEndAt = this.now();
      this.#socket.end();
    }
    const closed = await Promise.race([
      this.#closed.then(() => true),
      sleep(TCP_CLOSE_GRACE_MS).then(() => false),
    ]);
    if (!closed) {
      this.obs.hungAfterServerClose = true;
      this.destroy();
    }
  }

  destroy(): void {
    this.#destroyed = true;
    this.#socket.destroy();
  }

  /** Releases the compressor (zlib memory) once the case is over. */
  release(): void {
    this.#deflater?.close();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  #tcpEnded(): void {
    if (this.obs.clientTcpEndAt === undefined) this.obs.clientTcpEndAt = this.now();
    this.#notify();
  }

  #onData(chunk: Uint8Array): void {
    const events: WsEvent[] = [];
    if (!this.#readerFailed) {
      try {
        this.#reader.read(chunk, events);
      } catch (err) {
        // The core's reader names the violation (unmasked frame, RSV bits, bad length, ...). Events
        // completed before the bad byte are in `events` and still count.
        this.#readerFailed = true;
        this.obs.violations.push((err as Error).message);
      }
    }
    for (const e of events) this.#onEvent(e);
    if (this.obs.deflate !== undefined && this.#inflater !== undefined) {
      this.obs.deflate.compressedMessages = this.#inflater.compressedMessages;
    }
    this.#notify();
  }

  #onEvent(e: WsEvent): void {
    if (this.obs.clientClose !== undefined) {
      this.obs.violations.push(`${e.type} frame sent after the client's close frame`);
      return;
    }
    switch (e.type) {
      case "text":
        this.#addItem("text", encoder.encode(e.data));
        return;
      case "binary":
        // A copy: the reader's data may alias the socket chunk.
        this.#addItem("binary", e.data.slice());
        return;
      case "ping":
        this.obs.pings++;
        if (this.obs.serverCloseAt === undefined) this.send(Opcode.Pong, e.data.slice());
        return;
      case "pong":
        this.#addItem("pong", e.data.slice());
        return;
      case "close":
        this.#onClose(e.code === CloseCode.NoStatusReceived ? undefined : e.code, e.reason);
        return;
      default:
        return;
    }
  }

  #addItem(type: "text" | "binary" | "pong", data: Uint8Array): void {
    this.obs.items.push({ type, data });
  }

  #onClose(code: number | undefined, reason: string): void {
    this.obs.clientClose = { code, reason, at: this.now() };
    // A close started by the client (it failed the connection): answer it, as a server does, echoing
    // the code; then end TCP. A close answering ours: the handshake is complete, end TCP.
    if (this.obs.serverCloseAt === undefined) {
      this.obs.clientStartedClose = true;
      this.obs.serverCloseAt = this.now();
      this.send(Opcode.Close, closePayload(code));
    }
    if (!this.lingerAfterClose) void this.endTcp();
  }
}
