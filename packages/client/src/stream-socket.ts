/**
 * A `WebSocket` over the runtime's `WebSocketStream` (Chromium), for browser-connection.ts: messages
 * are read only while the consumer keeps up (`pause()` stops pulling, so the browser stops reading
 * the socket and TCP pushes back on the server), and `send()` resolves when the write is done.
 */

/** The close of a WebSocketStream, or how its opening failed. */
interface StreamCloseInfo {
  closeCode?: number;
  reason?: string;
}

/** The WHATWG WebSocketStream, as far as used here. */
interface WebSocketStreamLike {
  readonly opened: Promise<{
    readable: ReadableStream<string | ArrayBuffer | Uint8Array>;
    writable: WritableStream<string | Uint8Array>;
    protocol: string;
    extensions: string;
  }>;
  readonly closed: Promise<StreamCloseInfo>;
  close(info?: StreamCloseInfo): void;
}

/** The `WebSocketStream` constructor, where the runtime has one. */
export type WebSocketStreamConstructor = new (
  url: string,
  options?: { protocols?: string[] },
) => WebSocketStreamLike;

/** The runtime's WebSocketStream, if any. */
export function webSocketStream(): WebSocketStreamConstructor | undefined {
  return (globalThis as { WebSocketStream?: WebSocketStreamConstructor }).WebSocketStream;
}

type Handler<E> = ((event: E) => void) | null;

/** The part of `WebSocket` that browser-connection.ts uses, over a WebSocketStream. */
export class StreamSocket {
  binaryType = "arraybuffer";
  protocol = "";
  extensions = "";
  /** Bytes of the writes not yet done. */
  bufferedAmount = 0;
  onopen: Handler<unknown> = null;
  onmessage: Handler<{ data: string | ArrayBuffer }> = null;
  onclose: Handler<{ code: number; reason: string; wasClean: boolean }> = null;
  onerror: Handler<unknown> = null;
  readonly #stream: WebSocketStreamLike;
  #reader: ReadableStreamDefaultReader<string | ArrayBuffer | Uint8Array> | undefined;
  #writer: WritableStreamDefaultWriter<string | Uint8Array> | undefined;
  #paused = false;
  #reading = false;

  constructor(url: string, protocols: string[]) {
    const WebSocketStream = webSocketStream() as WebSocketStreamConstructor;
    this.#stream = new WebSocketStream(url, { protocols });
    this.#stream.opened.then(
      (s) => {
        this.protocol = s.protocol;
        this.extensions = s.extensions;
        this.#reader = s.readable.getReader();
        this.#writer = s.writable.getWriter();
        this.onopen?.({});
        void this.#pull();
      },
      () => this.onerror?.({}),
    );
    this.#stream.closed.then(
      (c) => this.onclose?.({ code: c.closeCode ?? 1005, reason: c.reason ?? "", wasClean: true }),
      () => this.onclose?.({ code: 1006, reason: "", wasClean: false }),
    );
  }

  /** Resolves when the message is written; rejects if the stream failed or closed first. */
  send(data: string | Uint8Array): Promise<void> {
    const writer = this.#writer as WritableStreamDefaultWriter<string | Uint8Array>;
    const size = typeof data === "string" ? data.length : data.byteLength;
    this.bufferedAmount += size;
    return writer.write(data).finally(() => {
      this.bufferedAmount -= size;
    });
  }

  close(code?: number, reason?: string): void {
    this.#stream.close({ closeCode: code, reason });
  }

  /** Stops reading: what the server sends next waits in the browser's and the kernel's buffers. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    void this.#pull();
  }

  /** Reads one message at a time while not paused; the `closed` promise reports the end. */
  async #pull(): Promise<void> {
    const reader = this.#reader;
    if (this.#reading || reader === undefined) return;
    this.#reading = true;
    try {
      while (!this.#paused) {
        const { value, done } = await reader.read();
        if (done) break;
        // Binary messages come as bytes (older Chromium: an ArrayBuffer); the connection takes a buffer.
        const data =
          typeof value === "string" || value instanceof ArrayBuffer
            ? value
            : (value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer);
        this.onmessage?.({ data });
      }
    } catch {
      // The stream errored: `closed` rejects and reports it.
    } finally {
      this.#reading = false;
    }
  }
}
