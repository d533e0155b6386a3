export { AGENTS, type Agent, type AgentRun, tidewayAgent, wsAgent } from "./agents.js";
export type { CaseDef } from "./case.js";
export { ALL_CASES, SECTIONS, type Section, sectionOf } from "./cases/index.js";
export {
  ClientInflater,
  compressedFrames,
  type DeflateCaseConfig,
  type Negotiation,
  negotiate,
  ServerDeflater,
} from "./deflate.js";
export { complete, DEFAULT_CASE_TIMEOUT_MS, type Judgment, judge } from "./judge.js";
export { anyFailed, countVerdicts, renderJson, renderMarkdown } from "./report.js";
export { type AgentReport, type RunOptions, runAgent, runOne } from "./runner.js";
export { ConformanceServer, type ConformanceServerOptions, runCase } from "./server.js";
export { Session } from "./session.js";
export type {
  AgentConfig,
  CaseResult,
  DeflateObservation,
  Expectation,
  Item,
  Observation,
  Verdict,
} from "./types.js";
export { closePayload, type RawFrameSpec, rawFrame } from "./wire.js";
