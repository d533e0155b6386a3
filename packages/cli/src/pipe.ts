/**
 * The pipe mode's input: each stdin line (or each --send text) becomes a message, in order, each
 * send awaited so that a fast producer waits for the socket. Lines that do not decode (--binary
 * with --base64/--hex) are reported and skipped.
 */
import readline from "node:readline";
import type { WebSocketClient } from "@tideway/client";
import { type BinaryEncoding, decodeBinary } from "./encoding.js";
import type { Reporter } from "./output.js";

export interface PipeInputOptions {
  /** Send lines as binary messages. */
  readonly binary: boolean;
  /** Decode binary lines with `encoding` first (else their UTF-8 bytes are sent). */
  readonly decode: boolean;
  readonly encoding: BinaryEncoding;
}

/** One input line as what to send, or undefined (reported) when it does not decode. */
export function lineToMessage(line: string, o: PipeInputOptions, reporter: Reporter, lineNumber: number) {
  if (!o.binary) return line;
  if (!o.decode) return new TextEncoder().encode(line);
  try {
    return decodeBinary(line, o.encoding);
  } catch (err) {
    reporter.note(`line ${lineNumber} skipped: ${(err as Error).message}`, "yellow");
    return undefined;
  }
}

/**
 * Sends every line of `lines` and resolves when they are all handed to the OS, or as soon as a send
 * fails (the connection ended: the session reports why). `stop()` ends reading early.
 */
export async function sendLines(
  client: WebSocketClient,
  lines: AsyncIterable<string> | Iterable<string>,
  o: PipeInputOptions,
  reporter: Reporter,
): Promise<void> {
  let lineNumber = 0;
  for await (const line of lines) {
    const data = lineToMessage(line, o, reporter, ++lineNumber);
    if (data === undefined) continue;
    try {
      await client.send(data, { binary: o.binary });
    } catch {
      return;
    }
  }
}

/** stdin as lines (a final line without newline counts; CRLF ends a line too). */
export function stdinLines(stdin: NodeJS.ReadableStream): { lines: AsyncIterable<string>; stop(): void } {
  const rl = readline.createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  return { lines: rl, stop: () => rl.close() };
}
