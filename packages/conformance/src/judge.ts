/**
 * Finishing a case and judging it. `complete` plays the server's part after the case's own frames
 * (wait for the echoes, start the close handshake, close TCP); `judge` is a pure function from what
 * was observed to a verdict with its reason, so its rules can be tested without sockets.
 *
 * Verdicts follow Autobahn's meaning:
 * - OK: the behaviour the RFC asks for.
 * - NON-STRICT: allowed by the RFC's latitude but not the preferred behaviour (a different error
 *   code, dropping TCP without a close frame, failing late instead of fast, answering a ping flood
 *   with fewer pongs).
 * - INFORMATIONAL: the RFC leaves the outcome to the implementation; recorded, never a failure.
 * - FAILED: a MUST broken (accepting invalid data, not answering a close, hanging, a malformed frame).
 */
import { CloseCode } from "@tideway/core";
import type { CaseDef } from "./case.js";
import type { Session } from "./session.js";
import type { Expectation, Item, Observation, Verdict } from "./types.js";

export const DEFAULT_CASE_TIMEOUT_MS = 2000;

/** After the expected echoes arrived, wait this long for anything unexpected before closing. */
const SETTLE_MS = 30;
/** With nothing to echo (unsolicited pongs), give a wrong answer this long to show up. */
const SETTLE_EMPTY_MS = 150;

