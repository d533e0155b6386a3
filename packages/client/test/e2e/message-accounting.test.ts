/**
 * The Done-when of the client: across connections cut at random points, by the server and by the
 * network (a proxy sending TCP RSTs), with automatic reconnects, every message is accounted for.
 * Receive side: per connection, the iterator yields an exact prefix of what the server sent, then
 * goes on with the next connection. Send side: every send() settles, and each connection delivers an
 * in-order run without gaps. See helpers/accounting.ts for the oracle, tested on its own.
 *
 * Replay a failing run with TIDEWAY_SEED=<seed> (the seed is in the failure message).
 */
import { WebSocketClient } from "@tideway/client";
import { describe, expect, it } from "vitest";
import { type AccountingOptions, type AccountingResult, runAccounting } from "../helpers/accounting-run.js";
import { ReferenceClient } from "../helpers/reference-client.js";

const seed = Number(process.env.TIDEWAY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const scenario: AccountingOptions = {
  seed,
  budget: 100_000,
  serverCuts: 4,
  proxyCuts: 3,
  deadlineMs: 45_000,
};

function expectAccounted(result: AccountingResult, clientName: string): void {
  const context = `${clientName}, seed ${result.seed}, connections ${JSON.stringify(result.connections)}`;
  expect(result.runViolations, context).toEqual([]);
  expect(result.receive.violations, context).toEqual([]);
  expect(result.sendViolations, context).toEqual([]);
  // Every planned cut happened, so the run could not pass without reconnecting 7 times.
  expect(result.serverCutsMade, context).toEqual({ terminate: 2, reset: 2 });
  expect(result.proxyCutsMade, context).toBe(3);
  expect(result.serverConnections, context).toBe(8);
  expect(result.opens, context).toBe(8);
  // The iterator went on with each new connection: every one of them delivered messages.
  expect(result.receive.receivedPerConnection.size, context).toBe(8);
  expect(result.receive.totalReceived + result.receive.lostInFlight, context).toBe(100_000);
  expect(result.sends.pending, context).toBe(0);
  // The send side crossed at least two cuts.
  expect(result.connectionsWithSends, context).toBeGreaterThanOrEqual(3);
}

describe("message accounting across cut connections", () => {
  it("holds for the Tideway WebSocketClient", async () => {
    const result = await runAccounting(
      (url) =>
        new WebSocketClient(url, {
          heartbeat: false,
          // A fixed 10 ms backoff: the connections here never last long enough to reset it.
          reconnect: { retries: 20, minTimeout: 10, maxTimeout: 10, factor: 1, jitter: "none" },
        }),
      scenario,
    );
    expectAccounted(result, "WebSocketClient");
  }, 60_000);

  it("holds for the ws reference client (a check on the harness itself)", async () => {
    const result = await runAccounting((url) => new ReferenceClient(url, { reconnectDelay: 10 }), scenario);
    expectAccounted(result, "reference client");
  }, 60_000);

  it("reports a message the client lost (the oracle can fail)", async () => {
    const result = await runAccounting((url) => new ReferenceClient(url, { reconnectDelay: 10 }), {
      ...scenario,
      budget: 20_000,
      serverCuts: 1,
      proxyCuts: 1,
      tamper: (message, index) => (index === 300 ? undefined : message),
    });
    expect(result.receive.violations).toContainEqual(
      expect.stringMatching(/^message #300 0:301: expected 0:300/),
    );
  }, 60_000);
});
