import { describe, expect, it } from "vitest";
import { parseCommand } from "../src/commands.js";

describe("parseCommand", () => {
  it.each([
    ["hello", { type: "send", text: "hello" }],
    ["  spaced  ", { type: "send", text: "  spaced  " }],
    ["//etc/passwd", { type: "send", text: "/etc/passwd" }],
    ["", { type: "nothing" }],
    ["/ping", { type: "ping" }],
    ["/reconnect", { type: "reconnect" }],
    ["/help", { type: "help" }],
    ["/close", { type: "close", code: undefined, reason: "" }],
    ["/quit", { type: "close", code: undefined, reason: "" }],
    ["/close 4000", { type: "close", code: 4000, reason: "" }],
    ["/close 1001 going away now", { type: "close", code: 1001, reason: "going away now" }],
  ])("%j", (line, command) => {
    expect(parseCommand(line, "base64")).toEqual(command);
  });

  it("/binary decodes with the default encoding, or the one named first", () => {
    expect(parseCommand("/binary AAE=", "base64")).toEqual({ type: "binary", data: new Uint8Array([0, 1]) });
    expect(parseCommand("/binary 00ff", "hex")).toEqual({ type: "binary", data: new Uint8Array([0, 255]) });
    expect(parseCommand("/binary hex 00 ff", "base64")).toEqual({
      type: "binary",
      data: new Uint8Array([0, 255]),
    });
    expect(parseCommand("/binary base64 AAE", "hex")).toEqual({
      type: "binary",
      data: new Uint8Array([0, 1]),
    });
  });

  it.each([
    ["/binary", /\/binary: no data/],
    ["/binary hex", /\/binary: no data/],
    ["/binary hex 0", /\/binary: not hex/],
    ["/binary A", /\/binary: not base64/],
    ["/close abc", /\/close: not a close code: abc/],
    ["/frob", /unknown command \/frob/],
    ["/", /unknown command \//],
  ])("%j is invalid, with a message", (line, message) => {
    const command = parseCommand(line, "base64");
    expect(command.type).toBe("invalid");
    expect(command.type === "invalid" && command.message).toMatch(message);
  });
});
