import { fileURLToPath } from "node:url";
import { WebSocketError } from "@tideway/core";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import * as errors from "../src/errors.js";
import {
  AbortedError,
  ClientError,
  ClientErrorCodes,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  InvalidRedirectError,
  ProviderError,
  ProxyError,
  ReceiveBufferFullError,
  SendQueueFullError,
  StreamInterruptedError,
  StreamSourceError,
  TooManyRedirectsError,
} from "../src/errors.js";

const info = {
  code: 1006,
  reason: "gone",
  wasClean: false,
  initiatedByUser: false,
  sent: { code: 1000, reason: "" },
  received: undefined,
};

/** Each class: an instance, its code, its message and the fields it adds. */
const cases: [string, ClientError, string, string, Record<string, unknown>][] = [
  ["ClientError", new ClientError("WS_ERR_CONNECT", "m"), "WS_ERR_CONNECT", "m", {}],
  [
    "ConnectError",
    new ConnectError("refused", { cause: 1 }),
    ClientErrorCodes.Connect,
    "refused",
    { cause: 1 },
  ],
  [
    "HandshakeTimeoutError",
    new HandshakeTimeoutError(5),
    ClientErrorCodes.HandshakeTimeout,
    "Handshake timed out after 5 ms",
    { timeout: 5 },
  ],
  [
    "ConnectionClosedError",
    new ConnectionClosedError(info),
    ClientErrorCodes.ConnectionClosed,
    "Connection closed: 1006 gone",
    { closeCode: 1006, reason: "gone", wasClean: false, sent: info.sent, received: undefined },
  ],
  [
    "HeartbeatTimeoutError",
    new HeartbeatTimeoutError(5.4),
    ClientErrorCodes.HeartbeatTimeout,
    "No pong for 5 ms",
    { closeCode: 1011, elapsed: 5.4 },
  ],
  [
    "ReceiveBufferFullError",
    new ReceiveBufferFullError(3, 2),
    ClientErrorCodes.ReceiveBufferFull,
    "3 bytes unread, over maxBufferedBytes (2)",
    { limit: 2 },
  ],
  [
    "SendQueueFullError",
    new SendQueueFullError(1, 2, 3),
    ClientErrorCodes.SendQueueFull,
    "1 bytes queued + 2, over maxQueuedBytes (3)",
    {},
  ],
  ["AbortedError", new AbortedError("why"), ClientErrorCodes.Aborted, "Aborted", { cause: "why" }],
  [
    "ProxyError",
    new ProxyError("http://p", "refused", { status: 407 }),
    ClientErrorCodes.Proxy,
    "refused",
    { proxy: "http://p", status: 407, socksReply: undefined, authFailed: false },
  ],
  [
    "TooManyRedirectsError",
    new TooManyRedirectsError(3, "ws://x/"),
    ClientErrorCodes.TooManyRedirects,
    "Too many redirects (maxRedirects is 3): ws://x/",
    { maxRedirects: 3, to: "ws://x/" },
  ],
  [
    "InvalidRedirectError",
    new InvalidRedirectError(302, undefined, "no Location header"),
    ClientErrorCodes.InvalidRedirect,
    "Cannot follow redirect 302: no Location header",
    { status: 302, location: undefined },
  ],
  [
    "ProviderError",
    new ProviderError("url", new Error("boom")),
    ClientErrorCodes.Provider,
    "The url function failed: boom",
    { option: "url" },
  ],
  [
    "StreamSourceError",
    new StreamSourceError("bad chunk"),
    ClientErrorCodes.StreamSource,
    "The source of a streamed message failed: bad chunk",
    { closeCode: 1011, cause: "bad chunk" },
  ],
  [
    "StreamInterruptedError",
    new StreamInterruptedError(2, new Error("closed")),
    ClientErrorCodes.StreamInterrupted,
    "Streamed message interrupted after 2 fragment(s): closed",
    { fragmentsSent: 2 },
  ],
];

describe("the client's errors", () => {
  it.each(cases)("%s: name, code, message and fields", (name, error, code, message, fields) => {
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    for (const [key, value] of Object.entries(fields)) {
      expect(Object.hasOwn(error, key), key).toBe(true);
      expect((error as unknown as Record<string, unknown>)[key], key).toEqual(value);
    }
  });

  it("covers every class the module exports", () => {
    const classes = Object.entries(errors).filter(([, v]) => typeof v === "function");
    expect(classes.map(([k]) => k).sort()).toEqual(cases.map(([k]) => k).sort());
  });

  it("a ProviderError quotes what was thrown: an error's message, any other value as text", () => {
    expect(new ProviderError("url", new DOMException("too slow", "TimeoutError")).message).toBe(
      "The url function failed: too slow",
    );
    expect(new ProviderError("headers", "no token").message).toBe("The headers function failed: no token");
    expect(new ProviderError("url", undefined).message).toBe("The url function failed: undefined");
    expect(new ProviderError("url", null).message).toBe("The url function failed: null");
    expect(new ProviderError("url", 42).message).toBe("The url function failed: 42");
  });

  it("a ProxyError has no cause unless given one, and authFailed false by default", () => {
    const refused = new ProxyError("http://p", "m", { socksReply: 5 });
    expect("cause" in refused).toBe(false);
    expect(refused.socksReply).toBe(5);
    expect(refused.authFailed).toBe(false);
    expect(new ProxyError("socks5://p", "m", { authFailed: true, cause: "c" })).toMatchObject({
      authFailed: true,
      cause: "c",
    });
  });

  it("a ConnectionClosedError takes a message of its own and a cause", () => {
    const error = new ConnectionClosedError(
      { ...info, code: 1000, reason: "" },
      { message: "m", cause: "c" },
    );
    expect(error.message).toBe("m");
    expect(error.cause).toBe("c");
    expect(new ConnectionClosedError({ ...info, code: 1000, reason: "" }).message).toBe(
      "Connection closed: 1000",
    );
  });

  it("keeps every class's name and code when a bundler minifies and renames the classes", async () => {
    const bundled = await build({
      entryPoints: [fileURLToPath(new URL("../src/errors.ts", import.meta.url))],
      bundle: true,
      minify: true,
      format: "iife",
      globalName: "errors",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const minified = new Function(`${bundled.outputFiles[0]?.text}; return errors;`)() as typeof errors;
    for (const [name, , code] of cases) {
      const Class = minified[name as keyof typeof errors] as unknown as new (
        ...args: unknown[]
      ) => ClientError;
      const args = name === "ConnectionClosedError" ? [info] : ["WS_ERR_CONNECT", "m"];
      expect(new Class(...args).name).toBe(name);
      // The codes are spelt from the class names.
      if (name !== "ClientError") expect(new Class(...args).code).toBe(code);
    }
  });
});
