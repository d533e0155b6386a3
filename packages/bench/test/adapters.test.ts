// The adapters refuse to run under the wrong conditions rather than measure the wrong thing.
import { describe, expect, it } from "vitest";
import { ADAPTER_NAMES, adapterEnv, loadAdapter } from "../src/adapters/index.js";

describe("adapters", () => {
  it("loads ws with bufferutil in a process started without WS_NO_BUFFER_UTIL", async () => {
    expect(process.env.WS_NO_BUFFER_UTIL).toBeUndefined();
    expect((await loadAdapter("ws")).name).toBe("ws");
  });

  it("refuses ws-nobu in a process where ws loaded bufferutil", async () => {
    await expect(loadAdapter("ws-nobu")).rejects.toThrow(
      "ws loaded bufferutil although WS_NO_BUFFER_UTIL is set",
    );
  });

  it("gives only ws-nobu the variables that disable the addons", () => {
    expect(ADAPTER_NAMES.map(adapterEnv)).toEqual([
      {},
      {},
      { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" },
      {},
    ]);
  });

  it("loads undici and the Tideway client", async () => {
    expect((await loadAdapter("undici")).name).toBe("undici");
    expect((await loadAdapter("tideway")).name).toBe("tideway");
  });
});
