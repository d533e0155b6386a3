import { afterEach, describe, expect, it, vi } from "vitest";
import { checkLogger, type Logger, log } from "../src/logger.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("checkLogger", () => {
  it("takes an object with the four methods, console among them", () => {
    expect(checkLogger(console)).toBe(console);
  });

  it.each([
    ["null", null],
    ["a function", () => {}],
    ["an object without error()", { debug() {}, info() {}, warn() {} }],
  ])("refuses %s with a TypeError naming the methods", (_, value) => {
    expect(() => checkLogger(value)).toThrow(
      new TypeError("Option logger must be an object with methods debug, info, warn, error"),
    );
  });
});

describe("log", () => {
  it("calls the level's method with the message and the values, and nothing without a logger", () => {
    const calls: unknown[][] = [];
    const record = (...args: unknown[]) => calls.push(args);
    const logger: Logger = { debug: record, info: record, warn: record, error: record };
    log(logger, "warn", "a %s", "b");
    log(undefined, "warn", "never");
    expect(calls).toEqual([["a %s", "b"]]);
  });

  it("rethrows what the logger throws in a microtask, and returns normally", () => {
    const thrown = new Error("broken logger");
    const logger = checkLogger({
      debug() {
        throw thrown;
      },
      info() {},
      warn() {},
      error() {},
    });
    let later: (() => void) | undefined;
    vi.spyOn(globalThis, "queueMicrotask").mockImplementation((fn) => {
      later = fn;
    });
    expect(() => log(logger, "debug", "x")).not.toThrow();
    expect(later).toThrow(thrown);
  });
});
