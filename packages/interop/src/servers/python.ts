/** The Python peers (Debian python3-websockets, python3-aiohttp): one process each, scripts in fixtures/. */
import { fileURLToPath } from "node:url";
import { type Peer, type PeerSpec, ReportBus } from "./peer.js";
import { type ListeningReport, parseReportLine } from "./peer-protocol.js";
import { requireDebian, spawnPeer, waitUntil } from "./process.js";

/**
 * The Debian interpreter, explicitly: `python3` on PATH may be a pyenv build that does not see the
 * Debian modules.
 */
export const DEBIAN_PYTHON = "/usr/bin/python3";

const START_TIMEOUT_MS = 10_000;

interface PythonPeerOptions {
  readonly script: string;
  /** Module to import to check the peer is installed, and the Debian package that provides it. */
  readonly module: string;
  readonly debianPackage: string;
  readonly library: string;
  readonly deflate: boolean;
}

async function startPythonPeer(o: PythonPeerOptions): Promise<Peer> {
  requireDebian("python3", DEBIAN_PYTHON, ["-c", "pass"]);
  requireDebian(o.debianPackage, DEBIAN_PYTHON, ["-c", `import ${o.module}`]);
  const reports = new ReportBus();
  let listening: ListeningReport | undefined;
  const script = fileURLToPath(new URL(`../../fixtures/${o.script}`, import.meta.url));
  const spawned = spawnPeer(DEBIAN_PYTHON, ["-u", script], (line) => {
    const report = parseReportLine(line);
    if (report?.event === "listening") listening = report;
    else if (report?.event === "close") reports.push(report);
  });
  try {
    const ready = await waitUntil(spawned, o.script, START_TIMEOUT_MS, () => listening);
    return {
      url: `ws://127.0.0.1:${ready.port}`,
      version: `${o.library} ${ready.version ?? "?"}`,
      deflate: o.deflate,
      reports,
      stop: () => spawned.stop(),
    };
  } catch (err) {
    await spawned.stop();
    throw err;
  }
}

export const websocketsPeer: PeerSpec = {
  name: "python-websockets",
  description: "Python `websockets` (Debian python3-websockets), asyncio `serve`, separate process",
  start: () =>
    startPythonPeer({
      script: "websockets_server.py",
      module: "websockets",
      debianPackage: "python3-websockets",
      library: "websockets",
      deflate: true,
    }),
};

export const aiohttpPeer: PeerSpec = {
  name: "aiohttp",
  description: "aiohttp `web.WebSocketResponse` (Debian python3-aiohttp), separate process",
  start: () =>
    startPythonPeer({
      script: "aiohttp_server.py",
      module: "aiohttp",
      debianPackage: "python3-aiohttp",
      library: "aiohttp",
      deflate: true,
    }),
};
