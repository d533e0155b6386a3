/**
 * The checks run against every peer. A check returns its outcome ("pass", or "n/a" with the reason)
 * and throws {@link CheckFailed} (or anything) to fail; the matrix times it and tears down the
 * clients it opened, whatever happened.
 */
import type { CloseInfo, WebSocketClient } from "../../client/src/index.js";
import { binaryOfBytes, describeMismatch, textOfBytes } from "./payloads.js";
import type { Peer } from "./servers/peer.js";
import {
  CUSTOM_HEADER,
  ECHO_HEADER,
  type HandshakeReport,
  PING_PAYLOAD,
  SUBPROTOCOL,
} from "./servers/peer-protocol.js";
import { messageBytes, openSession, withTimeout } from "./session.js";

export type CheckGroup = "handshake" | "text echo" | "binary echo" | "ping/pong" | "close" | "compression";
export const CHECK_GROUPS: readonly CheckGroup[] = [
  "handshake",
  "text echo",
  "binary echo",
  "ping/pong",
  "close",
  "compression",
];

export type Outcome = Readonly<{ status: "pass" | "n/a"; detail: string }>;

export interface CheckContext {
  readonly peer: Peer;
  /** Registers a client for teardown (terminate) when the check ends. */
  track(client: WebSocketClient): void;
  /** An id unique in the run, for the peer's out-of-band reports. */
  newId(): string;
}

export interface Check {
  readonly group: CheckGroup;
  readonly name: string;
  /** Upper bound on the whole check, connection included. */
  readonly timeoutMs: number;
  run(ctx: CheckContext): Promise<Outcome>;
}

export class CheckFailed extends Error {
  override name = "CheckFailed";
}

