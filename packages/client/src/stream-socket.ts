/**
 * A `WebSocket` over the runtime's `WebSocketStream` (Chromium), for browser-connection.ts: messages
 * are read only while the consumer keeps up (a promise returned by `onmessage` holds the next read, so
 * the browser stops reading the socket and TCP pushes back on the server), and `send()` resolves when
 * the write is done.
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

type WebSocketStreamConstructor = new (url: string, options: { protocols: string[] }) => WebSocketStreamLike;

/** The runtime's globals: `WebSocketStream` where it has one (browser-connection.ts checks). */
export type StreamGlobals = { WebSocketStream?: WebSocketStreamConstructor };

const ignore = (): void => {};

/** The part of `WebSocket` that browser-connection.ts uses, over a WebSocketStream. */
export class StreamSocket {
  /** Set by the connection before any event. */
  declare onopen: () => void;
  /** A binary message comes as its bytes (or an ArrayBuffer). What it returns is awaited before the next read. */
  declare onmessage: (event: { data: string | ArrayBuffer | Uint8Array }) => void | PromiseLike<void>;
  /** A failed opening closes as 1006, not clean; it fires no error event. */
  declare onclose: (event: { code: number; reason: string; wasClean: boolean }) => void;
  declare protocol: string;
  declare extensions: string;
  /** Bytes of the writes not yet done. */
  bufferedAmount = 0;
  readonly #stream: WebSocketStreamLike;
  #writer: WritableStreamDefaultWriter<string | Uint8Array> | undefined;

  constructor(url: string, protocols: string[]) {
    const stream = (this.#stream = new (
      (globalThis as StreamGlobals).WebSocketStream as WebSocketStreamConstructor
    )(url, { protocols }));
    stream.opened.then((s) => {
      this.protocol = s.protocol;
      this.extensions = s.extensions;
      this.#writer = s.writable.getWriter();
      this.onopen();
      // One message in the sink at a time: the pipe reads the next once onmessage's promise settles.
      s.readable.pipeTo(new WritableStream({ write: (data) => this.onmessage({ data }) })).catch(ignore);
    }, ignore);
    stream.closed.then(
      (c) => this.onclose({ code: c.closeCode ?? 1005, reason: c.reason ?? "", wasClean: true }),
      () => this.onclose({ code: 1006, reason: "", wasClean: false }),
    );
  }

  /**
   * Resolves when the message is written; rejects if the stream failed or closed first, for whoever
   * awaits: a send nobody awaits (a heartbeat's) never leaves an unhandled rejection.
   */
  send(data: string | Uint8Array): Promise<void> {
    // A string counts its length; bytes their byteLength, which is a Uint8Array's length.
    const size = data.length;
    this.bufferedAmount += size;
    const written = (this.#writer as WritableStreamDefaultWriter<string | Uint8Array>)
      .write(data)
      .finally(() => {
        this.bufferedAmount -= size;
      });
    // A failed write means the stream is closing: its close event tells the connection.
    written.catch(ignore);
    return written;
  }

  close(code?: number, reason?: string): void {
    this.#stream.close({ closeCode: code, reason });
  }
}
