/**
 * The `logger` option: what a logger is, its check, and the one call through which every log line
 * goes (observe.ts builds the lines; observe-browser.ts in the browser build).
 */
import { invalid } from "./option-checks.js";

/**
 * The `logger` option: a `console`-compatible subset, as Python websockets' `logger`. The Node build's
 * messages use printf-style `%s` / `%d` placeholders with the values as further arguments (console,
 * pino, and winston with its `splat` format all fill them in); the browser build's are a step's name
 * followed by its values, which a browser's console shows as objects.
 */
export interface Logger {
  /** The handshake's request and response lines and headers, pings and pongs, lifecycle steps. */
  debug(message: string, ...args: unknown[]): void;
  /** A connection opened or closed. */
  info(message: string, ...args: unknown[]): void;
  /** A reconnect scheduled: the client is without a connection for `delay` ms. */
  warn(message: string, ...args: unknown[]): void;
  /** An "error" event: a failed attempt or a failed connection. */
  error(message: string, ...args: unknown[]): void;
}

/** The methods of a {@link Logger}, one per level. */
const LEVELS = ["debug", "info", "warn", "error"] as const;

/** Throws a TypeError unless `value` has the four methods of a {@link Logger}. */
export function checkLogger(value: unknown): Logger {
  if (!LEVELS.every((m) => typeof (value as Record<string, unknown> | undefined)?.[m] === "function")) {
    throw invalid("logger", `an object with methods ${LEVELS.join(", ")}`);
  }
  return value as Logger;
}

/**
 * Calls the logger, if any. What it throws is rethrown in a microtask, as a throwing event listener's
 * error: the lifecycle step that logged goes on, so a broken logger never breaks a connection.
 */
export function log(
  logger: Logger | undefined,
  level: keyof Logger,
  message: string,
  ...args: unknown[]
): void {
  try {
    logger?.[level](message, ...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
