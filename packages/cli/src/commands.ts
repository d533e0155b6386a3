/**
 * The interactive mode's input language: a typed line is a message, unless it starts with "/".
 * Parsing is a pure function from a line to a tagged command; interactive.ts carries them out.
 */
import { type BinaryEncoding, decodeBinary } from "./encoding.js";

export type Command = Readonly<
  | { type: "send"; text: string }
  | { type: "binary"; data: Uint8Array }
  | { type: "ping" }
  | { type: "close"; code: number | undefined; reason: string }
  | { type: "reconnect" }
  | { type: "help" }
  | { type: "nothing" }
  | { type: "invalid"; message: string }
>;

/** The commands, as /help lists them. */
export const COMMAND_HELP = [
  "/ping                      send a ping, print the round trip",
  "/close [code] [reason]     close the connection (default 1000) and exit",
  "/reconnect                 close and connect again",
  "/binary [hex|base64] DATA  send DATA as a binary message (default encoding: --hex or base64)",
  "/help                      this list",
  "//text                     send a text starting with /",
  "Ctrl-D                     close normally and exit",
].join("\n");

function parseClose(args: string): Command {
  const match = /^(\S+)?\s*([\s\S]*)$/.exec(args)!;
  const [, codeText, reason = ""] = match;
  if (codeText === undefined) return { type: "close", code: undefined, reason: "" };
  if (!/^\d+$/.test(codeText)) return { type: "invalid", message: `/close: not a close code: ${codeText}` };
  return { type: "close", code: Number(codeText), reason };
}

function parseBinary(args: string, encoding: BinaryEncoding): Command {
  const explicit = /^(hex|base64)(?:\s+([\s\S]*))?$/.exec(args);
  const [chosen, data] = explicit ? [explicit[1] as BinaryEncoding, explicit[2] ?? ""] : [encoding, args];
  if (data.trim() === "") return { type: "invalid", message: "/binary: no data (try /binary hex 01ff)" };
  try {
    return { type: "binary", data: decodeBinary(data, chosen) };
  } catch (err) {
    return { type: "invalid", message: `/binary: ${(err as Error).message}` };
  }
}

/** Parses one typed line; `encoding` is the default of /binary. */
export function parseCommand(line: string, encoding: BinaryEncoding): Command {
  if (line === "") return { type: "nothing" };
  if (!line.startsWith("/")) return { type: "send", text: line };
  if (line.startsWith("//")) return { type: "send", text: line.slice(1) };
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(line);
  const [name, args = ""] = match ? [match[1], match[2]] : ["", ""];
  switch (name) {
    case "ping":
      return { type: "ping" };
    case "close":
    case "quit":
      return parseClose(args.trim());
    case "reconnect":
      return { type: "reconnect" };
    case "binary":
      return parseBinary(args.trim(), encoding);
    case "help":
      return { type: "help" };
    default:
      return { type: "invalid", message: `unknown command /${name ?? ""} (try /help; //text sends "/text")` };
  }
}
