/**
 * What the CLI prints, and where: messages on stdout (raw lines in pipe mode, with time and direction
 * in interactive mode, JSON objects with --jsonl), events and diagnostics on stderr (on the terminal
 * in interactive mode, as JSON objects on stdout with --jsonl). No other module formats output.
 */
import { type BinaryEncoding, encodeBinary } from "./encoding.js";

/** Everything worth reporting about a connection, as small tagged values. `peer` numbers a server's clients. */
export type CliEvent = Readonly<
  (
    | { type: "open"; status: number; statusText: string; protocol: string; extensions: string }
    | { type: "message"; data: string | Uint8Array }
    | { type: "ping" | "pong"; data: Uint8Array }
    | { type: "reconnecting"; attempt: number; delay: number; error: string }
    | { type: "redirect"; status: number; from: string; to: string }
    | { type: "close"; code: number; reason: string; wasClean: boolean }
    | { type: "error"; code: string; message: string }
    | { type: "listening"; url: string }
    | { type: "connection"; address: string; path: string; protocol: string }
  ) & { peer?: number }
>;

/** Where lines go. `out` resolves when stdout can take more (backpressure); `err` never blocks. */
export interface Printer {
  out(line: string): Promise<void>;
  err(line: string): void;
}

const ANSI = { dim: "2", red: "31", green: "32", yellow: "33", blue: "34", cyan: "36" } as const;
export type Colour = keyof typeof ANSI;

/** Colours only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org). */
export function useColour(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? "") === "";
}

export interface ReporterOptions {
  /** One JSON object per event on stdout. */
  readonly jsonl: boolean;
  /** Interactive: messages with time and direction, events always shown. */
  readonly interactive: boolean;
  /** Pipe mode: show events on stderr; both modes: show pings and pongs. */
  readonly verbose: boolean;
  readonly colour: boolean;
  readonly encoding: BinaryEncoding;
  /** Injected so tests could fix the time; the CLI passes `() => new Date()`. */
  readonly now: () => Date;
}

function clockTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function hex(data: Uint8Array): string {
  return encodeBinary(data, "hex");
}

/** The event's fields for --jsonl (binary data encoded, ping payloads in hex). */
function jsonFields(event: CliEvent, encoding: BinaryEncoding): Record<string, unknown> {
  switch (event.type) {
    case "message":
      return typeof event.data === "string"
        ? { data: event.data }
        : { data: encodeBinary(event.data, encoding), binary: true, encoding };
    case "ping":
    case "pong":
      return { data: hex(event.data) };
    default: {
      const { type: _type, peer: _peer, ...fields } = event;
      return fields;
    }
  }
}

/** A one-line human description of an event (not of a message). */
export function describe(event: CliEvent): string {
  const peer = event.peer === undefined ? "" : `#${event.peer} `;
  switch (event.type) {
    case "open": {
      const extras = [
        event.protocol ? `protocol ${event.protocol}` : "",
        event.extensions ? `extensions ${event.extensions}` : "",
      ].filter(Boolean);
      return `${peer}open: ${event.status} ${event.statusText}${extras.length ? `, ${extras.join(", ")}` : ""}`;
    }
    case "message":
      return `${peer}message`;
    case "ping":
    case "pong":
      return `${peer}${event.type}${event.data.length ? ` ${hex(event.data)}` : ""}`;
    case "reconnecting":
      return `${peer}reconnecting: attempt ${event.attempt} in ${event.delay} ms (${event.error})`;
    case "redirect":
      return `${peer}redirect: ${event.status} to ${event.to}`;
    case "close":
      return `${peer}close: ${event.code}${event.reason ? ` ${event.reason}` : ""}${event.wasClean ? "" : " (not clean)"}`;
    case "error":
      return `${peer}error: ${event.message}`;
    case "listening":
      return `listening on ${event.url}`;
    case "connection":
      return `${peer}connected: ${event.path} from ${event.address}${event.protocol ? `, protocol ${event.protocol}` : ""}`;
  }
}

const EVENT_COLOUR: Partial<Record<CliEvent["type"], Colour>> = {
  open: "green",
  close: "yellow",
  reconnecting: "yellow",
  error: "red",
  ping: "dim",
  pong: "dim",
};

/** Turns events and messages into lines on the printer, per mode. */
export class Reporter {
  readonly #printer: Printer;
  readonly #o: ReporterOptions;

  constructor(printer: Printer, options: ReporterOptions) {
    this.#printer = printer;
    this.#o = options;
  }

  #paint(colour: Colour | undefined, text: string): string {
    return this.#o.colour && colour !== undefined ? `\x1b[${ANSI[colour]}m${text}\x1b[0m` : text;
  }

  #stamp(now: Date): string {
    return this.#paint("dim", clockTime(now));
  }

  /** A received message (resolves when stdout can take the next one). */
  message(data: string | Uint8Array, peer?: number): Promise<void> {
    const now = this.#o.now();
    if (this.#o.jsonl)
      return this.#json({ type: "message", data, ...(peer === undefined ? {} : { peer }) }, now);
    const text = typeof data === "string" ? data : encodeBinary(data, this.#o.encoding);
    if (!this.#o.interactive) return this.#printer.out(text);
    const from = peer === undefined ? "" : `#${peer} `;
    const kind = typeof data === "string" ? "" : this.#paint("blue", `[${this.#o.encoding}] `);
    return this.#printer.out(`${this.#stamp(now)} ${from}${this.#paint("cyan", "<")} ${kind}${text}`);
  }

  /** A connection event: JSON on stdout, or a line on stderr when the mode shows it. */
  event(event: CliEvent): void {
    const now = this.#o.now();
    if (this.#o.jsonl) {
      void this.#json(event, now);
      return;
    }
    const quiet =
      event.type === "ping" || event.type === "pong"
        ? !this.#o.verbose
        : !this.#o.interactive && !this.#o.verbose;
    if (quiet && event.type !== "listening") return;
    this.#printer.err(`${this.#stamp(now)} ${this.#paint(EVENT_COLOUR[event.type], describe(event))}`);
  }

  /** A line the user should see whatever the mode (warnings, /ping results, -v heads), on stderr. */
  note(text: string, colour?: Colour): void {
    this.#printer.err(this.#paint(colour, text));
  }

  #json(event: CliEvent, now: Date): Promise<void> {
    const peer = event.peer === undefined ? {} : { peer: event.peer };
    return this.#printer.out(
      JSON.stringify({
        type: event.type,
        time: now.toISOString(),
        ...peer,
        ...jsonFields(event, this.#o.encoding),
      }),
    );
  }
}
