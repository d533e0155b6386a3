/** The vocabulary shared by cases, the session that plays them and the judge. */

/** Something the client sent back: an echoed message or a pong. */
export type Item = Readonly<{ type: "text" | "binary" | "pong"; data: Uint8Array }>;

export type Verdict = "OK" | "NON-STRICT" | "INFORMATIONAL" | "FAILED";

/** A client close frame as received. `code` is undefined for an empty close payload. */
export type ClientClose = Readonly<{ code: number | undefined; reason: string; at: number }>;

/** Everything the server saw during one case, with times in ms since the case started. */
export interface Observation {
  items: Item[];
  /** Client pings (an echo client has no reason to ping; recorded, answered, not judged). */
  pings: number;
  clientClose: ClientClose | undefined;
  /** The client sent its close frame before the server sent one (it started the close). */
  clientStartedClose: boolean;
  /** When the server sent its close frame (first one, if several), and what it was. */
  serverCloseAt: number | undefined;
  /** When the client's half of TCP ended (FIN, RST or error). */
  clientTcpEndAt: number | undefined;
  /** When the server ended its half of TCP. */
  serverTcpEndAt: number | undefined;
  /** The client did not close TCP within the grace period after the server closed: we destroyed it. */
  hungAfterServerClose: boolean;
  /** Violations by the client itself: unmasked frames, RSV bits, frames after its close, ... */
  violations: string[];
  /** Named instants set by the case (e.g. "rest-sent" for fail-fast cases). */
  marks: Map<string, number>;
  /** permessage-deflate on this connection, for the cases that negotiate it; undefined elsewhere. */
  deflate?: DeflateObservation;
}

export interface DeflateObservation {
  /** The client's offer as received ("" when it offered no extension). */
  offered: string;
  /** The server's answer; undefined when the extension was not negotiated. */
  answer: string | undefined;
  /** Client messages that arrived compressed (RSV1); the others came plain, which is legal. */
  compressedMessages: number;
}

/**
 * How the agent is set up for one case (most cases use its defaults). Both agents take the same
 * names: `perMessageDeflate` as `ws` and `@tideway/client` spell it, `maxPayload` in bytes.
 */
export interface AgentConfig {
  perMessageDeflate?: Readonly<{
    threshold?: number;
    serverNoContextTakeover?: boolean;
    clientNoContextTakeover?: boolean;
    serverMaxWindowBits?: number;
    clientMaxWindowBits?: number;
  }>;
  maxPayload?: number;
}

/**
 * What a case expects, in one of a few shapes; the judge turns each into a verdict.
 * - echo: the client echoes exactly `items` (messages and pongs, in order); then the server closes
 *   with 1000 and the client must answer the close and end TCP. With `limitLatitude` (the size and
 *   fragment-count cases), refusing with 1008 or 1009 is NON-STRICT: RFC 6455 section 10.4 lets an
 *   implementation protect itself with limits on frame size, message size and fragments.
 * - fail: the client must fail the connection with `code` (1002, 1007, 1009), after echoing at most
 *   `before`; with `failFastMark`, it should do so before the case set that mark.
 * - close: the case sent a close frame itself; the client must answer with a code in `codes`
 *   (undefined = empty close payload) after echoing exactly `before`, and must send nothing after.
 * - informational: the outcome is implementation-defined; recorded with `note`, FAILED only on a
 *   hang or a protocol violation.
 * - drop: the case itself drops TCP without a close handshake; the client must notice (an abnormal
 *   closure, 1006) and end: the runner FAILS an agent whose connection does not end (a hang).
 * - linger: the case answers the client's close but never closes TCP; OK if the client closes TCP
 *   itself within `graceMs` (RFC 6455 7.1.1: it MAY, "if it has not received a TCP Close from the
 *   server in a reasonable time period"), INFORMATIONAL if it waits longer.
 */
export type Expectation =
  | Readonly<{ kind: "echo"; items: readonly Item[]; lastPongsOnly?: boolean; limitLatitude?: boolean }>
  | Readonly<{
      kind: "fail";
      code: number;
      before?: readonly Item[];
      failFastMark?: string;
      /**
       * Echoing exactly these items and closing cleanly is NON-STRICT rather than FAILED, for the
       * reason given (e.g. a decompression bomb below the agent's own, larger, default limit).
       */
      tolerate?: Readonly<{ items: readonly Item[]; note: string }>;
    }>
  | Readonly<{ kind: "close"; codes: readonly (number | undefined)[]; before?: readonly Item[] }>
  | Readonly<{ kind: "informational"; note: string }>
  | Readonly<{ kind: "drop" }>
  | Readonly<{ kind: "linger"; graceMs: number }>;

export interface CaseResult {
  id: string;
  verdict: Verdict;
  reason: string;
  durationMs: number;
  /** Close code the client sent, if any. */
  clientCloseCode: number | undefined;
}
