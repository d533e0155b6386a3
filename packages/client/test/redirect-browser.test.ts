import { UnexpectedResponseError } from "@tideway/core";
import { describe, expect, it } from "vitest";
import type { ResolvedOptions } from "../src/options.js";
import { followRedirects } from "../src/redirect-browser.js";

describe("the browser build's redirects", () => {
  it("never follows a redirect: the attempt's failure stands", async () => {
    const hop = { url: new URL("wss://a.test/"), headers: undefined, socketPath: undefined };
    const location = "wss://b.test/";
    const response = { status: 302, statusText: "Found", headers: { location }, rawHeaders: [] };
    const redirect = new UnexpectedResponseError(response, new Uint8Array());
    const hops: Array<[string, number]> = [];
    const redirects: unknown[] = [];
    const o = { followRedirects: true, maxRedirects: 10 } as unknown as ResolvedOptions;
    const chain = followRedirects(
      hop,
      o,
      new AbortController().signal,
      async (h, n) => {
        hops.push([h.url.href, n]);
        throw redirect;
      },
      { emit: (_event: string, info?: unknown) => void redirects.push(info) },
    );
    await expect(chain).rejects.toBe(redirect);
    expect(hops).toEqual([["wss://a.test/", 0]]);
    expect(redirects).toEqual([]);
  });
});
