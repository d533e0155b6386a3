/**
 * The `perMessageDeflate` option: its shape, defaults and validation. Node-free, so that option
 * validation (options.ts) runs in every build; the codec over node:zlib is deflate.ts's.
 */
import { DEFAULT_DEFLATE_THRESHOLD } from "@tideway/core";

/** zlib settings of the compressor. */
export interface ZlibDeflateOptions {
  /** 0..9; default 6 (zlib's Z_DEFAULT_COMPRESSION). Lower is faster, higher smaller. */
  level?: number;
  /**
   * 1..9; default 8. Memory for the compressor's hash tables: 2^(memLevel+9) bytes, held per connection
   * once it sent a compressed message (Node, Bun), or per message (Deno).
   */
  memLevel?: number;
}

/** The `perMessageDeflate` client option, when an object. */
export interface PerMessageDeflateClientOptions extends ZlibDeflateOptions {
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024, as `ws`. */
  threshold?: number;
  /**
   * Offer `client_max_window_bits`: `true` (default) lets the server choose our window; a number 8..15
   * caps it (smaller = less memory per compression, worse ratio); `false` leaves the parameter out.
   */
  clientMaxWindowBits?: number | boolean;
  /** Ask the server to use a window of at most 2^N bytes (less memory here to inflate). */
  serverMaxWindowBits?: number;
  /** Reset our compressor after each message (less CPU per message, worse ratio). */
  clientNoContextTakeover?: boolean;
  /** Ask the server to reset its compressor after each message. */
  serverNoContextTakeover?: boolean;
}

/** The resolved default (`true` or no option): one frozen object for every client. */
export const DEFAULT_DEFLATE: ResolvedDeflateOptions = /* @__PURE__ */ Object.freeze({
  threshold: DEFAULT_DEFLATE_THRESHOLD,
});

/** `perMessageDeflate` after validation: the settings, or false (not offered). */
export type ResolvedDeflateOptions =
  | false
  | Readonly<Required<Pick<PerMessageDeflateClientOptions, "threshold">> & PerMessageDeflateClientOptions>;

function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(
      `Option perMessageDeflate.${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Validates the `perMessageDeflate` option. Default `true`: offered, as `ws`, browsers and Python
 * `websockets` do, so servers that compress (most exchange and chat feeds) can; the cost stays on the
 * messages that are actually compressed. Every problem is a TypeError.
 */
export function resolveDeflateOptions(
  option: boolean | PerMessageDeflateClientOptions | undefined,
): ResolvedDeflateOptions {
  if (option === false) return false;
  if (option === undefined || option === true) return DEFAULT_DEFLATE;
  if (typeof option !== "object" || option === null) {
    throw new TypeError("Option perMessageDeflate must be a boolean or an object");
  }
  const o = option;
  const out: PerMessageDeflateClientOptions & { threshold: number } = {
    threshold:
      o.threshold === undefined
        ? DEFAULT_DEFLATE_THRESHOLD
        : integerIn("threshold", o.threshold, 0, 2 ** 53 - 1),
  };
  if (o.level !== undefined) out.level = integerIn("level", o.level, 0, 9);
  if (o.memLevel !== undefined) out.memLevel = integerIn("memLevel", o.memLevel, 1, 9);
  if (o.clientMaxWindowBits !== undefined && typeof o.clientMaxWindowBits !== "boolean") {
    out.clientMaxWindowBits = integerIn("clientMaxWindowBits", o.clientMaxWindowBits, 8, 15);
  } else if (o.clientMaxWindowBits !== undefined) out.clientMaxWindowBits = o.clientMaxWindowBits;
  if (o.serverMaxWindowBits !== undefined) {
    out.serverMaxWindowBits = integerIn("serverMaxWindowBits", o.serverMaxWindowBits, 8, 15);
  }
  if (o.clientNoContextTakeover !== undefined)
    out.clientNoContextTakeover = o.clientNoContextTakeover === true;
  if (o.serverNoContextTakeover !== undefined)
    out.serverNoContextTakeover = o.serverNoContextTakeover === true;
  return out;
}
