import { describe, expect, it } from "vitest";
import {
  type CliEvent,
  describe as describeEvent,
  type Printer,
  Reporter,
  type ReporterOptions,
  useColour,
} from "../src/output.js";

const NOW = new Date(2026, 0, 2, 3, 4, 5, 6);

function reporter(options: Partial<ReporterOptions>) {
  const lines = { out: [] as string[], err: [] as string[] };
  const printer: Printer = {
    out: async (line) => {
      lines.out.push(line);
    },
    err: (line) => lines.err.push(line),
  };
  const r = new Reporter(printer, {
    jsonl: false,
    interactive: false,
    verbose: false,
    colour: false,
    encoding: "base64",
    now: () => NOW,
    ...options,
  });
  return { r, lines };
}

const open: CliEvent = {
  type: "open",
  status: 101,
  statusText: "Switching Protocols",
  protocol: "chat",
  extensions: "",
};

describe("Reporter", () => {
  it("pipe mode: messages are raw lines on stdout (binary encoded); events only with -v, on stderr", async () => {
    const { r, lines } = reporter({});
    await r.message("text");
    await r.message(new Uint8Array([0, 1]));
    r.event(open);
    r.event({ type: "pong", data: new Uint8Array() });
    expect(lines).toEqual({ out: ["text", "AAE="], err: [] });
    const verbose = reporter({ verbose: true, encoding: "hex" });
    await verbose.r.message(new Uint8Array([0, 1]));
    verbose.r.event(open);
    expect(verbose.lines).toEqual({
      out: ["0001"],
      err: ["03:04:05.006 open: 101 Switching Protocols, protocol chat"],
    });
  });

  it("interactive mode: time and direction, events shown but pings only with -v, colours when asked", async () => {
    const { r, lines } = reporter({ interactive: true });
    await r.message("hi", 2);
    await r.message(new Uint8Array([255]));
    r.event(open);
    r.event({ type: "ping", data: new Uint8Array([1]) });
    expect(lines.out).toEqual(["03:04:05.006 #2 < hi", "03:04:05.006 < [base64] /w=="]);
    expect(lines.err).toEqual(["03:04:05.006 open: 101 Switching Protocols, protocol chat"]);
    const coloured = reporter({ interactive: true, colour: true });
    coloured.r.event({ type: "close", code: 1000, reason: "", wasClean: true });
    expect(coloured.lines.err).toEqual(["\x1b[2m03:04:05.006\x1b[0m \x1b[33mclose: 1000\x1b[0m"]);
  });

  it("--jsonl: one object per event and message on stdout, with type and ISO time", async () => {
    const { r, lines } = reporter({ jsonl: true });
    await r.message("a");
    await r.message(new Uint8Array([1, 2]));
    r.event({ type: "ping", data: new Uint8Array([0xab]) });
    r.event({ type: "reconnecting", attempt: 2, delay: 1000, error: "refused" });
    r.event({ type: "close", code: 1006, reason: "", wasClean: false, peer: 3 });
    const time = NOW.toISOString();
    expect(lines.out.map((l) => JSON.parse(l))).toEqual([
      { type: "message", time, data: "a" },
      { type: "message", time, data: "AQI=", binary: true, encoding: "base64" },
      { type: "ping", time, data: "ab" },
      { type: "reconnecting", time, attempt: 2, delay: 1000, error: "refused" },
      { type: "close", time, peer: 3, code: 1006, reason: "", wasClean: false },
    ]);
    expect(lines.err).toEqual([]);
  });

  it("notes go to stderr in every mode", () => {
    const { r, lines } = reporter({ jsonl: true });
    r.note("warning");
    expect(lines.err).toEqual(["warning"]);
  });
});

describe("describe", () => {
  it.each<[CliEvent, string]>([
    [
      { ...open, protocol: "", extensions: "permessage-deflate" },
      "open: 101 Switching Protocols, extensions permessage-deflate",
    ],
    [{ type: "close", code: 4000, reason: "bye", wasClean: false }, "close: 4000 bye (not clean)"],
    [{ type: "redirect", status: 301, from: "ws://a/", to: "ws://b/" }, "redirect: 301 to ws://b/"],
    [{ type: "error", code: "X", message: "m", peer: 1 }, "#1 error: m"],
    [
      { type: "connection", address: "127.0.0.1:5", path: "/p", protocol: "", peer: 4 },
      "#4 connected: /p from 127.0.0.1:5",
    ],
    [{ type: "listening", url: "ws://127.0.0.1:80" }, "listening on ws://127.0.0.1:80"],
  ])("%j", (event, text) => {
    expect(describeEvent(event)).toBe(text);
  });
});

describe("useColour", () => {
  it("only on a TTY, and not when NO_COLOR is set to a non-empty value", () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(useColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
  });
});