function expectEqual(what: string, actual: unknown, expected: unknown): void {
  if (!Object.is(actual, expected) && JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new CheckFailed(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

const pass = (detail: string): Outcome => ({ status: "pass", detail });
const open = (ctx: CheckContext, path: string, options?: Parameters<typeof openSession>[3]) =>
  openSession(ctx.peer, path, (client) => ctx.track(client), options);

/** The message sizes of the full matrix: around each length-encoding boundary, then large. */
export const FULL_SIZES: readonly number[] = [0, 1, 125, 126, 65535, 65536, 2 ** 20, 16 * 2 ** 20];

export function formatSize(bytes: number): string {
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  return `${bytes} B`;
}

// --- handshake -----------------------------------------------------------------------------------

/** A value with spaces, quotes and separators: what a real Authorization or Cookie carries. */
const HEADER_VALUE = 'tideway-interop; token="a b,c"; n=42';
const OFFERED = ["tideway.unknown", SUBPROTOCOL];

const handshake: Check = {
  group: "handshake",
  name: `subprotocol ${SUBPROTOCOL} + custom header`,
  timeoutMs: 8_000,
  async run(ctx) {
    const s = await open(ctx, "/handshake", {
      headers: { [CUSTOM_HEADER]: HEADER_VALUE },
      protocols: OFFERED,
    });
    expectEqual("response status", s.response.status, 101);
    expectEqual("selected subprotocol (response.protocol)", s.response.protocol, SUBPROTOCOL);
    expectEqual("client.protocol", s.client.protocol, SUBPROTOCOL);
    expectEqual(
      `response header ${ECHO_HEADER}`,
      s.response.headers[ECHO_HEADER.toLowerCase()],
      HEADER_VALUE,
    );
    const first = await s.next(3_000, "the server's handshake report");
    if (typeof first !== "string") throw new CheckFailed("the handshake report came as binary, not text");
    const seen = JSON.parse(first) as HandshakeReport;
    expectEqual(`${CUSTOM_HEADER} seen by the server`, seen.header, HEADER_VALUE);
    expectEqual(
      "subprotocols seen by the server",
      seen.protocols.split(",").map((p) => p.trim()),
      OFFERED,
    );
    await withTimeout(s.client.close(1000), 3_000, "close()");
    return pass(
      `101, protocol "${s.response.protocol}", header echoed; server saw offer "${seen.protocols}"`,
    );
  },
};

// --- echo --------------------------------------------------------------------------------------

function echoCheck(kind: "text" | "binary", size: number): Check {
  const timeoutMs = 5_000 + Math.ceil(size / 2 ** 20) * 1_500;
  return {
    group: kind === "text" ? "text echo" : "binary echo",
    name: `${kind} ${formatSize(size)}`,
    timeoutMs,
    async run(ctx) {
      const payload = kind === "text" ? textOfBytes(size) : binaryOfBytes(size, size + 1);
      const s = await open(ctx, "/echo");
      const started = performance.now();
      const [, echoed] = await Promise.all([
        withTimeout(s.client.send(payload), timeoutMs, "send() to resolve"),
        s.next(timeoutMs, `the echo of ${formatSize(size)}`),
      ]);
      const ms = performance.now() - started;
      const received = messageBytes(echoed);
      if (typeof received !== typeof payload) {
        throw new CheckFailed(
          `sent ${kind}, got a ${typeof received === "string" ? "text" : "binary"} message`,
        );
      }
      const mismatch = describeMismatch(payload, received);
      if (mismatch !== undefined) throw new CheckFailed(mismatch);
      await withTimeout(s.client.close(1000), 3_000, "close()");
      return pass(`${formatSize(size)} echoed intact (round trip ${ms.toFixed(1)} ms)`);
    },
  };
}

// --- ping / pong -------------------------------------------------------------------------------

const clientPing: Check = {
  group: "ping/pong",
  name: "client ping -> server pong (x3)",
  timeoutMs: 8_000,
  async run(ctx) {
    const s = await open(ctx, "/echo");
    let pongs = 0;
    s.client.on("pong", () => pongs++);
    const rtts: number[] = [];
    for (let i = 0; i < 3; i++) rtts.push(await withTimeout(s.client.ping(), 2_000, `ping ${i + 1}'s pong`));
    for (const rtt of rtts)
      if (!(Number.isFinite(rtt) && rtt >= 0)) throw new CheckFailed(`ping() resolved with ${rtt}`);
    expectEqual("pong events", pongs, 3);
    await withTimeout(s.client.close(1000), 3_000, "close()");
    return pass(`3 pongs, round trips ${rtts.map((r) => r.toFixed(1)).join(" / ")} ms`);
  },
};

const serverPing: Check = {
  group: "ping/pong",
  name: "server ping -> client pong",
  timeoutMs: 8_000,
  async run(ctx) {
    const s = await open(ctx, "/server-ping");
    const answer = await s.next(6_000, "the server's pong report");
    if (typeof answer !== "string") throw new CheckFailed("the pong report came as binary, not text");
    expectEqual(
      "pong payload the server received",
      (JSON.parse(answer) as { pong: unknown }).pong,
      PING_PAYLOAD,
    );
    expectEqual(
      "ping events on the client",
      s.pings.map((p) => new TextDecoder().decode(p)),
      [PING_PAYLOAD],
    );
    await withTimeout(s.client.close(1000), 3_000, "close()");
    return pass(`server got its pong "${PING_PAYLOAD}"; client emitted "ping" once`);
  },
};

// --- close -------------------------------------------------------------------------------------

const encoder = new TextEncoder();
const frame = (f: CloseInfo["sent"]) =>
  f === undefined ? "none" : `${f.code}${f.reason ? ` "${f.reason}"` : ""}`;

function clientClose(code: number, reason: string): Check {
  return {
    group: "close",
    name: `client closes ${code}${reason ? " + reason" : ""}`,
    timeoutMs: 8_000,
    async run(ctx) {
      const id = ctx.newId();
      const s = await open(ctx, `/client-close?id=${id}`);
      await withTimeout(s.client.close(code, reason), 4_000, "close() to resolve");
      const info = await withTimeout(s.closed, 1_000, 'the "close" event');
      expectEqual("close event: sent", info.sent, { code, reason });
      expectEqual("close event: wasClean", info.wasClean, true);
      if (info.received === undefined)
        throw new CheckFailed("the server's close frame never arrived (received: none)");
      const seen = await ctx.peer.reports.waitFor(id, 3_000);
      expectEqual("close code the server received", seen.code, code);
      expectEqual("close reason the server received", seen.reason, reason);
      return pass(
        `server received ${code}${reason ? ` "${reason}" (${encoder.encode(reason).length} B)` : ""}; ` +
          `it answered ${frame(info.received)}`,
      );
    },
  };
}

function serverClose(code: number, reason: string): Check {
  return {
    group: "close",
    name: `server closes ${code}${reason ? " + reason" : ""}`,
    timeoutMs: 8_000,
    async run(ctx) {
      const id = ctx.newId();
      const query = new URLSearchParams({ id, code: String(code), reason });
      const s = await open(ctx, `/server-close?${query}`);
      await withTimeout(s.client.send("close me"), 2_000, "send()");
      const info = await withTimeout(s.closed, 5_000, 'the "close" event');
      expectEqual("close event: code", info.code, code);
      expectEqual("close event: reason", info.reason, reason);
      expectEqual("close event: received", info.received, { code, reason });
      expectEqual("close event: wasClean", info.wasClean, true);
      expectEqual("close event: initiatedByUser", info.initiatedByUser, false);
      const seen = await ctx.peer.reports.waitFor(id, 3_000);
      // RFC 6455 5.5.1: the answer to a close MUST be a close frame; echoing the code is only typical.
      if (seen.code === null || seen.code === 1006) {
        throw new CheckFailed(`the server got no close frame back from the client (it reports ${seen.code})`);
      }
      const answer = `${seen.code}${seen.reason === null ? "" : seen.reason ? ` "${seen.reason}"` : ""}`;
      return pass(
        `client event: ${code}${reason ? ` "${reason}"` : ""}, clean; the server got back ${answer}`,
      );
    },
  };
}

// --- compression ------------------------------------------------------------------------------

/**
 * Where permessage-deflate plugs in. Tideway does not offer it yet (its own issue); once it does,
 * this check offers it, expects `response.extensions` to name permessage-deflate exactly when
 * `peer.deflate` is true, and echoes a compressible 1 MiB message both ways.
 */
const compression: Check = {
  group: "compression",
  name: "permessage-deflate",
  timeoutMs: 1_000,
  async run(ctx) {
    const server = ctx.peer.deflate ? "server supports it" : "server does not support it";
    return { status: "n/a", detail: `n/a (deflate not implemented yet); ${server}` };
  },
};

/** Every check, in report order, for the given echo sizes. */
export function buildChecks(sizes: readonly number[] = FULL_SIZES): Check[] {
  return [
    handshake,
    ...sizes.map((size) => echoCheck("text", size)),
    ...sizes.map((size) => echoCheck("binary", size)),
    clientPing,
    serverPing,
    clientClose(1000, ""),
    clientClose(4000, "tideway: client bye ✓"),
    serverClose(1001, ""),
    serverClose(4001, "tideway: server bye ✓"),
    compression,
  ];
}
