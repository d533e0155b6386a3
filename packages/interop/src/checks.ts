/**
 * The checks run against every peer. A check returns its outcome ("pass", or "n/a" with the reason)
 * and throws {@link CheckFailed} (or anything) to fail; the matrix times it and tears down the
 * clients it opened, whatever happened.
 */
import type { CloseInfo, WebSocketClient } from "@tideway/client";
import { binaryOfBytes, describeMismatch, jsonOfBytes, textOfBytes } from "./payloads.js";
import { startRelay } from "./relay.js";
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

const DEFLATE = /^permessage-deflate(\s*;|$)/;
const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * A compressible message must cross the wire in at most this fraction of its size, each way. JSON
 * deflates to 10-30% (even 1 KiB alone, without earlier messages as context); the relay also
 * counts the frame header, the mask and, through nginx, TLS records: well under 50%.
 */
const MAX_WIRE_RATIO = 0.5;

const notSupported = (ctx: CheckContext): Outcome | undefined =>
  ctx.peer.deflate
    ? undefined
    : { status: "n/a", detail: "n/a (server does not support permessage-deflate)" };

function expectDeflate(extensions: string): void {
  if (!DEFLATE.test(extensions)) {
    throw new CheckFailed(
      `permessage-deflate not negotiated: response.extensions is ${JSON.stringify(extensions)}`,
    );
  }
}

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;

/** Tideway's default offers the extension; `perMessageDeflate: false` does not. */
const deflateNegotiation: Check = {
  group: "compression",
  name: "negotiation (default offer; perMessageDeflate: false)",
  timeoutMs: 10_000,
  async run(ctx) {
    const na = notSupported(ctx);
    if (na !== undefined) return na;
    const on = await open(ctx, "/echo");
    expectDeflate(on.response.extensions);
    await withTimeout(on.client.close(1000), 3_000, "close()");
    const off = await open(ctx, "/echo", { perMessageDeflate: false });
    expectEqual("response.extensions with perMessageDeflate: false", off.response.extensions, "");
    await withTimeout(off.client.close(1000), 3_000, "close()");
    return pass(`default: "${on.response.extensions}"; perMessageDeflate: false: none`);
  },
};

interface DeflatePayload {
  readonly label: string;
  readonly make: () => string | Uint8Array;
  /** Whether the bytes must shrink on the wire, both ways (JSON of 1 KiB and up). */
  readonly compressible: boolean;
}

const encoder8 = new TextEncoder();
const asBinary = (text: string) => encoder8.encode(text);

/** Text and binary, empty, JSON of 1 KiB, 64 KiB and 1 MiB, and 1 MiB of incompressible bytes. */
export const DEFLATE_PAYLOADS: readonly DeflatePayload[] = [
  { label: "text 0 B", make: () => "", compressible: false },
  { label: "text 1 KiB JSON", make: () => jsonOfBytes(KiB, 1), compressible: true },
  { label: "text 64 KiB JSON", make: () => jsonOfBytes(64 * KiB, 2), compressible: true },
  { label: "text 1 MiB JSON", make: () => jsonOfBytes(MiB, 3), compressible: true },
  { label: "binary 0 B", make: () => new Uint8Array(0), compressible: false },
  { label: "binary 1 KiB JSON", make: () => asBinary(jsonOfBytes(KiB, 4)), compressible: true },
  { label: "binary 64 KiB JSON", make: () => asBinary(jsonOfBytes(64 * KiB, 5)), compressible: true },
  { label: "binary 1 MiB random", make: () => binaryOfBytes(MiB, 6), compressible: false },
];

const byteLength = (payload: string | Uint8Array) =>
  typeof payload === "string" ? encoder8.encode(payload).length : payload.length;