/** The server's part after `play`: it depends only on the kind of expectation. */
export async function complete(s: Session, def: CaseDef): Promise<void> {
  const timeout = def.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
  const e = def.expect;
  if (e.kind === "echo") {
    const want = e.items.length;
    const got = await s.waitUntil(() => s.obs.items.length >= want || s.clientDone, timeout);
    if (!got) s.timedOut = true;
    await s.sleep(want === 0 ? SETTLE_EMPTY_MS : SETTLE_MS);
    if (!s.clientDone) {
      s.close(CloseCode.Normal);
      if (!(await s.waitForClientDone(timeout))) s.timedOut = true;
    }
    await s.endTcp();
    return;
  }
  if (e.kind === "drop") {
    // The case dropped TCP (or is about to): nothing to wait for on this side.
    s.destroy();
    return;
  }
  if (e.kind === "linger") {
    // Leave TCP open after the handshake: the client has to close it.
    if (!(await s.waitForClientDone(timeout))) s.timedOut = true;
    await s.waitUntil(() => s.obs.clientTcpEndAt !== undefined, e.graceMs + 500);
    s.destroy();
    return;
  }
  if (e.kind === "fail" && e.tolerate !== undefined) {
    // A client allowed to accept the message echoes it instead of failing: then close normally.
    const want = e.tolerate.items.length;
    await s.waitUntil(() => s.clientDone || s.obs.items.length >= want, timeout);
    if (!s.clientDone && s.obs.items.length >= want) s.close(CloseCode.Normal);
  }
  // fail, close, informational: the client is the one to act (fail, or answer the close we sent).
  if (!(await s.waitForClientDone(timeout))) {
    s.timedOut = true;
    s.destroy();
    return;
  }
  await s.endTcp();
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const sameItem = (a: Item, b: Item) => a.type === b.type && sameBytes(a.data, b.data);

export function describeItem(i: Item): string {
  if (i.type === "text" && i.data.length <= 24) {
    const s = new TextDecoder("utf-8", { fatal: false }).decode(i.data);
    return `text ${JSON.stringify(s)}`;
  }
  return `${i.type} (${i.data.length} B)`;
}

function describeItems(items: readonly Item[]): string {
  if (items.length === 0) return "nothing";
  if (items.length > 3) return `${items.length} items (${describeItem(items[0]!)}, ...)`;
  return items.map(describeItem).join(", ");
}

/** Index of the first difference between `got` and the start of `want`, or -1 if `got` is a prefix. */
function firstDifference(got: readonly Item[], want: readonly Item[]): number {
  for (let i = 0; i < got.length; i++) {
    const w = want[i];
    if (w === undefined || !sameItem(got[i]!, w)) return i;
  }
  return -1;
}

function itemsMismatch(got: readonly Item[], want: readonly Item[]): string | undefined {
  const diff = firstDifference(got, want);
  if (diff === -1 && got.length === want.length) return undefined;
  if (diff === -1) return `echoed ${describeItems(got)}; expected ${describeItems(want)}`;
  const w = want[diff];
  return (
    `item #${diff + 1} is ${describeItem(got[diff]!)}, expected ${w === undefined ? "nothing" : describeItem(w)}` +
    ` (echoed ${got.length}, expected ${want.length})`
  );
}

const closeText = (code: number | undefined) => (code === undefined ? "an empty close" : `close ${code}`);

/** Codes that say "you sent me something wrong": the client failed the connection. */
const isErrorCode = (code: number | undefined) => code !== undefined && code !== 1000 && code !== 1001;

export type Judgment = Readonly<{ verdict: Verdict; reason: string }>;

/** Checks every case shares: a client that broke the protocol itself or hung fails whatever else. */
function commonFailure(obs: Observation): string | undefined {
  if (obs.violations.length > 0) return `client protocol violation: ${obs.violations[0]}`;
  if (obs.hungAfterServerClose) {
    return "client did not close TCP within 1 s after the server closed it (hung)";
  }
  return undefined;
}

export function judge(obs: Observation, timedOut: boolean, e: Expectation): Judgment {
  const common = commonFailure(obs);
  if (common !== undefined) return { verdict: "FAILED", reason: common };
  switch (e.kind) {
    case "echo":
      return judgeEcho(obs, timedOut, e.items, e.lastPongsOnly ?? false, e.limitLatitude ?? false);
    case "fail":
      if (e.tolerate !== undefined && tolerated(obs, e.tolerate.items)) {
        return { verdict: "NON-STRICT", reason: `echoed the message and closed cleanly: ${e.tolerate.note}` };
      }
      return judgeFail(obs, e.code, e.before ?? [], e.failFastMark);
    case "close":
      return judgeClose(obs, e.codes, e.before ?? []);
    case "informational":
      return judgeInformational(obs, e.note);
    case "drop":
      return {
        verdict: "OK",
        reason:
          "the server dropped TCP; the client ended the connection (an agent that hangs is FAILED by the runner)",
      };
    case "linger":
      return judgeLinger(obs, e.graceMs);
  }
}

function judgeEcho(
  obs: Observation,
  timedOut: boolean,
  want: readonly Item[],
  lastPongsOnly: boolean,
  limitLatitude: boolean,
): Judgment {
  const close = obs.clientClose;
  const limitCode = close?.code === CloseCode.PolicyViolation || close?.code === CloseCode.MessageTooBig;
  if (obs.clientStartedClose && close !== undefined && limitLatitude && limitCode) {
    return {
      verdict: "NON-STRICT",
      reason: `client refused with ${close.code} (a resource limit: allowed by 10.4, but this size is within common defaults)`,
    };
  }
  if (obs.clientStartedClose && close !== undefined) {
    return {
      verdict: "FAILED",
      reason: `client failed the connection with ${closeText(close.code)} after echoing ${describeItems(obs.items)}; expected ${describeItems(want)}`,
    };
  }
  let verdict: Verdict = "OK";
  let note = "";
  const mismatch = itemsMismatch(obs.items, want);
  if (mismatch !== undefined) {
    // "the endpoint MAY elect to send a Pong frame for only the most recently processed Ping frame" (5.5.3)
    const got = obs.items;
    const pongLatitude =
      lastPongsOnly &&
      got.length > 0 &&
      got.length < want.length &&
      sameItem(got[got.length - 1]!, want[want.length - 1]!) &&
      isSubsequence(got, want);
    if (!pongLatitude) return { verdict: "FAILED", reason: mismatch + (timedOut ? " (timed out)" : "") };
    verdict = "NON-STRICT";
    note = `answered ${got.length} of ${want.length} pings (allowed: a pong for the most recent ping only, 5.5.3); `;
  }
  if (close === undefined) {
    const reason =
      obs.clientTcpEndAt !== undefined
        ? "client dropped TCP instead of answering the server's close frame (5.5.1: MUST send a Close in response)"
        : "client did not answer the server's close frame";
    return { verdict: "FAILED", reason };
  }
  if (close.code !== CloseCode.Normal) {
    return {
      verdict: "NON-STRICT",
      reason: `${note}answered close 1000 with ${closeText(close.code)} (5.5.1: an endpoint typically echoes the code)`,
    };
  }
  return { verdict, reason: `${note}echoed ${describeItems(obs.items)}; clean close 1000` };
}

/** The client echoed exactly `items` and answered the server's close with 1000. */
function tolerated(obs: Observation, items: readonly Item[]): boolean {
  return (
    !obs.clientStartedClose &&
    obs.clientClose?.code === CloseCode.Normal &&
    itemsMismatch(obs.items, items) === undefined
  );
}

function isSubsequence(got: readonly Item[], want: readonly Item[]): boolean {
  let j = 0;
  for (const g of got) {
    while (j < want.length && !sameItem(g, want[j]!)) j++;
    if (j === want.length) return false;
    j++;
  }
  return true;
}

function judgeFail(obs: Observation, code: number, before: readonly Item[], failFastMark?: string): Judgment {
  const got = obs.items;
  const diff = firstDifference(got, before);
  if (diff !== -1) {
    return {
      verdict: "FAILED",
      reason: `client accepted invalid data: sent back ${describeItem(got[diff]!)} where it must fail the connection with ${code}`,
    };
  }
  const close = obs.clientClose;
  let verdict: Verdict;
  let reason: string;
  let endedAt: number;
  if (close !== undefined) {
    endedAt = close.at;
    if (close.code === code) {
      verdict = "OK";
      reason = `failed the connection with ${code}`;
    } else if (isErrorCode(close.code)) {
      verdict = "NON-STRICT";
      reason = `failed the connection with ${close.code}; ${code} is the precise code`;
    } else {
      return {
        verdict: "FAILED",
        reason: `closed with ${closeText(close.code)}; expected a failure with ${code}`,
      };
    }
  } else if (obs.clientTcpEndAt !== undefined) {
    endedAt = obs.clientTcpEndAt;
    verdict = "NON-STRICT";
    reason = `dropped TCP without a close frame (7.1.7: SHOULD send a Close frame with ${code} first)`;
  } else {
    return { verdict: "FAILED", reason: `client did not fail the connection (expected ${code}); it hung` };
  }
  if (got.length < before.length) {
    if (verdict === "OK") verdict = "NON-STRICT";
    reason += `; it failed before echoing the ${before.length - got.length} valid message(s) sent before the violation`;
  }
  if (failFastMark !== undefined) {
    const restAt = obs.marks.get(failFastMark);
    if (restAt !== undefined && endedAt >= restAt) {
      if (verdict === "OK") verdict = "NON-STRICT";
      reason += "; not fail-fast: it failed only after the rest of the message arrived";
    } else {
      reason += "; fail-fast";
    }
  }
  return { verdict, reason };
}

function judgeClose(
  obs: Observation,
  codes: readonly (number | undefined)[],
  before: readonly Item[],
): Judgment {
  // Data sent after the client's own close frame is a violation (see Session). Data it echoes before
  // answering our close is fine: it may have been sent before our close arrived.
  const got = obs.items;
  let prefixNote = "";
  if (firstDifference(got, before) !== -1) {
    return { verdict: "FAILED", reason: itemsMismatch(got, before)! };
  }
  if (got.length < before.length) {
    prefixNote = `; echoed only ${got.length} of the ${before.length} message(s) sent before the close (the close overtook the echo)`;
  }
  const close = obs.clientClose;
  if (close === undefined) {
    return {
      verdict: "FAILED",
      reason:
        obs.clientTcpEndAt !== undefined
          ? "client dropped TCP without answering the close frame (5.5.1: MUST send a Close in response)"
          : "client did not answer the close frame",
    };
  }
  const wanted = codes.map(closeText).join(" or ");
  if (codes.includes(close.code)) {
    return prefixNote === ""
      ? { verdict: "OK", reason: `answered with ${closeText(close.code)}` }
      : { verdict: "NON-STRICT", reason: `answered with ${closeText(close.code)}${prefixNote}` };
  }
  // Answering a valid close with "you broke the protocol" (1002) or "bad data" (1007) is rejecting it.
  if (close.code === CloseCode.ProtocolError || close.code === CloseCode.InvalidPayload) {
    return {
      verdict: "FAILED",
      reason: `rejected a valid close frame with ${close.code}; expected ${wanted}`,
    };
  }
  return {
    verdict: "NON-STRICT",
    reason: `answered with ${closeText(close.code)}; expected ${wanted}${prefixNote}`,
  };
}

function judgeInformational(obs: Observation, note: string): Judgment {
  if (obs.clientClose === undefined) {
    return { verdict: "FAILED", reason: "client did not answer the close frame" };
  }
  return {
    verdict: "INFORMATIONAL",
    reason: `${note}: echoed ${describeItems(obs.items)}, answered with ${closeText(obs.clientClose.code)}`,
  };
}

function judgeLinger(obs: Observation, graceMs: number): Judgment {
  const close = obs.clientClose;
  if (close === undefined) return { verdict: "FAILED", reason: "client did not answer the close frame" };
  const end = obs.clientTcpEndAt;
  if (end !== undefined && end - close.at <= graceMs) {
    return {
      verdict: "OK",
      reason: `client closed TCP ${Math.round(end - close.at)} ms after the close handshake`,
    };
  }
  return {
    verdict: "INFORMATIONAL",
    reason: `client was still waiting for the server to close TCP ${graceMs} ms after the close handshake (7.1.1: it SHOULD wait, and MAY close after a reasonable time)`,
  };
}
