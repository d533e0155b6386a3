import { ClientProtocol } from "@tideway/core";
import { describe, expect, it } from "vitest";
import { resolveOptions, type WebSocketClientOptions } from "../src/options.js";
import { platform } from "../src/platform.js";

const prepare = (o: WebSocketClientOptions) => platform.prepare(resolveOptions("ws://127.0.0.1:1/", o));

describe("the Node platform's option check", () => {
  it("builds the first attempt's protocol from the options", () => {
    expect(prepare({})).toBeInstanceOf(ClientProtocol);
  });

  it("throws a TypeError for the browser-only options, saying what Node does instead", () => {
    expect(() => prepare({ appHeartbeat: { message: "p", isReply: () => true } })).toThrow(
      /appHeartbeat .*ping frames/,
    );
    expect(() => prepare({ maxBufferedBytes: 10 })).toThrow(/maxBufferedBytes .*stops reading/);
  });

  it("turns what the core refuses into a TypeError", () => {
    expect(() => prepare({ headers: { "sec-websocket-key": "x" } })).toThrow(TypeError);
  });
});
