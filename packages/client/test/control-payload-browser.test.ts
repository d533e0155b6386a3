import { describe, expect, it } from "vitest";
import type * as node from "../src/control-payload.js";
import * as browser from "../src/control-payload-browser.js";

describe("the browser build's control payload", () => {
  it("has the names and signatures of the Node module's", async () => {
    const standIn: typeof node = browser; // the signatures: checked by the type checker
    const real = await import("../src/control-payload.js");
    expect(Object.keys(standIn).sort()).toEqual(Object.keys(real).sort());
  });

  it("hands the data on as given (the browser connection refuses any), whatever its size", () => {
    const big = new Uint8Array(200);
    expect(browser.controlPayload(big)).toBe(big);
    expect(browser.controlPayload(undefined)).toBeUndefined();
  });
});
