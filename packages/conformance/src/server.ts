/**
 * The conformance server, after Autobahn's fuzzing server. Endpoints:
 *
 *   /runCase?case=N&agent=NAME      WebSocket: plays case N (1-based) and judges the client
 *   /runCase?id=6.4.1&agent=NAME    the same, by case id
 *   /getCaseCount                   WebSocket: one text message with the number of cases; plain HTTP: JSON
 *   /getCaseInfo?case=N             JSON (plain HTTP) or one text message (WebSocket): id, description, expectation
 *   /getCaseStatus?case=N&agent=A   JSON: the verdict, once the case has run
 *
 * Results are kept per agent and case; `waitForResult` lets a runner await the verdict of the case it
 * just drove.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { HttpRequest, UpgradeRequest } from "@tideway/core";
import {
  buildAcceptResponse,
  buildRejectResponse,
  parseUpgradeRequest,
  RequestHeadParser,
} from "@tideway/core/internals";
import type { CaseDef } from "./case.js";
import { ALL_CASES } from "./cases/index.js";
import { type Negotiation, negotiate } from "./deflate.js";
import { complete, judge } from "./judge.js";
import { Session } from "./session.js";
import type { CaseResult } from "./types.js";

export interface ConformanceServerOptions {
  /** The cases to serve; default: all of them. */
  cases?: readonly CaseDef[];
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
}

interface Pending {
  promise: Promise<CaseResult>;
  resolve: (r: CaseResult) => void;
}

export class ConformanceServer {
  readonly cases: readonly CaseDef[];
  readonly host: string;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #results = new Map<string, Pending>();
  #port = 0;

  private constructor(cases: readonly CaseDef[], host: string) {
    this.cases = cases;
    this.host = host;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  static async start(options: ConformanceServerOptions = {}): Promise<ConformanceServer> {
    const server = new ConformanceServer(options.cases ?? ALL_CASES, options.host ?? "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      server.#server.once("error", reject);
      server.#server.listen(options.port ?? 0, server.host, () => resolve());
    });
    const address = server.#server.address();
    server.#port = typeof address === "object" && address !== null ? address.port : 0;
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** `ws://host:port/runCase?case=N&agent=NAME` for case index `n` (1-based). */
  caseUrl(n: number, agent: string): string {
    return `ws://${this.host}:${this.#port}/runCase?case=${n}&agent=${encodeURIComponent(agent)}`;
  }

  url(path: string): string {
    return `ws://${this.host}:${this.#port}${path}`;
  }

  /** Resolves with the verdict of case `n` for `agent` once it has been judged. */
  waitForResult(agent: string, n: number): Promise<CaseResult> {
    return this.#pending(agent, n).promise;
  }

  /** Forgets the verdict of case `n` for `agent`, so it can run again. */
  resetResult(agent: string, n: number): void {
    this.#results.delete(`${agent}\u0000${n}`);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pending(agent: string, n: number): Pending {
    const key = `${agent}\u0000${n}`;
    let p = this.#results.get(key);
    if (p === undefined) {
      let resolve!: (r: CaseResult) => void;
      const promise = new Promise<CaseResult>((r) => (resolve = r));
      p = { promise, resolve };
      this.#results.set(key, p);
    }
    return p;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    // The core's server role reads the request head (limited to 16 KiB); `rest` is what followed it.
    const parser = new RequestHeadParser();
    const onData = (chunk: Buffer) => {
      let head: ReturnType<RequestHeadParser["push"]>;
      try {
        head = parser.push(new Uint8Array(chunk));
      } catch {
        socket.end(buildRejectResponse(400, { body: "malformed request head" }));
        return;
      }
      if (head === undefined) return;
      socket.off("data", onData);
      void this.#route(socket, head.request, head.rest);
    };
    socket.on("data", onData);
  }

  #caseIndex(params: URLSearchParams): number | undefined {
    const id = params.get("id") ?? params.get("casetuple");
    if (id !== null) {
      const i = this.cases.findIndex((c) => c.id === id);
      return i === -1 ? undefined : i + 1;
    }
    const n = Number(params.get("case"));
    return Number.isInteger(n) && n >= 1 && n <= this.cases.length ? n : undefined;
  }

