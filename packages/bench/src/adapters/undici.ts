// undici 7's WHATWG WebSocket, as a careful user drives it. The WHATWG API has no send callback
// and no drain event, so the only backpressure signal is polling `bufferedAmount`.
import { WebSocket } from "undici";
import { type Adapter, type BenchConnection, type BenchMessage, SEND_HIGH_WATER_MARK } from "./types.js";

/** Resolves once `socket.bufferedAmount` is 0, checking once per event-loop turn (after I/O). */
function drained(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (socket.readyState !== WebSocket.OPEN) reject(new Error("closed while sending"));
      else if (socket.bufferedAmount === 0) resolve();
      else setImmediate(check);
    };
    setImmediate(check);
  });
}

class UndiciConnection implements BenchConnection {
  private handler: (data: BenchMessage) => void = () => {};
  private closeHandler: (reason: string) => void = () => {};
  private closing = false;

  constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => this.handler(event.data as BenchMessage));
    socket.addEventListener("close", (event) => {
      if (!this.closing) this.closeHandler(`closed ${event.code} ${event.reason}`);
    });
  }

  onMessage(handler: (data: BenchMessage) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
  }

  send(data: Uint8Array | string): Promise<void> | undefined {
    this.socket.send(data);
    return this.socket.bufferedAmount < SEND_HIGH_WATER_MARK ? undefined : drained(this.socket);
  }

  close(): Promise<void> {
    this.closing = true;
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.addEventListener("close", () => resolve(), { once: true });
      this.socket.close(1000);
    });
  }
}

export async function load(): Promise<Adapter> {
  return {
    name: "undici",
    // undici always offers permessage-deflate (it inflates what it receives but never compresses
    // what it sends), so the connect options have nothing to choose; it has no async iterator, so
    // `iterate` measures its message event.
    connect: (url) =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(url);
        // The default binaryType is "blob", which a user reading bytes would not keep.
        socket.binaryType = "arraybuffer";
        const onError = () => reject(new Error(`undici could not connect to ${url}`));
        socket.addEventListener("error", onError, { once: true });
        socket.addEventListener(
          "open",
          () => {
            socket.removeEventListener("error", onError);
            resolve(new UndiciConnection(socket));
          },
          { once: true },
        );
      }),
  };
}
