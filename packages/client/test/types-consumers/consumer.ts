// A type consumer of the published packages: .ci/type-consumers.mjs compiles it against the packed
// tarballs under each module/moduleResolution pair (the CommonJS bundler case swaps this import for
// `import tw = require(...)`). Nothing here runs; tsc checks it.
import * as tw from "@tideway/client";

/** True only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<A, B>(_proof: Equal<A, B>): void {}

// Options: binaryType narrows what messages are.
const options: tw.WebSocketClientOptions<"arraybuffer"> = {
  binaryType: "arraybuffer",
  reconnect: { retries: 3 },
  heartbeat: false,
  headers: { "x-api-key": "secret" },
};
const client = new tw.WebSocketClient("ws://127.0.0.1:1/", options);
const plain = new tw.WebSocketClient("ws://127.0.0.1:1/");
const buffers = new tw.WebSocketClient(new URL("ws://127.0.0.1:1/"), { binaryType: "buffer" });

// Events: on / once / off with typed listeners.
client.on("message", (data) => {
  assertType<typeof data, string | ArrayBuffer>(true);
  if (typeof data === "string") JSON.parse(data);
  else data.byteLength;
});
plain.on("message", (data) => assertType<typeof data, string | Uint8Array>(true));
buffers.once("message", (data) => assertType<typeof data, string | Buffer>(true));
client.once("open", (response) => assertType<typeof response.status, number>(true));
const onClose = (info: tw.CloseInfo): void => assertType<typeof info.code, number>(true);
client.on("close", onClose);
client.off("close", onClose);
client.on("redirect", (info) => assertType<typeof info.to, string>(true));
// @ts-expect-error: there is no "opened" event
client.on("opened", () => {});

// Errors: one hierarchy, instanceof and a code that narrows.
client.on("error", (err) => {
  assertType<typeof err.code, tw.TidewayErrorCode>(true);
  if (err.code === "WS_ERR_PROXY") assertType<typeof err, tw.ProxyError>(true);
  if (err instanceof tw.UnexpectedResponseError) assertType<typeof err.status, number>(true);
  if (err instanceof tw.ConnectionClosedError) assertType<typeof err.closeCode, number>(true);
});
function describeFailure(err: unknown): string {
  if (err instanceof tw.HandshakeError) return `handshake: ${err.code}`;
  if (err instanceof tw.ProtocolError) return `protocol: ${err.closeCode}`;
  if (err instanceof tw.ClientError) return `client: ${err.code satisfies tw.ClientErrorCode}`;
  if (err instanceof tw.WebSocketError) return `other: ${err.code satisfies tw.TidewayErrorCode}`;
  return String(err);
}

// The iterator yields the same narrowed messages.
async function consume(): Promise<void> {
  for await (const message of client) assertType<typeof message, string | ArrayBuffer>(true);
  const connected = await tw.connect("ws://127.0.0.1:1/", { binaryType: "arraybuffer" });
  for await (const message of connected) assertType<typeof message, string | ArrayBuffer>(true);
}

export { consume, describeFailure };
