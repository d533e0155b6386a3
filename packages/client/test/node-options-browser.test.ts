import { describe, expect, it, vi } from "vitest";
import * as standIn from "../src/node-options-browser.js";
import { resolveOptions } from "../src/options.js";

// options.ts as the browser build assembles it: with this stand-in in place of node-options.ts.
vi.mock("../src/node-options.js", () => import("../src/node-options-browser.js"));

const url = "wss://example.test/";

describe("the browser build's node-options", () => {
  it("knows the same option names as node-options.ts", async () => {
    const node = await vi.importActual<typeof import("../src/node-options.js")>("../src/node-options.js");
    expect([...standIn.NODE_OPTION_NAMES].sort()).toEqual([...node.NODE_OPTION_NAMES].sort());
  });

  it.each(standIn.NODE_OPTION_NAMES)("refuses %s by name", (name) => {
    expect(() => standIn.resolveNodeOptions({ [name]: "x" })).toThrow(
      new TypeError(`Option ${name} is not available in a browser`),
    );
  });

  it("accepts what a browser does anyway, and resolves nothing", () => {
    const o = { heartbeat: false, proxy: false, perMessageDeflate: true, followRedirects: false } as const;
    expect(standIn.resolveNodeOptions(o)).toEqual({});
    expect(standIn.NODE_DEFAULTS).toEqual({});
  });

  it("refuses headers in checkHeaders too, which a refused headers function never reaches", () => {
    expect(() => standIn.checkHeaders()).toThrow(/Option headers is not available/);
  });

  it("finds no socket path in a URL: options.ts refuses a ws+unix: URL as not ws:, wss:, http: or https:", () => {
    expect(standIn.parseUnixUrl("ws+unix:///tmp/s.sock")).toBeUndefined();
    expect(() => resolveOptions("ws+unix:///tmp/s.sock")).toThrow(
      /^Invalid URL ws\+unix:\/\/\/tmp\/s\.sock: expected ws:/,
    );
  });
});

describe("options.ts over the stand-in", () => {
  it("still refuses an unknown option as unknown, and a Node-only one by name", () => {
    expect(() => resolveOptions(url, { bogus: 1 } as never)).toThrow(new TypeError("Unknown option: bogus"));
    expect(() => resolveOptions(url, { maxPayload: 1 })).toThrow(/Option maxPayload is not available/);
  });

  it("resolves the shared options, with none of the Node-only defaults", () => {
    const o = resolveOptions(url, { binaryType: "arraybuffer", heartbeat: false });
    expect(o.binaryType).toBe("arraybuffer");
    expect(o.heartbeat).toBeUndefined();
    expect(o.perMessageDeflate).toBeUndefined();
    expect(Object.keys(o).sort()).toEqual(["binaryType", "href"]);
  });
});