  async #route(socket: Socket, request: HttpRequest, rest: Uint8Array): Promise<void> {
    const url = new URL(request.target, "http://conformance");
    let upgrade: UpgradeRequest | undefined;
    try {
      upgrade = parseUpgradeRequest(request);
    } catch {
      // Not a (valid) upgrade: a plain HTTP request, answered with JSON where that makes sense.
    }
    const n = this.#caseIndex(url.searchParams);
    const info = n === undefined ? undefined : this.cases[n - 1];
    switch (url.pathname) {
      case "/runCase": {
        if (upgrade === undefined || n === undefined || info === undefined) {
          socket.end(json(400, { error: "runCase needs a WebSocket upgrade and a valid case" }));
          return;
        }
        // Outside the compression cases no extension is accepted: every RSV bit is then invalid. The
        // compression cases negotiate permessage-deflate with their own server config.
        const deflate = info.deflate === undefined ? undefined : negotiate(upgrade, info.deflate);
        socket.write(
          buildAcceptResponse({
            key: upgrade.key,
            ...(deflate?.answer !== undefined ? { extensions: deflate.answer } : {}),
          }),
        );
        const agent = url.searchParams.get("agent") ?? "unknown";
        const result = await runCase(info, new Session(socket, rest, deflate), deflate);
        this.#pending(agent, n).resolve(result);
        return;
      }
      case "/getCaseCount":
        return this.#reply(socket, upgrade, this.cases.length);
      case "/getCaseInfo":
        if (info === undefined) break;
        return this.#reply(socket, upgrade, {
          id: info.id,
          description: info.description,
          expectation: info.expectation,
        });
      case "/getCaseStatus": {
        if (n === undefined) break;
        const agent = url.searchParams.get("agent") ?? "unknown";
        const key = `${agent}\u0000${n}`;
        const done = this.#results.has(key)
          ? await Promise.race([this.#results.get(key)!.promise, Promise.resolve(undefined)])
          : undefined;
        return this.#reply(socket, upgrade, done ?? { status: "not run" });
      }
    }
    socket.end(json(404, { error: `unknown endpoint or case: ${request.target}` }));
  }

  /** Answers with JSON: a text message over WebSocket (as Autobahn does), or a plain HTTP body. */
  async #reply(socket: Socket, upgrade: UpgradeRequest | undefined, body: unknown): Promise<void> {
    if (upgrade === undefined) {
      socket.end(json(200, body));
      return;
    }
    socket.write(buildAcceptResponse({ key: upgrade.key }));
    const s = new Session(socket);
    s.text(JSON.stringify(body));
    s.close(1000);
    await s.waitForClientDone(1000);
    await s.endTcp();
  }
}

/** A complete HTTP response with a JSON body; the connection closes after it. */
const json = (status: number, body: unknown) =>
  buildRejectResponse(status, {
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

/**
 * Plays one case on an upgraded connection and judges it. A compression case whose client did not
 * negotiate permessage-deflate is not played: the server closes normally and the case FAILS.
 */
export async function runCase(def: CaseDef, s: Session, deflate?: Negotiation): Promise<CaseResult> {
  const t0 = performance.now();
  if (def.deflate !== undefined && def.deflate.decline !== true && deflate?.params === undefined) {
    s.close(1000);
    await s.waitForClientDone(def.timeoutMs ?? 2000);
    await s.endTcp();
    const offered = deflate?.offered
      ? `its offer: ${JSON.stringify(deflate.offered)}`
      : "it offered no extension";
    return {
      id: def.id,
      verdict: "FAILED",
      reason: `the client did not negotiate permessage-deflate (${offered}); the case needs it`,
      durationMs: Math.round(performance.now() - t0),
      clientCloseCode: s.obs.clientClose?.code,
    };
  }
  let suiteError: unknown;
  try {
    await def.play(s);
  } catch (err) {
    suiteError = err;
  }
  await complete(s, def);
  s.release();
  const j =
    suiteError === undefined
      ? judge(s.obs, s.timedOut, def.expect)
      : { verdict: "FAILED" as const, reason: `suite error: ${(suiteError as Error).message}` };
  const d = s.obs.deflate;
  // Say what was negotiated and how much came back compressed: plain echoes are legal but telling.
  const note =
    d === undefined
      ? ""
      : d.answer === undefined
        ? " [no extension negotiated]"
        : ` [${d.answer}; ${d.compressedMessages} echo(es) compressed]`;
  return {
    id: def.id,
    verdict: j.verdict,
    reason: j.reason + note,
    durationMs: Math.round(performance.now() - t0),
    clientCloseCode: s.obs.clientClose?.code,
  };
}
