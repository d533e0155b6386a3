// `ws` as a careful user drives it. Shared by the "ws" and "ws-nobu" adapters, which differ only
// in the environment the driver starts them with (WS_NO_BUFFER_UTIL / WS_NO_UTF_8_VALIDATE).
import { createRequire } from "node:module";
import WebSocket from "ws";
import {
  type Adapter,
  type BenchConnection,
  type BenchMessage,
  SEND_HIGH_WATER_MARK,
  UNCOMPRESSED,
} from "./types.js";

/** Whether `ws` actually loaded its native mask/unmask addon in this process. */
export function bufferutilLoaded(): boolean {
  const cache = createRequire(import.meta.url).cache;
  return Object.keys(cache).some((path) => path.includes("/bufferutil/"));
}

class WsConnection implements BenchConnection {
  private handler: (data: BenchMessage) => void = () => {};
  private closeHandler: (reason: string) => void = () => {};
  private closing = false;
  private error: Error | undefined;

  constructor(private readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary: boolean) =>
      this.handler(isBinary ? data : data.toString()),
    );
    socket.on("close", (code: number, reason: Buffer) => {
      if (!this.closing) this.closeHandler(`closed ${code} ${reason.toString()}`);
    });
    socket.on("error", (error: Error) => {
      this.error ??= error;
    });
  }

  onMessage(handler: (data: BenchMessage) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
  }

  send(data: Uint8Array | string): Promise<void> | undefined {
    if (this.error !== undefined) throw this.error;
    // `ws` has no drain event: the send callback is the documented way to learn that this frame
    // (and so every frame before it) was written to the socket.
    if (this.socket.bufferedAmount < SEND_HIGH_WATER_MARK) {
      this.socket.send(data, this.onSent);
      return undefined;
    }
    return new Promise((resolve, reject) => {
      this.socket.send(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** `fin: false` sends of each chunk under the shared policy, then an empty FIN frame. */
  async sendStream(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const socket = this.socket;
    for await (const chunk of chunks) {
      if (this.error !== undefined) throw this.error;
      if (socket.bufferedAmount < SEND_HIGH_WATER_MARK)
        socket.send(chunk, { binary: true, fin: false }, this.onSent);
      else {
        await new Promise<void>((resolve, reject) =>
          socket.send(chunk, { binary: true, fin: false }, (error) => (error ? reject(error) : resolve())),
        );
      }
    }
    await new Promise<void>((resolve, reject) =>
      socket.send(new Uint8Array(0), { binary: true, fin: true }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  private readonly onSent = (error?: Error) => {
    if (error) this.error ??= error;
  };

  close(): Promise<void> {
    this.closing = true;
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close(1000);
    });
  }
}

export function wsAdapter(name: string): Adapter {
  return {
    name,
    // `iterate`: ws has no async iterator, so its users' path, the message event, is measured.
    connect: (url, { perMessageDeflate, defaults = false } = UNCOMPRESSED) =>
      new Promise((resolve, reject) => {
        // perMessageDeflate: true is ws's default offer (threshold 1024, zlib level default,
        // context takeover, client_max_window_bits); false for the uncompressed scenarios.
        // `defaults`: no options at all (ws offers permessage-deflate and has no heartbeat).
        const socket = defaults ? new WebSocket(url) : new WebSocket(url, { perMessageDeflate });
        socket.once("open", () => {
          socket.off("error", reject);
          resolve(new WsConnection(socket));
        });
        socket.once("error", reject);
      }),
  };
}
