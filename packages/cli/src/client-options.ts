/**
 * From command-line options to the client's options: certificate files read, seconds turned into
 * the client's shapes, the mode's reconnect default applied. Unreadable files are usage errors.
 */
import { readFileSync } from "node:fs";
import type { TlsOptions, WebSocketClientOptions } from "@tideway/client";
import { type CliOptions, UsageError } from "./args.js";

function readPem(option: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read ${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** The TLS options for `tls.connect`, or undefined when none was asked for. */
export function tlsOptions(o: CliOptions): TlsOptions | undefined {
  const tls: TlsOptions = {
    ...(o.ca !== undefined ? { ca: readPem("--ca", o.ca) } : {}),
    ...(o.cert !== undefined ? { cert: readPem("--cert", o.cert) } : {}),
    ...(o.key !== undefined ? { key: readPem("--key", o.key) } : {}),
    ...(o.insecure ? { rejectUnauthorized: false } : {}),
  };
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/**
 * The client's options. Reconnecting defaults to on for a person at a terminal (the client retries
 * and says so) and off for scripts (a failure becomes an exit code at once).
 */
export function clientOptions(o: CliOptions, interactive: boolean): WebSocketClientOptions {
  const tls = tlsOptions(o);
  return {
    headers: o.headers,
    ...(o.subprotocols.length > 0 ? { protocols: o.subprotocols } : {}),
    ...(o.origin !== undefined ? { origin: o.origin } : {}),
    ...(o.proxy !== undefined ? { proxy: o.proxy } : {}),
    ...(tls !== undefined ? { tls } : {}),
    perMessageDeflate: o.compress,
    ...(o.heartbeat !== undefined
      ? { heartbeat: o.heartbeat === 0 ? false : { interval: o.heartbeat } }
      : {}),
    reconnect: (o.reconnect ?? interactive) ? {} : false,
    ...(o.maxPayload !== undefined ? { maxPayload: o.maxPayload } : {}),
    followRedirects: o.followRedirects,
  };
}
