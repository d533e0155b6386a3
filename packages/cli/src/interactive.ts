/**
 * The interactive mode: a readline prompt on the terminal. Typed lines are sent; lines starting with
 * "/" are commands (commands.ts); what arrives is printed above the prompt, which is then redrawn
 * with whatever was being typed.
 */
import readline from "node:readline";
import type { WebSocketClient } from "@tideway/client";
import { COMMAND_HELP, type Command, parseCommand } from "./commands.js";
import type { BinaryEncoding } from "./encoding.js";
import type { Printer, Reporter } from "./output.js";

export interface TerminalStreams {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The prompt and the lines printed around it. */
export class Terminal {
  readonly #streams: TerminalStreams;
  readonly #rl: readline.Interface;
  #prompting = false;
  #closed = false;
  #interrupts = 0;
  #onInterrupt: (count: number) => void = () => {};
  #onEnd: () => void = () => {};

  /** Lines printed above the prompt: messages on stdout, events and notes on stderr. */
  readonly printer: Printer = {
    out: (line) => {
      this.#print(this.#streams.stdout, line);
      return Promise.resolve();
    },
    err: (line) => this.#print(this.#streams.stderr, line),
  };

  constructor(streams: TerminalStreams) {
    this.#streams = streams;
    this.#rl = readline.createInterface({
      input: streams.stdin,
      output: streams.stdout,
      terminal: true,
      prompt: "> ",
      historySize: 1000,
    });
    this.#rl.on("SIGINT", () => this.#onInterrupt(++this.#interrupts));
    this.#rl.on("close", () => {
      this.#closed = true;
      this.#onEnd();
    });
  }

  /** Ctrl-C calls `handler` with how many times it was pressed (the first closes, the next one terminates). */
  onInterrupt(handler: (count: number) => void): void {
    this.#onInterrupt = handler;
  }

  /** Shows the prompt and carries out each typed line on `client`; `onEnd` runs on Ctrl-D. */
  start(client: WebSocketClient, reporter: Reporter, encoding: BinaryEncoding, onEnd: () => void): void {
    this.#onEnd = onEnd;
    if (this.#closed) {
      onEnd();
      return;
    }
    this.#rl.on("line", (line) => {
      run(parseCommand(line, encoding), client, reporter);
      this.#rl.prompt();
    });
    this.#prompting = true;
    this.#rl.prompt();
  }

  close(): void {
    if (this.#prompting && !this.#closed) {
      // Leave the terminal without a dangling prompt.
      readline.clearLine(this.#streams.stdout, 0);
      readline.cursorTo(this.#streams.stdout, 0);
    }
    this.#prompting = false;
    if (!this.#closed) {
      this.#closed = true;
      this.#rl.close();
    }
  }

  #print(stream: NodeJS.WritableStream, line: string): void {
    if (!this.#prompting || this.#closed) {
      stream.write(`${line}\n`);
      return;
    }
    // Clear the prompt line, print, then redraw the prompt with the text being typed.
    readline.clearLine(this.#streams.stdout, 0);
    readline.cursorTo(this.#streams.stdout, 0);
    stream.write(`${line}\n`);
    this.#rl.prompt(true);
  }
}

/** Carries out one command; failures become notes, never exceptions. */
function run(command: Command, client: WebSocketClient, reporter: Reporter): void {
  const failed = (what: string) => (err: unknown) => reporter.note(`${what}: ${message(err)}`, "red");
  try {
    switch (command.type) {
      case "send":
        client.send(command.text).catch(failed("send failed"));
        return;
      case "binary":
        client.send(command.data).catch(failed("send failed"));
        return;
      case "ping":
        client
          .ping()
          .then((ms) => reporter.note(`pong: round trip ${ms.toFixed(1)} ms`, "green"))
          .catch(failed("ping failed"));
        return;
      case "close":
        client.close(command.code, command.reason).catch(failed("close failed"));
        return;
      case "reconnect":
        client.reconnect(0);
        return;
      case "help":
        reporter.note(COMMAND_HELP);
        return;
      case "invalid":
        reporter.note(command.message, "red");
        return;
      case "nothing":
        return;
    }
  } catch (err) {
    failed(`/${command.type}`)(err);
  }
}
