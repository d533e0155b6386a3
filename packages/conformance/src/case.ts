/** A conformance case: what it plays through the session and what it expects of the client. */
import type { DeflateCaseConfig } from "./deflate.js";
import type { Session } from "./session.js";
import type { AgentConfig, Expectation } from "./types.js";

export interface CaseDef {
  /** Autobahn-style id, e.g. "6.4.1". */
  id: string;
  description: string;
  /** The expected behaviour in words, with the reason (shown in the report). */
  expectation: string;
  expect: Expectation;
  /** Plays the case: writes frames through the session. */
  play: (s: Session) => Promise<void>;
  /** Time allowed for the client's part (echoes or failure), in ms. Default 2000. */
  timeoutMs?: number;
  /** Big or slow cases run alone, not in parallel with others. */
  heavy?: boolean;
  /**
   * Compression cases: the server negotiates permessage-deflate with this config (an agent that does
   * not negotiate it FAILS the case, unless `decline`).
   */
  deflate?: DeflateCaseConfig;
  /** How the agent is configured for this case; default its own defaults. */
  client?: AgentConfig;
}
