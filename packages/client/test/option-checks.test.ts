import { describe, expect, it } from "vitest";
import { callable, checkKeys, finite, invalid, number, oneOf } from "../src/option-checks.js";

describe("the option checkers", () => {
  it("invalid() names the option, what it must be and, when given, the value", () => {
    expect(invalid("signal", "an AbortSignal").message).toBe("Option signal must be an AbortSignal");
    expect(invalid("x", "a y", null).message).toBe("Option x must be a y, got null");
    // No caller refuses an undefined value (each check lets it through), so it shows nothing.
    expect(invalid("x", "a y", undefined).message).toBe("Option x must be a y");
    expect(invalid("x", "a y")).toBeInstanceOf(TypeError);
  });

  it("number() takes the fallback when not given, and refuses NaN, non-numbers and values under min", () => {
    expect(number("n", undefined, 7)).toBe(7);
    expect(number("n", 0, 7)).toBe(0);
    expect(number("n", Number.POSITIVE_INFINITY, 7)).toBe(Number.POSITIVE_INFINITY);
    expect(() => number("n", Number.NaN, 7)).toThrow(
      new TypeError("Option n must be a number >= 0, got NaN"),
    );
    expect(() => number("n", "1" as never, 7)).toThrow(
      new TypeError("Option n must be a number >= 0, got 1"),
    );
    expect(() => number("n", 0, 7, 1)).toThrow(new TypeError("Option n must be a number >= 1, got 0"));
  });

  it("number() refuses Infinity when not infinite; finite() is number() so", () => {
    expect(() => number("n", Number.POSITIVE_INFINITY, 7, 1, false)).toThrow(
      new TypeError("Option n must be a finite number >= 1, got Infinity"),
    );
    expect(finite("f", undefined, 3, 1)).toBe(3);
    expect(finite("f", 1.5, 3)).toBe(1.5);
    expect(() => finite("f", Number.POSITIVE_INFINITY, 3)).toThrow(
      new TypeError("Option f must be a finite number >= 0, got Infinity"),
    );
    expect(() => finite("f", -1, 3)).toThrow(new TypeError("Option f must be a finite number >= 0, got -1"));
  });

  it("oneOf() passes undefined and the allowed values, and lists them when refusing", () => {
    const given = (value: string | null | undefined) => value as "a" | "b" | "c" | undefined;
    expect(oneOf("e", given(undefined), ["a", "b"])).toBeUndefined();
    expect(oneOf("e", given("b"), ["a", "b"])).toBe("b");
    expect(() => oneOf("e", given("z"), ["a", "b", "c"])).toThrow(
      new TypeError('Option e must be one of ["a","b","c"], got z'),
    );
    expect(() => oneOf("family", 5 as 4 | 6, [4, 6])).toThrow(
      new TypeError("Option family must be one of [4,6], got 5"),
    );
    expect(() => oneOf("e", given(null), ["a", "b"])).toThrow(
      new TypeError('Option e must be one of ["a","b"], got null'),
    );
  });

  it("callable() passes undefined and functions, and says what was expected otherwise", () => {
    const f = () => 1;
    expect(callable(f, "c")).toBe(f);
    expect(callable(undefined, "c")).toBeUndefined();
    expect(() => callable(1, "c")).toThrow(new TypeError("Option c must be a function"));
    expect(() => callable(null, "lookup", "a function, as dns.lookup")).toThrow(
      new TypeError("Option lookup must be a function, as dns.lookup"),
    );
  });

  it("checkKeys() names every unknown key, prefixed but at the top level", () => {
    expect(() => checkKeys("options", { a: 1, b: 2 }, ["a", "b"])).not.toThrow();
    expect(() => checkKeys("options", { a: 1, zap: undefined }, ["a"])).toThrow(
      new TypeError("Unknown option: zap"),
    );
    expect(() => checkKeys("reconnect", { x: 1, y: 2 }, [])).toThrow(
      new TypeError("Unknown options: reconnect.x, reconnect.y"),
    );
  });
});
