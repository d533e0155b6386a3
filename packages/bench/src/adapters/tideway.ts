// Tideway's own client, loaded from the workspace package @tideway/client: in a bench worker that is
// the BUILT package (dist/, through the package's `exports`), as users run it (see ../build.ts);
// under vitest the root config aliases it to the sources.
import { subscribe } from "node:diagnostics_channel";
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
  streams(): AsyncIterable<AsyncIterable<string | Uint8Array>>;
}
type TidewayClientClass = new (
  url: string,
  options: {
    heartbeat?: false;
    reconnect: false;
    binaryType: "uint8array";
    perMessageDeflate?: boolean;
    receive?: "stream";
  },
) => TidewayClient;

class TidewayConnection implements BenchConnection {
  private handler: (data: BenchMessage) => void = () => {};
  private closeHandler: (reason: string) => void = () => {};
  private closing = false;
  private error: unknown;

  constructor(
    private readonly client: TidewayClient,
    iterate: boolean,
    stream: boolean,
  ) {
    if (stream) void this.stream();
    else if (iterate) void this.iterate();
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

  /** Each message as a stream: its chunks counted as they arrive, then one handler call. */
  private async stream(): Promise<void> {
    try {
      for await (const message of this.client.streams()) {
        let streamedLength = 0;
        let head: number | undefined;
        for await (const chunk of message) {
          if (typeof chunk === "string") throw new Error("a text chunk in the binary stream scenario");
          if (streamedLength === 0) head = chunk[0];
          streamedLength += chunk.length;
        }
        this.handler({ streamedLength, head });
      }
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

/** Messages the diagnostics subscriber received in this process (see ConnectOptions.diagnostics). */
export const diagnosticsReceived = { count: 0 };
let channelNames: readonly string[] = [];
let subscribed = false;

/** Subscribes once per process to every channel the client publishes on. */
function subscribeToDiagnostics(): void {
  if (subscribed) return;
  if (channelNames.length === 0)
    throw new AdapterUnavailableError("@tideway/client has no DIAGNOSTICS_CHANNELS");
  subscribed = true;
  const onMessage = () => {
    diagnosticsReceived.count++;
  };
  for (const name of channelNames) subscribe(name, onMessage);
}

export async function load(): Promise<Adapter> {
  let WebSocketClient: TidewayClientClass | undefined;
  try {
    const module = (await import("@tideway/client")) as {
      WebSocketClient?: TidewayClientClass;
      DIAGNOSTICS_CHANNELS?: Record<string, string>;
    };
    WebSocketClient = module.WebSocketClient;
    channelNames = Object.values(module.DIAGNOSTICS_CHANNELS ?? {});
  } catch (error) {
    throw new AdapterUnavailableError(`@tideway/client did not load: ${(error as Error).message}`);
  }
  if (typeof WebSocketClient !== "function") {
    throw new AdapterUnavailableError("@tideway/client does not export WebSocketClient yet");
  }
  const Client = WebSocketClient;
  return {
    name: "tideway",
    connect: async (
      url,
      {
        perMessageDeflate,
        defaults = false,
        iterate = false,
        diagnostics = false,
        stream = false,
      } = UNCOMPRESSED,
    ) => {
      if (diagnostics) subscribeToDiagnostics();
      // perMessageDeflate: true is Tideway's default offer (threshold 1024, level 6, context
      // takeover, client_max_window_bits); false for the uncompressed scenarios, as for ws.
      // `defaults`: the heartbeat and the offer as a user gets them; reconnect stays off (a drop
      // must fail the measurement) and binaryType is the default anyway.
      const client = new Client(
        url,
        defaults
          ? { reconnect: false, binaryType: "uint8array" }
          : {
              heartbeat: false,
              reconnect: false,
              binaryType: "uint8array",
              perMessageDeflate,
              ...(stream ? { receive: "stream" as const } : {}),
            },
      );
      await client.connect();
      return new TidewayConnection(client, iterate, stream);
    },
  };
}
