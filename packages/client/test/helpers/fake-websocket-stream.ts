/**
 * A WebSocketStream stand-in (Node has none): the test enqueues messages from the "server", controls
 * when each write completes, and settles `opened` and `closed`.
 */
export class FakeWebSocketStream {
  static last: FakeWebSocketStream | undefined;
  readonly url: string;
  readonly protocols: string[] | undefined;
  readonly written: (string | Uint8Array)[] = [];
  /** Completes the oldest pending write. */
  readonly pendingWrites: (() => void)[] = [];
  closedWith: { closeCode?: number; reason?: string } | undefined;
  readonly opened: Promise<unknown>;
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  #server!: ReadableStreamDefaultController<string | Uint8Array>;
  #open!: (value: unknown) => void;
  #failOpen!: (err: Error) => void;
  #close!: (info: { closeCode?: number; reason?: string }) => void;
  #fail!: (err: Error) => void;
  #writes!: WritableStreamDefaultController;
  /** Rejects the writes begun, for {@link breakWrites} (a no-op for those completed). */
  #failWrites: ((err: Error) => void)[] = [];

  constructor(url: string, options?: { protocols?: string[] }) {
    this.url = url;
    this.protocols = options?.protocols;
    FakeWebSocketStream.last = this;
    this.opened = new Promise((resolve, reject) => {
      this.#open = resolve;
      this.#failOpen = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.#close = resolve;
      this.#fail = reject;
    });
    // Rejections the code under test may not observe (a stream that never opened).
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  /** The handshake succeeds: the streams become readable and writable. */
  accept(protocol = ""): void {
    const readable = new ReadableStream<string | Uint8Array>(
      { start: (c) => void (this.#server = c) },
      { highWaterMark: 0 },
    );
    const writable = new WritableStream<string | Uint8Array>({
      start: (c) => void (this.#writes = c),
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          this.written.push(chunk);
          this.pendingWrites.push(resolve);
          this.#failWrites.push(reject);
        }),
    });
    this.#open({ readable, writable, protocol, extensions: "" });
  }

  /** A message from the server, queued in the readable stream until read. */
  receive(message: string | Uint8Array): void {
    this.#server.enqueue(message);
  }

  /** The writable fails, as while the stream closes: the write in progress and every later one reject. */
  breakWrites(): void {
    const error = new Error("closing");
    this.#writes.error(error);
    for (const reject of this.#failWrites.splice(0)) reject(error);
  }

  /** The server closed cleanly. */
  end(closeCode: number, reason: string): void {
    this.#close({ closeCode, reason });
  }

  /** The connection failed (before or after opening). */
  fail(): void {
    this.#failOpen(new Error("failed"));
    this.#fail(new Error("failed"));
  }

  close(info?: { closeCode?: number; reason?: string }): void {
    this.closedWith = info;
    this.#close({ closeCode: info?.closeCode ?? 1005, reason: info?.reason ?? "" });
  }
}
