/**
 * One client session, from the first connect to the exit code: the client's events reported, its
 * messages printed (the async iterator, whose end or error is the end of the session), input sent
 * (stdin lines, --send, or the prompt), --count and --timeout applied.
 */
import { type CloseInfo, proxyFromEnv, WebSocketClient, type WebSocketClientOptions } from "@tideway/client";
import { HandshakeError } from "@tideway/core";
import type { CliOptions } from "./args.js";
import { clientOptions } from "./client-options.js";
import { ExitCode, failure, OK, type Outcome } from "./exit.js";
import { Terminal, type TerminalStreams } from "./interactive.js";
import { type Printer, Reporter, useColour } from "./output.js";
import { sendLines, stdinLines } from "./pipe.js";
import { headLines, responseHead, tappingConnection } from "./verbose.js";

export interface Io extends TerminalStreams {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Interactive when a person types: stdin is a terminal and no option asks for machine use. */
export function isInteractive(o: CliOptions, io: Io): boolean {
  return io.stdin.isTTY === true && o.send.length === 0 && !o.jsonl;
}

/** stdout and stderr as plain line sinks; `out` waits for 'drain' when stdout is full. */
export function pipePrinter(io: Io): Printer {
  return {
    out: (line) =>
      new Promise((resolve) => {
        if (io.stdout.write(`${line}\n`)) resolve();
        else io.stdout.once("drain", resolve);
      }),
    err: (line) => {
      io.stderr.write(`${line}\n`);
    },
  };
}

function errorCode(err: Error): string {
  return "code" in err && typeof err.code === "string" ? err.code : err.name;
}

/** Reports the client's events; -v adds the response heads (and, without a proxy, the request heads). */
function reportEvents(client: WebSocketClient, reporter: Reporter, verbose: boolean): void {
  const showResponse = (head: string) => reporter.note(headLines(head, "< ").join("\n"), "dim");
  client.on("open", (r) => {
    if (verbose) showResponse(responseHead(r));
    reporter.event({
      type: "open",
      status: r.status,
      statusText: r.statusText,
      protocol: r.protocol,
      extensions: r.extensions,
    });
  });
  client.on("error", (err) => {
    if (verbose && err instanceof HandshakeError && err.response !== undefined)
      showResponse(responseHead(err.response));
    reporter.event({ type: "error", code: errorCode(err), message: err.message });
  });
  client.on("reconnecting", ({ attempt, delay, error }) =>
    reporter.event({
      type: "reconnecting",
      attempt,
      delay,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  client.on("redirect", ({ status, from, to }) => reporter.event({ type: "redirect", status, from, to }));
  client.on("close", ({ code, reason, wasClean }) =>
    reporter.event({ type: "close", code, reason, wasClean }),
  );
  client.on("ping", (data) => reporter.event({ type: "ping", data }));
  client.on("pong", (data) => reporter.event({ type: "pong", data }));
}

/** -v without a proxy: open connections through a tap that shows each request head. */
function verboseOptions(o: CliOptions, url: string, io: Io, reporter: Reporter): WebSocketClientOptions {
  if (!o.verbose) return {};
  let proxied = o.proxy !== undefined;
  try {
    proxied ||= proxyFromEnv(new URL(url), io.env) !== undefined;
  } catch {
    return {}; // an invalid URL: the client's constructor says why
  }
  if (proxied) {
    reporter.note("-v: the request head is not shown through a proxy", "dim");
    return {};
  }
  return {
    createConnection: tappingConnection((head) => reporter.note(headLines(head, "> ").join("\n"), "dim")),
  };
}

/**
 * How the last connection ended, for a session whose iterator ended without an error: our own
 * close() ends it cleanly even when the close handshake then failed (a protocol error, no answer).
 */
class LastClose {
  #info: CloseInfo | undefined;
  #error: Error | undefined;

  constructor(client: WebSocketClient) {
    client.on("open", () => {
      this.#info = undefined;
      this.#error = undefined;
    });
    client.on("error", (err) => {
      this.#error = err;
    });
    client.on("close", (info) => {
      this.#info = info;
    });
  }

  /** OK, unless the last connection ended uncleanly: then why. */
  outcome(): Outcome {
    const info = this.#info;
    if (info === undefined || info.wasClean) return OK;
    const why = this.#error === undefined ? OK : failure(this.#error);
    return why.code !== ExitCode.Ok
      ? why
      : { code: ExitCode.Closed, reason: `the close handshake failed (${info.code})` };
  }
}

/** Prints every message until the iterator ends (a normal close) or throws (the failure); --count closes. */
async function receive(
  client: WebSocketClient,
  reporter: Reporter,
  count: number | undefined,
): Promise<Outcome> {
  const last = new LastClose(client);
  let received = 0;
  try {
    for await (const message of client) {
      // binaryType is the default "uint8array": binary messages are Uint8Arrays.
      await reporter.message(message as string | Uint8Array);
      if (count !== undefined && ++received >= count) {
        await client.close();
        return last.outcome();
      }
    }
    return last.outcome();
  } catch (err) {
    return failure(err);
  }
}

/** Runs a client session to its end; the outcome's code is the process exit code. */
export async function runClient(o: CliOptions, url: string, io: Io): Promise<Outcome> {
  const interactive = isInteractive(o, io);
  const options = clientOptions(o, interactive); // reads the certificate files: may be a usage error
  const terminal = interactive ? new Terminal(io) : undefined;
  const reporter = new Reporter(terminal?.printer ?? pipePrinter(io), {
    jsonl: o.jsonl,
    interactive,
    verbose: o.verbose,
    colour: useColour(interactive ? io.stdout : io.stderr, io.env),
    encoding: o.encoding,
    now: () => new Date(),
  });
  if (o.insecure) reporter.note("warning: --insecure: the server's certificate is not checked", "yellow");

  let client: WebSocketClient;
  try {
    // binaryType is never set here: the default "uint8array".
    const clientOptions = { ...options, ...verboseOptions(o, url, io, reporter) };
    client = new WebSocketClient(url, clientOptions as WebSocketClientOptions<"uint8array">);
  } catch (err) {
    terminal?.close();
    if (err instanceof TypeError || err instanceof RangeError)
      return { code: ExitCode.Usage, reason: err.message };
    throw err;
  }
  reportEvents(client, reporter, o.verbose);

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((resolve) => {
    if (o.timeout === undefined) return;
    timer = setTimeout(() => {
      client.terminate();
      resolve({ code: ExitCode.Timeout, reason: `timed out after ${o.timeout! / 1000} s` });
    }, o.timeout);
  });
  const closeWhenDone = () => {
    client.close().catch(() => {});
  };
  terminal?.onInterrupt((count) => (count === 1 ? closeWhenDone() : client.terminate()));

  let stopInput = () => {};
  const ended = receive(client, reporter, o.count);
  client.connect().then(
    () => {
      if (terminal !== undefined) {
        terminal.start(client, reporter, o.encoding, closeWhenDone);
        return;
      }
      const input = o.send.length > 0 ? { lines: o.send, stop: () => {} } : stdinLines(io.stdin);
      stopInput = input.stop;
      const inputOptions = { binary: o.binary, decode: o.decodeInput, encoding: o.encoding };
      // The end of the input closes the connection (after --wait), unless --count waits for messages.
      void sendLines(client, input.lines, inputOptions, reporter).then(() => {
        if (o.count === undefined) setTimeout(closeWhenDone, o.wait ?? 0);
      });
    },
    () => {}, // the iterator reports the failure
  );

  const outcome = await Promise.race([ended, timedOut]);
  clearTimeout(timer);
  stopInput();
  terminal?.close();
  client.terminate();
  return outcome;
}
