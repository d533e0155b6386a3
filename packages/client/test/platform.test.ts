import { describe, expect, it } from "vitest";
import { appHeartbeat } from "../src/app-heartbeat.js";
import type { ConnectionHandlers } from "../src/client-connection.js";
import { ProviderError } from "../src/errors.js";
import { type ResolvedOptions, resolveOptions, type WebSocketClientOptions } from "../src/options.js";
import { platform } from "../src/platform.js";
import { collecting } from "./helpers/handlers.js";

const resolve = (o: WebSocketClientOptions) => resolveOptions("ws://127.0.0.1:1/", o);
const prepare = (o: WebSocketClientOptions) => platform.prepare(resolve(o));

describe("the Node platform's option check", () => {
  it("accepts options the core can connect with", () => {
    expect(() => prepare({ headers: { "x-a": "1" }, protocols: ["chat"] })).not.toThrow();
  });

  it("throws a TypeError for the browser-only options, saying what Node does instead", () => {
    expect(() => prepare({ appHeartbeat: appHeartbeat({ message: "p", isReply: () => true }) })).toThrow(
      /appHeartbeat .*ping frames/,
    );
    expect(() => prepare({ maxBufferedBytes: 10 })).toThrow(/maxBufferedBytes .*stops reading/);
  });

  it("turns what the core refuses into a TypeError", () => {
    expect(() => prepare({ headers: { "sec-websocket-key": "x" } })).toThrow(TypeError);
  });
});

describe("the Node platform's connections", () => {
  const handlers: ConnectionHandlers = collecting([]);
  /** The options of one attempt: the client's, with what the option functions returned. */
  const attempt = (o: ResolvedOptions, values: Partial<ResolvedOptions>) =>
    ({ __proto__: o, ...values }) as unknown as ResolvedOptions;

  it("connects the prepared options more than once", () => {
    const o = resolve({});
    platform.prepare(o);
    for (let i = 0; i < 2; i++) {
      const conn = platform.newConnection(o, handlers);
      expect(conn.opened).toBe(false);
      conn.terminate();
    }
  });

  it("reports a provided value the core refuses as a ProviderError naming the option", () => {
    const protocols = resolve({ protocols: () => "chat" });
    const badProtocol = () => platform.newConnection(attempt(protocols, { protocols: ["a b"] }), handlers);
    expect(badProtocol).toThrow(ProviderError);
    expect(badProtocol).toThrow(expect.objectContaining({ option: "protocols" }));
    const headers = resolve({ headers: () => ({}) });
    const badHeader = () =>
      platform.newConnection(attempt(headers, { headers: { "sec-websocket-key": "x" } }), handlers);
    expect(badHeader).toThrow(expect.objectContaining({ option: "headers" }));
  });
});