/** Echoes each payload in turn on one connection through a counting relay; returns what the wire carried. */
async function echoThroughRelay(
  ctx: CheckContext,
  payloads: readonly (string | Uint8Array)[],
  timeoutMs: number,
): Promise<{ extensions: string; up: number; down: number }> {
  const relay = await startRelay(ctx.peer.url);
  try {
    const s = await openSession({ ...ctx.peer, url: relay.url }, "/echo", (client) => ctx.track(client));
    expectDeflate(s.response.extensions);
    // Everything before this (the handshake) is not a message.
    const up0 = relay.upstream;
    const down0 = relay.downstream;
    for (const [i, payload] of payloads.entries()) {
      const [, echoed] = await Promise.all([
        withTimeout(s.client.send(payload), timeoutMs, "send() to resolve"),
        s.next(timeoutMs, `the echo of message ${i + 1} (${byteLength(payload)} B)`),
      ]);
      const received = messageBytes(echoed);
      if (typeof received !== typeof payload) {
        throw new CheckFailed(`message ${i + 1}: sent ${typeof payload}, got ${typeof received}`);
      }
      const mismatch = describeMismatch(payload, received);
      if (mismatch !== undefined) throw new CheckFailed(`message ${i + 1}: ${mismatch}`);
    }
    const wire = {
      extensions: s.response.extensions,
      up: relay.upstream - up0,
      down: relay.downstream - down0,
    };
    await withTimeout(s.client.close(1000), 3_000, "close()");
    return wire;
  } finally {
    await relay.close();
  }
}

function expectShrunk(
  what: string,
  wire: number,
  size: number,
  limit = MAX_WIRE_RATIO,
  why = "not compressed",
): void {
  if (wire > size * limit) {
    throw new CheckFailed(
      `${what}: ${wire} B on the wire for ${size} B of JSON (${percent(wire, size)} > ${percent(limit, 1)}): ${why}`,
    );
  }
}

function deflateEcho(p: DeflatePayload): Check {
  return {
    group: "compression",
    name: `echo ${p.label}`,
    timeoutMs: 10_000,
    async run(ctx) {
      const na = notSupported(ctx);
      if (na !== undefined) return na;
      const payload = p.make();
      const size = byteLength(payload);
      const wire = await echoThroughRelay(ctx, [payload], 8_000);
      if (p.compressible) {
        expectShrunk("client -> server", wire.up, size);
        expectShrunk("server -> client", wire.down, size);
      }
      const ratios =
        size === 0
          ? `${wire.up} B up, ${wire.down} B down`
          : `wire up ${percent(wire.up, size)}, down ${percent(wire.down, size)}`;
      return pass(`intact; ${ratios}${p.compressible ? "" : " (not asserted)"}`);
    },
  };
}

/** Many messages on one connection: each side's compressor refers to earlier messages (context takeover). */
const CONTEXT_MESSAGES = 50;
const CONTEXT_SIZE = 1200;
/**
 * Each of these 1200-byte documents deflated alone (no context takeover) is 22.2% of its size, and
 * 13.5% with the previous ones as history (zlib level 6, measured): under 20% on the wire each way
 * shows that both compressors kept their context across messages, and both inflaters followed.
 */
const MAX_CONTEXT_RATIO = 0.2;
const deflateContext: Check = {
  group: "compression",
  name: `context takeover: ${CONTEXT_MESSAGES} x ${CONTEXT_SIZE} B JSON`,
  timeoutMs: 15_000,
  async run(ctx) {
    const na = notSupported(ctx);
    if (na !== undefined) return na;
    const payloads = Array.from({ length: CONTEXT_MESSAGES }, (_, i) => jsonOfBytes(CONTEXT_SIZE, 100 + i));
    const total = CONTEXT_MESSAGES * CONTEXT_SIZE;
    const wire = await echoThroughRelay(ctx, payloads, 3_000);
    const why = "each message compressed alone (no context takeover)";
    expectShrunk("client -> server", wire.up, total, MAX_CONTEXT_RATIO, why);
    expectShrunk("server -> client", wire.down, total, MAX_CONTEXT_RATIO, why);
    return pass(
      `${CONTEXT_MESSAGES} echoed intact, in order; wire up ${percent(wire.up, total)}, down ${percent(wire.down, total)}`,
    );
  },
};

/** Every compression check; "n/a" with the reason against a peer without permessage-deflate. */
export const COMPRESSION_CHECKS: readonly Check[] = [
  deflateNegotiation,
  ...DEFLATE_PAYLOADS.map(deflateEcho),
  deflateContext,
];

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
    ...COMPRESSION_CHECKS,
  ];
}
