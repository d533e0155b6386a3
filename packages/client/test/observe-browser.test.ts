import { describe, expect, it, vi } from "vitest";
import type { CloseInfo } from "../src/errors.js";
import { ConnectError } from "../src/errors.js";
import type { Logger } from "../src/logger.js";
import type * as node from "../src/observe.js";
import * as browser from "../src/observe-browser.js";

/** A logger that records each call as [level, message, ...values]. */
function recording() {
  const calls: unknown[][] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      calls.push([level, ...args]);
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { calls, logger };
}

const source = { client: {} } as never;

describe("the browser build's observe", () => {
  it("has the names and signatures of the Node module's", async () => {
    const standIn: typeof node = browser; // the signatures: checked by the type checker
    const real = await vi.importActual<typeof node>("../src/observe.js");
    expect(Object.keys(standIn).sort()).toEqual(Object.keys(real).sort());
  });

  it("logs each lifecycle step at observe.ts's level, as its name and its values (credentials redacted)", () => {
    const { calls, logger } = recording();
    const info: CloseInfo = {
      code: 1006,
      reason: "",
      wasClean: false,
      initiatedByUser: false,
      sent: undefined,
      received: undefined,
    };
    const error = new ConnectError("Connection to a.test failed");
    browser.connecting(logger, "wss://user:secret@a.test/");
    browser.open(source, logger, "wss://user:secret@a.test/", { status: 101 } as never);
    browser.close(source, logger, info);
    browser.error(source, logger, error);
    browser.reconnecting(source, logger, { attempt: 1, delay: 250, error });
    browser.closing(logger, 1000, "bye");
    browser.closed(logger, undefined);
    browser.closed(logger, error);
    expect(calls).toEqual([
      ["debug", "tideway: connecting", "wss://a.test/"],
      ["info", "tideway: open", "wss://a.test/"],
      ["info", "tideway: close", info],
      ["error", "tideway: error", error],
      ["warn", "tideway: reconnecting", { attempt: 1, delay: 250, error }],
      ["debug", "tideway: closing", 1000, "bye"],
      ["debug", "tideway: closed"],
      ["debug", "tideway: closed", error],
    ]);
  });

  it("logs nothing for the Node connection's steps, and nothing without a logger", () => {
    const { calls, logger } = recording();
    const target = { url: new URL("wss://a.test/"), logger };
    browser.upgradeRequest(source, target, new Uint8Array(1));
    browser.upgradeResponse(source, target, { status: 101 } as never);
    browser.ping(source, logger, new Uint8Array(1));
    browser.pong(source, logger, new Uint8Array(1));
    browser.open(source, undefined, "wss://a.test/", { status: 101 } as never);
    expect(calls).toEqual([]);
  });
});
