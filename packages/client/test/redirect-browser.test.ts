import { UnexpectedResponseError } from "@tideway/core";
import { describe, expect, it } from "vitest";
import { nextHop } from "../src/redirect-browser.js";

describe("the browser build's redirects", () => {
  it("never follows a redirect: the failure stands", () => {
    const hop = { url: new URL("wss://a.test/"), headers: undefined, socketPath: undefined };
    const location = "wss://b.test/";
    const response = { status: 302, statusText: "Found", headers: { location }, rawHeaders: [] };
    const redirect = new UnexpectedResponseError(response, new Uint8Array());
    expect(nextHop(hop, redirect)).toBeUndefined();
  });
});
