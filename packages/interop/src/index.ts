// The harness's API, for its own tests and for `src/run.ts`.
export {
  buildChecks,
  CHECK_GROUPS,
  type Check,
  type CheckContext,
  CheckFailed,
  type CheckGroup,
  COMPRESSION_CHECKS,
  DEFLATE_PAYLOADS,
  FULL_SIZES,
  type Outcome,
} from "./checks.js";
export {
  type CheckResult,
  failures,
  type MatrixResult,
  runMatrix,
  type ServerResult,
  type Status,
} from "./matrix.js";
export { binaryOfBytes, describeMismatch, jsonOfBytes, textOfBytes } from "./payloads.js";
export { type Relay, startRelay } from "./relay.js";
export { renderJson, renderMarkdown } from "./report.js";
export { ALL_PEERS } from "./servers/index.js";
export { nginxPeer, startNginxPeer } from "./servers/nginx.js";
export { type Peer, type PeerSpec, PeerStartError, ReportBus } from "./servers/peer.js";
export { parseReportLine } from "./servers/peer-protocol.js";
export { requireDebian } from "./servers/process.js";
export { aiohttpPeer, DEBIAN_PYTHON, websocketsPeer } from "./servers/python.js";
export { startWsPeer, type WsPeerOptions, wsPeer } from "./servers/ws-server.js";
