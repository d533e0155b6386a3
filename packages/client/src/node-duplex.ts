/**
 * A Node `Duplex` over a client, as `createWebSocketStream` in `ws`: messages read from it, each
 * write sent as one message, with backpressure both ways. Its own module (it imports node:stream) so
 * a browser build can leave it out.
 */
import { Duplex, type DuplexOptions } from "node:stream";
import type { StreamableClient } from "./web-streams.js";

const noop = (): void => {};

/**
 * A Duplex over `client`. `_read` pulls one message from the client's iterator at a time, and only
 * when Node asks (the readable buffer is under its `highWaterMark`): a consumer that does not read
 * leaves messages in the client's queue, which then stops reading the socket. `_write` calls back
 * when the `send()` promise resolves, so `write()` returns false while the socket is behind.
 *
 * Defaults: byte mode on both sides, as in `ws` (text arrives as UTF-8 bytes; pass
 * `readableObjectMode: true` for whole messages as the client gives them); `decodeStrings: false`, so
 * a string written goes out as a text message. Other `options` are passed to the Duplex. `end()`
 * closes the client cleanly; `destroy(err)` terminates it, `destroy()` closes it.
 */
export function createWebSocketStream<M>(client: StreamableClient<M>, options: DuplexOptions = {}): Duplex {
  // Made now: from here on no message is missed, even with "message" listeners on the client.
  const iterator = client[Symbol.asyncIterator]();
  let reading = false;
  return new Duplex({
    decodeStrings: false,
    ...options,
    read() {
      if (reading) return;
      reading = true;
      iterator.next().then(
        (next) => {
          reading = false;
          if (next.done === true) this.push(null);
          else {
            const value = next.value;
            // Byte mode takes strings and Uint8Arrays; an ArrayBuffer (binaryType) as a view of it.
            this.push(
              !this.readableObjectMode && value instanceof ArrayBuffer ? new Uint8Array(value) : value,
            );
          }
        },
        (err: Error) => {
          reading = false;
          this.destroy(err);
        },
      );
    },
    write(chunk, _encoding, callback) {
      client.send(chunk).then(() => callback(), callback);
    },
    final(callback) {
      client.close().then(() => callback(), callback);
    },
    destroy(err, callback) {
      iterator.return?.().catch(noop);
      if (err) client.terminate();
      else client.close().catch(noop);
      callback(err);
    },
  });
}
