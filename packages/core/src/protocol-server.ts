/**
 * The server side of RFC 6455 as a sans-I/O state machine: the upgrade request reported as an
 * event, `accept` or `reject`, then the {@link Protocol} shared by both roles.
 */
import { DEFAULT_MAX_HEAD_SIZE } from "./constants.js";
import {
  acceptDeflateOffer,
  DEFAULT_DEFLATE_THRESHOLD,
  type DeflateParams,
  type PerMessageDeflateOptions,
  type ServerDeflateConfig,
} from "./deflate.js";
import { InvalidStateError } from "./errors.js";
import type { WsEvent } from "./events.js";
import {
  buildAcceptResponse,
  buildRejectResponse,
  ServerHandshake,
  type UpgradeRequest,
  UpgradeRequestError,
} from "./handshake-server.js";
import type { HttpRequest } from "./http.js";
import { checkLimit, EMPTY, Protocol, type ProtocolOptions, State } from "./protocol.js";

/** Options of {@link ServerProtocol}. */
export interface ServerProtocolOptions extends ProtocolOptions {
  /** Limit on the request head size. Default {@link DEFAULT_MAX_HEAD_SIZE}. */
  maxHeadSize?: number;
  /**
   * Accepts a client's permessage-deflate offer in {@link ServerProtocol.accept}, within these
   * limits, and compresses and inflates through the codec. Absent: offers are ignored.
   */
  perMessageDeflate?: ServerDeflateConfig & Pick<PerMessageDeflateOptions, "codecFactory" | "threshold">;
}

/** What {@link ServerProtocol} reports: the upgrade request first, then the same events as a client. */
export type ServerEvent =
  | WsEvent
  | Readonly<{ type: "request"; request: HttpRequest; upgrade: UpgradeRequest }>;

/**
 * The server side of the same protocol, for tests, conformance servers and library authors. The
 * first event is `request`; answer it with {@link accept} or {@link reject}. Client frames must be
 * masked; they are unmasked in place (the input chunks are modified).
 */
export class ServerProtocol extends Protocol<ServerEvent> {
  private handshake: ServerHandshake | undefined;
  /** Frames that arrived with the request, before accept() was called. */
  private pending: Uint8Array[] = [];
  private request: UpgradeRequest | undefined;
  private readonly deflate: ServerProtocolOptions["perMessageDeflate"];
  /** The permessage-deflate parameters agreed in {@link accept}; undefined if none. */
  deflateParams: DeflateParams | undefined;

  constructor(options: ServerProtocolOptions = {}) {
    super(options, false);
    this.deflate = options.perMessageDeflate;
    if (this.deflate !== undefined) {
      this.deflateThreshold = checkLimit("threshold", this.deflate.threshold, DEFAULT_DEFLATE_THRESHOLD);
    }
    this.handshake = new ServerHandshake({
      maxHeadSize: checkLimit("maxHeadSize", options.maxHeadSize, DEFAULT_MAX_HEAD_SIZE),
    });
  }

  receiveData(chunk: Uint8Array, limit = Number.POSITIVE_INFINITY): void {
    this.receiveLimit = limit;
    if (this.state !== State.Connecting) {
      this.receiveFrames(chunk);
      return;
    }
    if (this.handshake === undefined) {
      // Waiting for accept() or reject(): keep the bytes (a client may pipeline its first frames).
      this.pending.push(chunk);
      return;
    }
    const outcome = this.handshake.receiveData(chunk);
    if (outcome === undefined) return;
    this.handshake = undefined;
    if (outcome.type === "failed") {
      this.failure = outcome.error;
      this.events.push({ type: "error", error: outcome.error });
      const error = outcome.error;
      // A wrong version gets 426 with the version we speak (RFC 6455 section 4.4); the rest 400.
      const [status, headers] =
        error instanceof UpgradeRequestError ? [error.status, { ...error.responseHeaders }] : [400, {}];
      this.output.push(buildRejectResponse(status, { headers, body: error.message }));
      this.state = State.Closed;
      this.output.end();
      return;
    }
    this.request = outcome.upgrade;
    if (outcome.rest.length > 0) this.pending.push(outcome.rest);
    this.events.push({ type: "request", request: outcome.request, upgrade: outcome.upgrade });
  }

  /**
   * Accepts the upgrade request: queues the 101 response and opens the connection. With
   * `perMessageDeflate` configured, the client's first acceptable permessage-deflate offer is
   * accepted and its answer appended to `extensions`.
   */
  accept(options: { protocol?: string; extensions?: string; headers?: Record<string, string> } = {}): void {
    const request = this.request;
    if (this.state !== State.Connecting || request === undefined) {
      throw new InvalidStateError("accept() needs a received upgrade request and a CONNECTING state");
    }
    let extensions = options.extensions;
    if (this.deflate !== undefined) {
      const accepted = acceptDeflateOffer(request.extensions, this.deflate);
      if (accepted !== undefined) {
        this.deflateParams = accepted.params;
        this.codec = this.deflate.codecFactory(accepted.params, true);
        extensions = extensions ? `${extensions}, ${accepted.answer}` : accepted.answer;
      }
    }
    this.output.push(
      buildAcceptResponse({ key: request.key, ...options, ...(extensions ? { extensions } : {}) }),
    );
    const pending = this.pending;
    this.pending = [];
    this.receiveLimit = Number.POSITIVE_INFINITY;
    this.startFrames(EMPTY);
    for (const chunk of pending) this.receiveFrames(chunk);
  }

  /** Refuses the upgrade request with an HTTP status, then ends the stream. */
  reject(
    status: number,
    options: { headers?: Record<string, string>; body?: string | Uint8Array } = {},
  ): void {
    if (this.state !== State.Connecting || this.request === undefined) {
      throw new InvalidStateError("reject() needs a received upgrade request and a CONNECTING state");
    }
    this.output.push(buildRejectResponse(status, options));
    this.state = State.Closed;
    this.output.end();
  }
}
