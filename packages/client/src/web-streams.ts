/**
 * A WHATWG `ReadableStream` / `WritableStream` pair over a client, the shape of undici's
 * WebSocketStream: messages read from one, written to the other, with backpressure both ways. No
 * `node:` import: a browser build keeps this module.
 */
import type { SendData } from "./events.js";

/** What the stream adapters need of a client: a {@link WebSocketClient} of any `binaryType` is one. */
export interface StreamableClient<M> {
  /** Sends one message; the writing side waits for it. */
  send(data: SendData): Promise<void>;
  /** Closes cleanly: what closing the writing side does. */
  close(): Promise<void>;
  /** Drops the connection: what aborting (destroying with an error) does. */
  terminate(): void;
  /** The received messages: the reading side pulls them one at a time. */
  [Symbol.asyncIterator](): AsyncIterator<M, undefined>;
}

/** The two sides of {@link toWebStreams}. */
export interface WebStreams<M> {
  /** The messages received, whole (string for text, binary per `binaryType`). */
  readonly readable: ReadableStream<M>;
  /** Each chunk written is sent as one message (strings as text, bytes as binary). */
  readonly writable: WritableStream<SendData>;
}

/**
 * WHATWG streams over `client`. Reading pulls the client's iterator only while the consumer reads
 * (high-water mark 0): a consumer that stops reading leaves messages in the client's queue, whose
 * `highWaterMark` then stops reading the socket. Each write waits for its `send()` promise, so
 * `writer.ready` waits for the socket. Cancelling the readable stops the iteration (the client stays
 * open); closing the writable closes the client (clean close), aborting it terminates the client.
 */
export function toWebStreams<M>(client: StreamableClient<M>): WebStreams<M> {
  // Made now: from here on no message is missed, even with "message" listeners on the client.
  const iterator = client[Symbol.asyncIterator]();
  const readable = new ReadableStream<M>(
    {
      async pull(controller) {
        const next = await iterator.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  const writable = new WritableStream<SendData>({
    write: (chunk) => client.send(chunk),
    close: () => client.close(),
    abort: () => client.terminate(),
  });
  return { readable, writable };
}
