/**
 * The application-level heartbeat, for platforms that cannot send ping frames (browsers, workers):
 * a message the user defines, sent every `interval`, and a predicate that recognises the reply. No
 * reply within `timeout` means the peer is dead: the connection fails and the lifecycle reconnects.
 * Made by the exported appHeartbeat(), so a bundle that never calls it carries none of it. Timers go
 * through the injected clock, so its tests never sleep.
 */
import type { Clock, TimerHandle } from "./clock.js";
import { HeartbeatTimeoutError } from "./errors.js";
import type { Message } from "./events.js";
import { checkKeys, finite, invalid } from "./option-checks.js";

/** What {@link appHeartbeat} takes: a message of your protocol that proves the peer alive. */
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

/** Defaults of `interval` and `timeout`: the ping-frame heartbeat's (heartbeat.ts `DEFAULT_HEARTBEAT`). */
const DEFAULT_INTERVAL = 30_000;
const DEFAULT_TIMEOUT = 10_000;

const KEYS = ["message", "isReply", "interval", "timeout"];

/**
 * The value of the `appHeartbeat` option (browser build), made by {@link appHeartbeat}: a heartbeat
 * of your own protocol's messages, where ping frames cannot be sent. The browser transport calls it
 * for each connection, with `send` and `onDead` (the error the connection must fail with); not for
 * application code.
 */
export type AppHeartbeat = (
  clock: Clock,
  send: (message: string | Uint8Array) => void,
  onDead: (error: Error) => void,
) => ConnectionHeartbeat;

/** The heartbeat of one connection. */
export interface ConnectionHeartbeat {
  /** Last measured round trip, in ms. */
  latency?: number;
  /** The connection opened: beats start after one interval. */
  start(): void;
  /** A received message: true if it is the reply (then it is the heartbeat's, not the user's). */
  received(message: Message): boolean;
  /** Sends a beat now (or joins the one in flight) and resolves with its round trip in ms. */
  ping(): Promise<number>;
  /** The connection is gone: no more beats; waiting pings reject with `error`. */
  stop(error: Error): void;
}

/**
 * An application-level heartbeat for the `appHeartbeat` option (browser build): `message` every
 * `interval` ms, and a connection without the reply (`isReply`) within `timeout` ms fails with a
 * HeartbeatTimeoutError, so the client reconnects. Throws a TypeError naming the field for an option
 * it cannot use.
 *
 * One beat in flight at most: a beat due while one waits for its reply is not sent, and `ping()`
 * joins the beat in flight, so a slow server never faces a growing pile of heartbeat messages.
 *
 * @example
 * new WebSocketClient(url, {
 *   appHeartbeat: appHeartbeat({ message: "ping", isReply: (m) => m === "pong" }),
 * });
 */
export function appHeartbeat(options: AppHeartbeatOptions): AppHeartbeat {
  if (typeof options !== "object" || options === null) throw invalid("appHeartbeat", "an object");
  checkKeys("appHeartbeat", options, KEYS);
  const m = options.message;
  if (typeof m !== "string" && typeof m !== "function" && !(m instanceof Uint8Array)) {
    throw invalid("appHeartbeat.message", "a string, bytes or a function");
  }
  if (typeof options.isReply !== "function") throw invalid("appHeartbeat.isReply", "a function");
  const o: Readonly<Required<AppHeartbeatOptions>> = {
    ...options,
    interval: finite("appHeartbeat.interval", options.interval, DEFAULT_INTERVAL, 0),
    timeout: finite("appHeartbeat.timeout", options.timeout, DEFAULT_TIMEOUT, 1),
  };
  return (clock, send, onDead) => connectionHeartbeat(o, clock, send, onDead);
}

/** The heartbeat of one connection, on the checked options `o`. */
function connectionHeartbeat(
  o: Readonly<Required<AppHeartbeatOptions>>,
  clock: Clock,
  send: (message: string | Uint8Array) => void,
  onDead: (error: Error) => void,
): ConnectionHeartbeat {
  /** The next beat (interval) or the deadline of the beat in flight. */
  let timer: TimerHandle | undefined;
  /** When the beat in flight was sent. */
  let sentAt = 0;
  /** The reply of the beat in flight, which every `ping()` meanwhile returns; undefined when none is. */
  let reply: Promise<number> | undefined;
  /** Settle the last `reply`: with its round trip, or the error that ended the heartbeat (no-ops once settled). */
  let resolve!: (ms: number) => void;
  let reject: ((error: Error) => void) | undefined;
  let stopped: Error | undefined;
  /** Clears the timer, and sets `fn` to run in `ms` if given. */
  const set = (fn?: () => void, ms?: number) => {
    clock.clearTimeout(timer);
    timer = fn && clock.setTimeout(fn, ms as number);
  };
  const schedule = () => set(o.interval > 0 && !stopped ? beat : undefined, o.interval);
  const dead = (error: Error) => {
    hb.stop(error);
    onDead(error);
  };
  const beat = () => {
    const m = o.message;
    reply = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A beat's failure is the connection's (onDead); a rejection is for a ping() that awaits it.
    reply.catch(() => {});
    sentAt = clock.now();
    // The reply clears this timer (schedule), so sentAt is still this beat's when it fires.
    set(() => dead(new HeartbeatTimeoutError(clock.now() - sentAt)), o.timeout);
    try {
      send(typeof m === "function" ? m() : m);
    } catch (err) {
      // A beat runs from a timer: what the user's function throws fails the connection, not the process.
      dead(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const hb: ConnectionHeartbeat = {
    start: schedule,
    received(message: Message): boolean {
      if (!o.isReply(message)) return false;
      // A late or unsolicited reply is still not a user message, and counts for nothing.
      if (reply) {
        resolve((hb.latency = clock.now() - sentAt));
        reply = undefined;
        schedule();
      }
      return true;
    },
    async ping(): Promise<number> {
      if (stopped) throw stopped;
      if (!reply) beat();
      return reply as Promise<number>;
    },
    stop(error: Error): void {
      if (stopped) return;
      stopped = error;
      set();
      reject?.(error);
    },
  };
  return hb;
}
