#!/usr/bin/env node
/**
 * The `tideway` bin: parses the command line, runs a client session or a server, prints the one-line
 * reason of a failure on stderr and exits with the outcome's code.
 */
import { parseArgs, UsageError } from "./args.js";
import { ExitCode, type Outcome } from "./exit.js";
import { Reporter, useColour } from "./output.js";
import { runServer } from "./server.js";
import { type Io, pipePrinter, runClient } from "./session.js";

async function run(argv: readonly string[], io: Io): Promise<Outcome> {
  const parsed = parseArgs(
    argv,
    (s) => io.stdout.write(s),
    (s) => io.stderr.write(s),
  );
  if (parsed.type === "exit") return { code: parsed.code as ExitCode };
  const o = parsed.options;
  try {
    if (o.url !== undefined) return await runClient(o, o.url, io);
    const reporter = new Reporter(pipePrinter(io), {
      jsonl: o.jsonl,
      interactive: false,
      verbose: o.verbose,
      colour: useColour(io.stderr, io.env),
      encoding: o.encoding,
      now: () => new Date(),
    });
    return await runServer(o, reporter, io.stdin);
  } catch (err) {
    if (err instanceof UsageError) return { code: ExitCode.Usage, reason: `${err.message} (see --help)` };
    throw err;
  }
}

/** Exits once stdout and stderr have taken everything written (they are asynchronous on some platforms). */
function exit(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

const io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
// A reader that goes away (`| head -1`) is a normal end, not a crash.
process.stdout.on("error", () => exit(ExitCode.Ok));
run(process.argv.slice(2), io).then(
  (outcome) => {
    if (outcome.reason !== undefined) process.stderr.write(`tideway: ${outcome.reason}\n`);
    exit(outcome.code);
  },
  (err: unknown) => {
    // Not an expected failure: a bug. Still one line, with a hint for the report.
    process.stderr.write(
      `tideway: internal error: ${err instanceof Error ? err.message : String(err)} (please report it)\n`,
    );
    exit(ExitCode.ConnectFailed);
  },
);
