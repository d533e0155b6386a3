import dc from "node:diagnostics_channel";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { afterEach, describe, expect, it, vi } from "vitest";
import { browserModules } from "../browser-modules.mjs";
import { WebSocketClient } from "../src/client.js";
import { DIAGNOSTICS_CHANNELS } from "../src/diagnostics.js";
import type * as node from "../src/diagnostics-channels.js";
import * as browser from "../src/diagnostics-channels-browser.js";
import type { Logger } from "../src/logger.js";
import { useBrowserWebSocket, useCleanups, within, wsServer } from "./helpers/harness.js";

// The whole client as the browser build assembles it, diagnostics channels included.
vi.mock("../src/platform.js", () => import("../src/platform-browser.js"));
vi.mock("../src/node-options.js", () => import("../src/node-options-browser.js"));
vi.mock("../src/diagnostics-channels.js", () => import("../src/diagnostics-channels-browser.js"));
vi.mock("../src/observe.js", () => import("../src/observe-browser.js"));

useCleanups();

useBrowserWebSocket();

const unsubscribes: (() => void)[] = [];
afterEach(() => {
  for (const fn of unsubscribes.splice(0)) fn();
});

/** Subscribes to every channel; returns what is published on them until the test ends. */
function subscribeAll(): unknown[] {
  const seen: unknown[] = [];
  for (const name of Object.values(DIAGNOSTICS_CHANNELS)) {
    const listener = (message: unknown) => seen.push(message);
    dc.subscribe(name, listener);
    unsubscribes.push(() => dc.unsubscribe(name, listener));
  }
  return seen;
}

describe("the browser build's diagnostics channels", () => {
  it("have the names and signatures of the Node module's", async () => {
    const standIn: typeof node = browser; // the signatures: checked by the type checker
    const real = await vi.importActual<typeof node>("../src/diagnostics-channels.js");
    expect(Object.keys(standIn).sort()).toEqual(Object.keys(real).sort());
  });

  it("report no subscriber and publish nothing, even with subscribers on Node's channels", () => {
    const seen = subscribeAll();
    expect(Object.keys(DIAGNOSTICS_CHANNELS).filter((name) => browser.hasSubscribers(name as never))).toEqual(
      [],
    );
    const source = { client: {} };
    browser.open(source, "ws://a.test/", { status: 101 } as never);
    browser.error(source, new Error("x"));
    browser.ping(source, new Uint8Array(1));
    expect(seen).toEqual([]);
  });

  it("leave the logger working: a client logs its connection's steps and publishes nothing", async () => {
    const seen = subscribeAll();
    const lines: string[] = [];
    const record = (message: string) => lines.push(message);
    const logger: Logger = { debug: record, info: record, warn: record, error: record };
    const server = await wsServer();
    const c = new WebSocketClient(server.url, { heartbeat: false, reconnect: false, logger });
    await within(c.connect(), 3000, "connect");
    await within(c.close(), 3000, "close");
    expect(lines).toEqual(
      expect.arrayContaining([
        "tideway: connecting",
        "tideway: open",
        "tideway: closing",
        "tideway: close",
        "tideway: closed",
      ]),
    );
    expect(seen).toEqual([]);
  });
});

describe("a browser bundle of WebSocketClient", () => {
  const packageDir = fileURLToPath(new URL("..", import.meta.url));
  const coreSrc = fileURLToPath(new URL("../../core/src", import.meta.url));

  /**
   * Every other module resolved here, the core from its sources: esbuild then knows no package's
   * "sideEffects": false and keeps whatever module-level code may have an effect, as in the single
   * file of the built client.
   */
  const sources: Plugin = {
    name: "sources",
    setup(b) {
      b.onResolve({ filter: /^@tideway\/core(\/internals)?$/ }, (args) => ({
        path: join(coreSrc, args.path.endsWith("/internals") ? "internals.ts" : "index.ts"),
      }));
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        const ts = join(dirname(args.importer), args.path.replace(/\.js$/, ".ts"));
        return existsSync(ts) ? { path: ts } : undefined;
      });
    },
  };

  it("carries no channel message building and none of the core's HTTP parsing", async () => {
    const result = await build({
      stdin: {
        contents: `export { WebSocketClient } from "./src/index.ts";`,
        resolveDir: packageDir,
        loader: "ts",
      },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      metafile: true,
      logLevel: "silent",
      plugins: [browserModules, sources],
    });
    const inputs = Object.values(result.metafile.outputs)[0]!.inputs;
    const bytesOf = (path: string) =>
      Object.entries(inputs).find(([input]) => input.endsWith(path))?.[1].bytesInOutput ?? 0;
    expect(bytesOf("client/src/diagnostics-channels-browser.ts")).toBe(0);
    expect(bytesOf("client/src/diagnostics.ts")).toBe(0);
    for (const core of ["http.ts", "handshake-client.ts", "headers.ts", "mask-kernel-wasm.ts", "reader.ts"]) {
      expect(bytesOf(`core/src/${core}`), core).toBe(0);
    }
    expect(result.outputFiles[0]!.text).not.toContain("obsolete line folding");
  });
});
