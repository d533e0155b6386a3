/**
 * The application-level heartbeat, for platforms that cannot send ping frames (browsers, workers):
 * a message the user defines, sent every `interval`, and a predicate that recognises the reply. No
 * reply within `timeout` means the peer is dead: the connection fails and the lifecycle reconnects.
 * Timers go through the injected clock, so its tests never sleep.
 */
import type { Clock, TimerHandle } from "./clock.js";
import { HeartbeatTimeoutError } from "./errors.js";
import type { Message } from "./events.js";
import { finite } from "./option-checks.js";

/** The `appHeartbeat` option (browser build): a message of your protocol that proves the peer alive. */
export interface AppHeartbeatOptions {
  /** What to send: a string goes as text, bytes as binary; a function gives a fresh one per beat. */
  message: string | Uint8Array | (() => string | Uint8Array);
  /** True for the server's reply to `message`. A reply is consumed: it is not delivered as a message. */
  isReply: (message: Message) => boolean;
  /** Milliseconds between two beats; `0` sends none (`ping()` still does). Default 30 000, as `heartbeat`. */
  interval?: number;
  /** Milliseconds to wait for the reply before failing the connection. Default 10 000, as `heartbeat`. */
  timeout?: number;
}

/** `appHeartbeat` after validation. */
export type ResolvedAppHeartbeat = Readonly<Required<AppHeartbeatOptions>>;

/** Defaults of `interval` and `timeout`: the ping-frame heartbeat's (heartbeat.ts `DEFAULT_HEARTBEAT`). */
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 10_000;

const NAMES: ReadonlySet<string> = new Set(["message", "isReply", "interval", "timeout"]);

/** Validates `appHeartbeat`; every problem is a TypeError naming the field. */
export function resolveAppHeartbeat(o: AppHeartbeatOptions | undefined): ResolvedAppHeartbeat | undefined {
  if (o === undefined) return undefined;
  if (typeof o !== "object" || o === null) throw new TypeError("Option appHeartbeat must be an object");
  const unknown = Object.keys(o).filter((key) => !NAMES.has(key));
  if (unknown.length > 0)
    throw new TypeError(`Unknown option: appHeartbeat.${unknown.join(", appHeartbeat.")}`);
  const m = o.message;
  if (typeof m !== "string" && typeof m !== "function" && !(m instanceof Uint8Array)) {
    throw new TypeError("Option appHeartbeat.message must be a string, a Uint8Array or a function");
  }
  if (typeof o.isReply !== "function") throw new TypeError("Option appHeartbeat.isReply must be a function");
  return {
    message: m,
    isReply: o.isReply,
    interval: finite("appHeartbeat.interval", o.interval, DEFAULT_INTERVAL, 0),
    timeout: finite("appHeartbeat.timeout", o.timeout, DEFAULT_TIMEOUT, 1),
  };
}

/** What the heartbeat needs from its connection. */
export interface AppHeartbeatHost {
  /** Sends the heartbeat message. */
  send(message: string | Uint8Array): void;
  /**
   * The heartbeat failed: no reply within the timeout (a HeartbeatTimeoutError), or `message` threw
   * or could not be sent. Fail the connection with `error`.
   */
  onDead(error: Error): void;
}

/**
 * One beat in flight at most: a beat due while one waits for its reply is not sent, and `ping()`
 * joins the beat in flight, so a slow server never faces a growing pile of heartbeat messages.
 */
export class AppHeartbeat {
  readonly #o: ResolvedAppHeartbeat;
  readonly #clock: Clock;
  readonly #host: AppHeartbeatHost;
  /** The next beat (interval) or the deadline of the beat in flight. */
  #timer: TimerHandle | undefined;
  /** When the beat in flight was sent; undefined when none is. */
  #sentAt: number | undefined;
  /** `ping()` calls waiting for the reply of the beat in flight. */
  #waiting: Array<{ resolve(rtt: number): void; reject(err: unknown): void }> = [];
  #stopped: Error | undefined;
  #latency: number | undefined;

  constructor(o: ResolvedAppHeartbeat, clock: Clock, host: AppHeartbeatHost) {
    this.#o = o;
    this.#clock = clock;
    this.#host = host;
  }

  /** Last measured round trip, in ms. */
  get latency(): number | undefined {
    return this.#latency;
  }

  /** The connection opened: beats start after one interval. */
  start(): void {
    this.#schedule();
  }

  /** A received message: true if it is the reply (then it is the heartbeat's, not the user's). */
  received(message: Message): boolean {
    if (!this.#o.isReply(message)) return false;
    const sentAt = this.#sentAt;
    if (sentAt === undefined) return true; // a late or unsolicited reply: still not a user message
    const rtt = this.#clock.now() - sentAt;
    this.#latency = rtt;
    this.#sentAt = undefined;
    for (const w of this.#waiting.splice(0)) w.resolve(rtt);
    this.#schedule();
    return true;
  }

  /** Sends a beat now (or joins the one in flight) and resolves with its round trip in ms. */
  ping(): Promise<number> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    const reply = new Promise<number>((resolve, reject) => this.#waiting.push({ resolve, reject }));
    if (this.#sentAt === undefined) this.#beat();
    return reply;
  }

  /** The connection is gone: no more beats; waiting pings reject with `error`. */
  stop(error: Error): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = error;
    this.#clear();
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  #schedule(): void {
    this.#clear();
    const interval = this.#o.interval;
    if (interval > 0 && this.#stopped === undefined) {
      this.#timer = this.#clock.setTimeout(() => this.#beat(), interval);
    }
  }

  #beat(): void {
    this.#clear();
    const m = this.#o.message;
    this.#sentAt = this.#clock.now();
    const timeout = this.#o.timeout;
    this.#timer = this.#clock.setTimeout(
      () => this.#dead(new HeartbeatTimeoutError(this.#clock.now() - (this.#sentAt ?? 0))),
      timeout,
    );
    try {
      this.#host.send(typeof m === "function" ? m() : m);
    } catch (err) {
      // A beat runs from a timer: what the user's function throws fails the connection, not the process.
      this.#dead(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #dead(error: Error): void {
    this.stop(error);
    this.#host.onDead(error);
  }

  #clear(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
