/**
 * The command line: commander's definition of every option, and the checks commander cannot make
 * (option combinations, "Name: value" headers), giving a typed {@link CliOptions} or a usage error.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import packageJson from "../package.json" with { type: "json" };
import type { BinaryEncoding } from "./encoding.js";
import { EXIT_CODES_HELP } from "./exit.js";

/** What the command line asked for, checked. */
export interface CliOptions {
  /** The URL to connect to; undefined with --listen. */
  readonly url: string | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly subprotocols: readonly string[];
  readonly origin: string | undefined;
  readonly proxy: string | undefined;
  readonly ca: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
  readonly insecure: boolean;
  readonly compress: boolean;
  /** Heartbeat interval in ms; 0 disables it; undefined keeps the client's default. */
  readonly heartbeat: number | undefined;
  /** undefined: the mode decides (interactive on, pipe off). */
  readonly reconnect: boolean | undefined;
  readonly maxPayload: number | undefined;
  readonly verbose: boolean;
  readonly followRedirects: boolean;
  readonly binary: boolean;
  /** How binary data is written on a line; base64 unless --hex. */
  readonly encoding: BinaryEncoding;
  /** --base64 or --hex was given: --binary input lines are decoded. */
  readonly decodeInput: boolean;
  readonly jsonl: boolean;
  readonly send: readonly string[];
  readonly count: number | undefined;
  /** In ms: how long to keep receiving after the input ended, before closing. */
  readonly wait: number | undefined;
  /** In ms. */
  readonly timeout: number | undefined;
  readonly listen: number | undefined;
  readonly host: string;
  readonly echo: boolean;
  readonly broadcast: boolean;
}

/** The command line is wrong: print `message` and exit with the usage code. */
export class UsageError extends Error {}

/** What parsing gave: options to run with, or a finished run (--help, --version, a usage error). */
export type Parsed =
  | { readonly type: "run"; readonly options: CliOptions }
  | { readonly type: "exit"; readonly code: number };

const EXAMPLES = `
Examples:
  tideway ws://127.0.0.1:8080/chat                 talk interactively (on a terminal)
  echo hello | tideway ws://127.0.0.1:8080         send stdin lines, print what comes back
  tideway --send '{"op":"subscribe"}' --count 3 --timeout 10 wss://example.test/feed
  tideway --jsonl -v wss://example.test/feed       one JSON object per event
  tideway --binary --hex ws://127.0.0.1:8080 < frames.hex
  tideway -H 'Authorization: Bearer t0k3n' --subprotocol v2.chat wss://example.test/
  tideway --listen 8080 --echo                     an echo server on 127.0.0.1:8080
  tideway --listen 8080 --broadcast --host ::      a chat relay on every interface


${EXIT_CODES_HELP}
`;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Seconds (fractions allowed) to ms. */
function seconds(name: string, allowZero: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (n === 0 && !allowZero) || n > 2_147_483) {
      throw new InvalidArgumentError(`${name} must be a number of seconds${allowZero ? "" : " above 0"}.`);
    }
    return Math.round(n * 1000);
  };
}

function parseHeader(text: string): readonly [string, string] {
  const colon = text.indexOf(":");
  const name = colon > 0 ? text.slice(0, colon).trim() : "";
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new UsageError(`-H/--header wants "Name: value", got ${JSON.stringify(text)}`);
  }
  return [name, text.slice(colon + 1).trim()];
}

