/**
 * The oracle of the message-accounting test, as pure functions over logs, so that it can be tested
 * on made-up logs (a gap, a duplicate, a reordering must each be reported) before it judges a client.
 * Each function returns the list of violations found, empty when the logs are consistent.
 */

/** A numbered message "<connId>:<seq>" or the end marker "<connId>:end", parsed. */
export type Numbered =
  | { readonly connId: number; readonly seq: number }
  | { readonly connId: number; readonly end: true };

export function parseNumbered(message: string): Numbered | undefined {
  const match = /^(\d+):(\d+|end)$/.exec(message);
  if (!match) return undefined;
  const connId = Number(match[1]);
  return match[2] === "end" ? { connId, end: true } : { connId, seq: Number(match[2]) };
}

/** What the server did on one connection, as far as the receive side cares. */
export interface SentLog {
  readonly id: number;
  /** Numbered messages handed to the socket: seq 0 to sent - 1. */
  readonly sent: number;
  readonly endSent: boolean;
}

export interface ReceiveSummary {
  /** Messages the client got, per connection id. */
  readonly receivedPerConnection: ReadonlyMap<number, number>;
  readonly totalReceived: number;
  /** Messages the server sent and the client never got (lost with a cut connection). */
  readonly lostInFlight: number;
  readonly violations: string[];
}

/**
 * Checks what a client's iterator yielded (`yielded`, in order, up to and including the end marker)
 * against what the server sent: per connection, an exact prefix of 0, 1, 2, ... (no gap, duplicate,
 * reordering or mangled message), connections in increasing order (the iterator never goes back),
 * the end marker last and after everything its connection sent, and the totals adding up to `budget`.
 */
export function checkReceived(
  yielded: readonly string[],
  sent: readonly SentLog[],
  budget: number,
): ReceiveSummary {
  const violations: string[] = [];
  const receivedPerConnection = new Map<number, number>();
  let currentConn = -1;
  let endSeen = false;
  for (const [index, message] of yielded.entries()) {
    const parsed = parseNumbered(message);
    if (!parsed) {
      violations.push(`message #${index} ${JSON.stringify(message.slice(0, 40))} is not a numbered message`);
      continue;
    }
    if (endSeen) {
      violations.push(`message #${index} ${message} came after the end marker`);
      continue;
    }
    if (parsed.connId < currentConn) {
      violations.push(
        `message #${index} ${message} is from connection ${parsed.connId}, after ${currentConn}`,
      );
      continue;
    }
    currentConn = parsed.connId;
    const count = receivedPerConnection.get(parsed.connId) ?? 0;
    const log = sent[parsed.connId];
    if ("end" in parsed) {
      endSeen = true;
      if (!log?.endSent) violations.push(`message #${index} ${message}: the server sent no end marker there`);
      else if (count !== log.sent) {
        violations.push(
          `end marker of connection ${parsed.connId} after ${count} of its ${log.sent} messages`,
        );
      }
      continue;
    }
    if (parsed.seq !== count) {
      violations.push(
        `message #${index} ${message}: expected ${parsed.connId}:${count} (gap, duplicate or reordering)`,
      );
    }
    if (!log || parsed.seq >= log.sent) {
      violations.push(`message #${index} ${message} was never sent by the server`);
    }
    receivedPerConnection.set(parsed.connId, count + 1);
  }
  if (!endSeen) violations.push("the end marker never arrived");

  const totalSent = sent.reduce((sum, log) => sum + log.sent, 0);
  if (totalSent !== budget) violations.push(`the server sent ${totalSent} numbered messages, not ${budget}`);
  let totalReceived = 0;
  let lostInFlight = 0;
  for (const log of sent) {
    const got = receivedPerConnection.get(log.id) ?? 0;
    totalReceived += got;
    lostInFlight += Math.max(0, log.sent - got);
  }
  if (totalReceived + lostInFlight !== totalSent) {
    violations.push(`received ${totalReceived} + lost ${lostInFlight} != sent ${totalSent}`);
  }
  return { receivedPerConnection, totalReceived, lostInFlight, violations };
}

/** How each `send()` of the client ended. */
export type SendOutcome = "pending" | "resolved" | "rejected";

/**
 * Checks what the server received from the client (`receivedPerConnection`, by connection id, each
 * in order) against the outcomes of the client's sends of "<seq>" (`outcomes[seq]`):
 * - every send settled (none stays pending);
 * - on each connection, the sequence numbers are consecutive: an in-order run without gaps, since a
 *   TCP connection loses only a suffix when it is cut;
 * - over all connections, sequence numbers only increase (nothing delivered twice or out of order);
 * - nothing the client reported as failed (rejected) was delivered.
 * A resolved send may still be missing: "resolved" means handed to the OS, and a RST loses what the
 * kernel buffers held.
 */
export function checkSent(
  receivedPerConnection: ReadonlyArray<readonly string[]>,
  outcomes: readonly SendOutcome[],
): string[] {
  const violations: string[] = [];
  const pending = outcomes.flatMap((outcome, seq) => (outcome === "pending" ? [seq] : []));
  if (pending.length > 0) {
    violations.push(`${pending.length} sends never settled, first ones: ${pending.slice(0, 5).join(", ")}`);
  }
  let last = -1;
  for (const [connId, messages] of receivedPerConnection.entries()) {
    let previous: number | undefined;
    for (const message of messages) {
      const seq = /^\d+$/.test(message) ? Number(message) : Number.NaN;
      if (!Number.isSafeInteger(seq) || seq >= outcomes.length) {
        violations.push(`connection ${connId} got ${JSON.stringify(message.slice(0, 40))}, never sent`);
        continue;
      }
      if (previous !== undefined && seq !== previous + 1) {
        violations.push(`connection ${connId} got ${seq} right after ${previous}`);
      }
      if (seq <= last)
        violations.push(`connection ${connId} got ${seq} after ${last} (duplicate or reordering)`);
      if (outcomes[seq] === "rejected")
        violations.push(`connection ${connId} got ${seq}, whose send() rejected`);
      previous = seq;
      last = Math.max(last, seq);
    }
  }
  return violations;
}
