/**
 * A minimal reconnecting client on the `ws` npm package, with the shape of Tideway's
 * `WebSocketClient` that the interop tests use. It is the control group of the harness: if a test
 * fails with it too, suspect the harness, not Tideway. It reconnects after a fixed delay, yields text
 * messages from every connection in one iterator, and settles each send() when `ws` has written it
 * (or failed to).
 */
import WebSocket from "ws";

export interface ReferenceClientOptions {
  /** Delay before reconnecting after an unexpected close, in ms. */
  readonly reconnectDelay: number;
  readonly protocols?: string[];
  readonly headers?: Record<string, string>;
  readonly ca?: string;
}

type Listener = (...args: unknown[]) => void;

export class ReferenceClient implements AsyncIterable<string | Uint8Array> {
  readonly #url: string;
  readonly #options: ReferenceClientOptions;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #queue: Array<string | Uint8Array> = [];
  #wake: (() => void) | undefined;
  #ws: WebSocket | undefined;
  #closing = false;
  #ended = false;

  constructor(url: string, options: ReferenceClientOptions) {
    this.#url = url;
    this.#options = options;
  }

  on(event: string, listener: Listener): this {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(...args);
  }

  /** Opens the first connection; later ones are opened by the reconnect loop. */
  connect(): Promise<{ protocol: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.#url, this.#options.protocols ?? [], {
        headers: this.#options.headers,
        ca: this.#options.ca,
        perMessageDeflate: false,
      });
      this.#ws = ws;
      ws.on("open", () => {
        this.#emit("open");
        resolve({ protocol: ws.protocol });
      });
      ws.on("message", (data, isBinary) => {
        this.#queue.push(isBinary ? new Uint8Array(data as Buffer) : String(data));
        this.#wake?.();
      });
      ws.on("error", (error) => {
        if (ws.readyState !== WebSocket.OPEN) reject(error);
      });
      ws.on("close", (code, reason) => {
        this.#emit("close", { code, reason: String(reason) });
        if (this.#closing) {
          this.#ended = true;
          this.#wake?.();
          return;
        }
        this.#emit("reconnecting");
        setTimeout(() => {
          if (!this.#closing) this.connect().catch(() => {});
        }, this.#options.reconnectDelay);
      });
    });
  }

  send(data: string | Uint8Array): Promise<void> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("not open"));
    return new Promise((resolve, reject) => ws.send(data, (error) => (error ? reject(error) : resolve())));
  }

  close(code = 1000, reason = ""): Promise<void> {
    this.#closing = true;
    const ws = this.#ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) {
      this.#ended = true;
      this.#wake?.();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      ws.once("close", () => resolve());
      ws.close(code, reason);
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string | Uint8Array> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