function program(): Command {
  return new Command("tideway")
    .description(
      "A WebSocket client (interactive or pipe mode) and a small server, built on @tideway/client.",
    )
    .usage("[options] <url>\n       tideway --listen <port> [--echo | --broadcast]")
    .argument("[url]", "ws://, wss://, http(s):// (as ws/wss) or ws+unix:///path/to.sock:/request/path URL")
    .option("-H, --header <header>", 'extra request header "Name: value" (repeatable)', collect)
    .option("--subprotocol <name>", "offer a subprotocol (repeatable); --listen: accept it", collect)
    .option("--origin <origin>", "Origin header")
    .option("--proxy <url>", "http(s)://, socks5(h)://, socks4(a):// proxy (default: from the environment)")
    .option("--ca <file>", "trust the CA certificates in this PEM file")
    .option("--cert <file>", "client certificate (PEM), with --key")
    .option("--key <file>", "client certificate's private key (PEM)")
    .option("--insecure", "do not check the server's certificate (prints a warning)")
    .option("--no-compress", "do not offer permessage-deflate")
    .option("--heartbeat <seconds>", "ping interval, 0 to disable (default 30)", seconds("--heartbeat", true))
    .addOption(new Option("--reconnect", "reconnect with backoff (the default in interactive mode)"))
    .addOption(new Option("--no-reconnect", "exit when the connection ends (the default in pipe mode)"))
    .option(
      "--max-payload <bytes>",
      "largest message accepted (default 100 MiB)",
      integer("--max-payload", 1),
    )
    .option("-v, --verbose", "print the upgrade request and response heads, pings and pongs")
    .option("--follow-redirects", "follow 301/302/303/307/308 answers to the upgrade")
    .option("--binary", "send input lines as binary messages (decoded with --base64 or --hex)")
    .option("--base64", "binary data on lines is base64 (the default for output)")
    .option("--hex", "binary data on lines is hex")
    .option("--jsonl", "print one JSON object per event on stdout")
    .option("--send <text>", "send this message (repeatable); stdin is not read", collect)
    .option("--count <n>", "exit after receiving n messages", integer("--count", 1))
    .option(
      "--wait <seconds>",
      "when the input ends, wait this long for replies before closing",
      seconds("--wait", true),
    )
    .option(
      "--timeout <seconds>",
      "give up after this long (client: exit 5; --listen: stop)",
      seconds("--timeout", false),
    )
    .option(
      "--listen <port>",
      "run a server on this port (0: any free port) instead of a client",
      integer("--listen", 0, 65535),
    )
    .option("--host <host>", "--listen: the address to bind (default 127.0.0.1)")
    .option("--echo", "--listen: send each message back to its sender")
    .option("--broadcast", "--listen: send each message to every other client")
    .version(packageJson.version, "-V, --version", "print the version of @tideway/cli")
    .helpOption("-h, --help", "show this help")
    .addHelpText("after", EXAMPLES)
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
}

function check(raw: Record<string, unknown>, url: string | undefined): CliOptions {
  const o = raw as {
    header?: string[];
    subprotocol?: string[];
    origin?: string;
    proxy?: string;
    ca?: string;
    cert?: string;
    key?: string;
    insecure?: boolean;
    compress: boolean;
    heartbeat?: number;
    reconnect?: boolean;
    maxPayload?: number;
    verbose?: boolean;
    followRedirects?: boolean;
    binary?: boolean;
    base64?: boolean;
    hex?: boolean;
    jsonl?: boolean;
    send?: string[];
    count?: number;
    wait?: number;
    timeout?: number;
    listen?: number;
    host?: string;
    echo?: boolean;
    broadcast?: boolean;
  };
  if (o.listen === undefined && url === undefined) throw new UsageError("missing URL (or --listen <port>)");
  if (o.listen !== undefined && url !== undefined)
    throw new UsageError("give either a URL or --listen, not both");
  if (o.listen === undefined && (o.echo || o.broadcast))
    throw new UsageError("--echo and --broadcast need --listen");
  if (o.echo && o.broadcast) throw new UsageError("give --echo or --broadcast, not both");
  if (o.base64 && o.hex) throw new UsageError("give --base64 or --hex, not both");
  if ((o.cert === undefined) !== (o.key === undefined)) throw new UsageError("--cert and --key go together");
  return {
    url,
    headers: (o.header ?? []).map(parseHeader),
    subprotocols: o.subprotocol ?? [],
    origin: o.origin,
    proxy: o.proxy,
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    insecure: o.insecure === true,
    compress: o.compress,
    heartbeat: o.heartbeat,
    reconnect: o.reconnect,
    maxPayload: o.maxPayload,
    verbose: o.verbose === true,
    followRedirects: o.followRedirects === true,
    binary: o.binary === true,
    encoding: o.hex ? "hex" : "base64",
    decodeInput: o.hex === true || o.base64 === true,
    jsonl: o.jsonl === true,
    send: o.send ?? [],
    count: o.count,
    wait: o.wait,
    timeout: o.timeout,
    listen: o.listen,
    host: o.host ?? "127.0.0.1",
    echo: o.echo === true,
    broadcast: o.broadcast === true,
  };
}

/**
 * Parses the arguments (without node and the script). Help and version go to `out`; errors are one
 * line on `err`, "tideway: ...", ending with a hint to --help.
 */
export function parseArgs(
  argv: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
): Parsed {
  const command = program()
    .exitOverride()
    .configureOutput({
      writeOut: out,
      writeErr: err,
      outputError: (message, write) =>
        write(
          `tideway: ${message
            .replace(/^error: /, "")
            .trim()
            .replace(/\s*\n\s*/g, " ")} (see --help)\n`,
        ),
    });
  try {
    command.parse(argv as string[], { from: "user" });
    return { type: "run", options: check(command.opts(), command.args[0]) };
  } catch (e) {
    if (e instanceof CommanderError) return { type: "exit", code: e.exitCode === 0 ? 0 : 2 };
    if (e instanceof UsageError) {
      err(`tideway: ${e.message} (see --help)\n`);
      return { type: "exit", code: 2 };
    }
    throw e;
  }
}
