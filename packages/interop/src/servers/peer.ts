/** A running interop peer, as the checks see it, and the mailbox of its out-of-band close reports. */
import type { CloseReport } from "./peer-protocol.js";

export interface Peer {
  /** Base URL (ws:// or wss://, no path); checks append the peer-protocol paths. */
  readonly url: string;
  /** Library and version, for the report. */
  readonly version: string;
  /** Whether the server negotiates permessage-deflate when a client offers it. */
  readonly deflate: boolean;
  /** The CA that signed a wss:// peer's certificate. */
  readonly ca?: string;
  readonly reports: ReportBus;
  /** Stops the peer (kills its processes by PID) and removes its files. Idempotent. */
  stop(): Promise<void>;
}

/** How to start one peer; `start` throws {@link PeerStartError} with the reason it could not. */
export interface PeerSpec {
  /** Short stable name (used in the JSON and on the command line). */
  readonly name: string;
  /** One line describing the setup, for the report. */
  readonly description: string;
  start(): Promise<Peer>;
}

export class PeerStartError extends Error {
  override name = "PeerStartError";
}

/**
 * Close reports arrive asynchronously (a peer reports after its side of the closing handshake), so
 * a check waits for its id rather than reading a snapshot.
 */
export class ReportBus {
  readonly #reports = new Map<string, CloseReport>();
  readonly #waiters = new Map<string, (report: CloseReport) => void>();

  push(report: CloseReport): void {
    const waiter = this.#waiters.get(report.id);
    if (waiter !== undefined) {
      this.#waiters.delete(report.id);
      waiter(report);
    } else {
      this.#reports.set(report.id, report);
    }
  }

  /** Resolves with the report for `id`; rejects after `timeoutMs` without one. */
  waitFor(id: string, timeoutMs: number): Promise<CloseReport> {
    const ready = this.#reports.get(id);
    if (ready !== undefined) {
      this.#reports.delete(id);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new Error(`the server reported no close for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(id, (report) => {
        clearTimeout(timer);
        resolve(report);
      });
    });
  }
}
