// Tideway's own client, loaded from the workspace package @tideway/client: in a bench worker that is
// the BUILT package (dist/, through the package's `exports`), as users run it (see ../build.ts);
// under vitest the root config aliases it to the sources.
import {
  type Adapter,
  AdapterUnavailableError,
  type BenchConnection,
  type BenchMessage,
  SEND_HIGH_WATER_MARK,
  UNCOMPRESSED,
} from "./types.js";

/** The part of the client API this adapter uses, declared here so the bench does not break while it evolves. */
interface TidewayClient {
  connect(): Promise<unknown>;
  on(event: "message", listener: (data: string | Uint8Array) => void): unknown;
  on(event: "close", listener: (...args: unknown[]) => void): unknown;
  on(event: "error", listener: (error: unknown) => void): unknown;
  send(data: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<void>;
  readonly bufferedAmount: number;
  close(): Promise<unknown>;
  [Symbol.asyncIterator](): AsyncIterator<string | Uint8Array>;
}
type TidewayClientClass = new (
  url: string,
  options: { heartbeat?: false; reconnect: false; binaryType: "uint8array"; perMessageDeflate?: boolean },
) => TidewayClient;

class TidewayConnection implements BenchConnection {
  private handler: (data: BenchMessage) => void = () => {};
  private closeHandler: (reason: string) => void = () => {};
  private closing = false;
  private error: unknown;

  constructor(
    private readonly client: TidewayClient,
    iterate: boolean,
  ) {
    if (iterate) void this.iterate();
    else client.on("message", (data) => this.handler(data));
    client.on("close", (...args) => {
      const describe = (a: unknown) => (typeof a === "object" ? JSON.stringify(a) : String(a));
      if (!this.closing) this.closeHandler(`closed ${args.map(describe).join(" ")}`);
    });
    client.on("error", (error) => {
      this.error ??= error;
    });
  }

  /** `for await` until the client closes; an error ends it, and the close event reports it. */
  private async iterate(): Promise<void> {
    try {
      for await (const data of this.client) this.handler(data);
    } catch (error) {
      this.error ??= error;
    }
  }

  onMessage(handler: (data: BenchMessage) => void): void {
    this.handler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
  }

  send(data: Uint8Array | string): Promise<void> | undefined {
    if (this.error !== undefined) throw this.error;
    // send() resolves when the frame is handed to the OS: below the high-water mark we do not wait
    // for it (so frames sent in one tick can share a write), above it we do. An ignored send
    // promise never becomes an unhandled rejection (documented); a failure reaches us through
    // the error and close events.
    if (this.client.bufferedAmount < SEND_HIGH_WATER_MARK) {
      this.client.send(data);
      return undefined;
    }
    return this.client.send(data);
  }

  /** The client pulls the chunks itself as its socket drains, and resolves once the last is written. */
  sendStream(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.error !== undefined) throw this.error;
    return this.client.send(chunks);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.client.close();
  }
}

export async function load(): Promise<Adapter> {
  let WebSocketClient: TidewayClientClass | undefined;
  try {
    const module = (await import("@tideway/client")) as { WebSocketClient?: TidewayClientClass };
    WebSocketClient = module.WebSocketClient;
  } catch (error) {
    throw new AdapterUnavailableError(`@tideway/client did not load: ${(error as Error).message}`);
  }
  if (typeof WebSocketClient !== "function") {
    throw new AdapterUnavailableError("@tideway/client does not export WebSocketClient yet");
  }
  const Client = WebSocketClient;
  return {
    name: "tideway",
    connect: async (url, { perMessageDeflate, defaults = false, iterate = false } = UNCOMPRESSED) => {
      // perMessageDeflate: true is Tideway's default offer (threshold 1024, level 6, context
      // takeover, client_max_window_bits); false for the uncompressed scenarios, as for ws.
      // `defaults`: the heartbeat and the offer as a user gets them; reconnect stays off (a drop
      // must fail the measurement) and binaryType is the default anyway.
      const client = new Client(
        url,
        defaults
          ? { reconnect: false, binaryType: "uint8array" }
          : { heartbeat: false, reconnect: false, binaryType: "uint8array", perMessageDeflate },
      );
      await client.connect();
      return new TidewayConnection(client, iterate);
    },
  };
}
