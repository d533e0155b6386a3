/**
 * What every interop peer (the `ws` server, the Python scripts under fixtures/, nginx's upstream)
 * does, so that one set of checks runs against all of them. The Python fixtures repeat these
 * constants; change both sides together.
 *
 * Paths (the query string carries `id`, and `code` / `reason` for /server-close):
 * - `/echo`: every message echoed, text as text, binary as binary.
 * - `/handshake`: the server selects {@link SUBPROTOCOL} if offered, answers with the response header
 *   {@link ECHO_HEADER} = the request's {@link CUSTOM_HEADER}, sends one text message
 *   {@link HandshakeReport} (what it saw), then echoes.
 * - `/client-close?id=ID`: echoes; when the connection ends, reports the client's close code/reason.
 * - `/server-close?id=ID&code=C&reason=R`: waits for one message (so the client listens before the
 *   close comes), closes with C/R, then reports the code/reason of the client's answer.
 * - `/server-ping`: pings with {@link PING_PAYLOAD}, waits up to 5 s for the pong, sends
 *   `{"pong": payload-or-null}`, then echoes.
 *
 * Out-of-band reports (a close is the end of the connection, so it cannot be reported in-band) are
 * JSON lines on the peer's stdout (in-process peers push them directly): first
 * `{"event":"listening","port":N}`, then {@link CloseReport}s.
 */

export const SUBPROTOCOL = "tideway.v1";
export const CUSTOM_HEADER = "X-Tideway-Interop";
export const ECHO_HEADER = "X-Tideway-Echo";
export const PING_PAYLOAD = "tideway-interop";

/** Peers accept messages up to 64 MiB: the matrix sends 16 MiB, and most default limits are lower. */
export const PEER_MAX_MESSAGE = 64 * 2 ** 20;

/** The first message on /handshake. */
export interface HandshakeReport {
  readonly path: string;
  /** The request's {@link CUSTOM_HEADER}, or null if absent. */
  readonly header: string | null;
  /** The offered subprotocols as the server saw them, joined with ", ". */
  readonly protocols: string;
}

/** What the server received in the close frame of a connection opened with `?id=`. */
export interface CloseReport {
  readonly event: "close";
  readonly id: string;
  /** Null when the library does not expose it (e.g. no close frame arrived, for some libraries). */
  readonly code: number | null;
  /** Null when the library does not expose it (aiohttp drops the reason of the answer to its close). */
  readonly reason: string | null;
}

export interface ListeningReport {
  readonly event: "listening";
  readonly port: number;
  readonly version?: string;
}

/** Parses one stdout line of a peer; undefined for anything that is not a report. */
export function parseReportLine(line: string): CloseReport | ListeningReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.event === "listening" && typeof v.port === "number") {
    return {
      event: "listening",
      port: v.port,
      ...(typeof v.version === "string" ? { version: v.version } : {}),
    };
  }
  if (v.event === "close" && typeof v.id === "string") {
    return {
      event: "close",
      id: v.id,
      code: typeof v.code === "number" ? v.code : null,
      reason: typeof v.reason === "string" ? v.reason : null,
    };
  }
  return undefined;
}
