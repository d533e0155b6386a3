/**
 * The client side of RFC 6455 as a sans-I/O state machine: the upgrade request, the checks of the
 * server's answer, then the {@link Protocol} shared by both roles.
 */
import { DEFAULT_MAX_ERROR_BODY, DEFAULT_MAX_HEAD_SIZE } from "./constants.js";
import {
  DEFAULT_DEFLATE_THRESHOLD,
  type DeflateParams,
  formatDeflateOffer,
  PERMESSAGE_DEFLATE,
  type PerMessageDeflateOptions,
  parseDeflateResponse,
} from "./deflate.js";
import { ErrorCodes, HandshakeError } from "./errors.js";
import type { WsEvent } from "./events.js";
import { ClientHandshake, type HandshakeOutcome } from "./handshake-client.js";
import { checkLimit, Protocol, type ProtocolOptions, State } from "./protocol.js";

/** Options of {@link ClientProtocol}: the upgrade request and the limits on the response. */
export interface ClientProtocolOptions extends ProtocolOptions {
  /** ws:, wss:, http: or https: URL. Userinfo becomes a Basic `Authorization` header. */
  url: string | URL;
  /** Extra request headers (Cookie, Authorization...). Names the handshake owns are rejected. */
  headers?: Record<string, string> | ReadonlyArray<readonly [string, string]>;
  /** Subprotocols offered, in order of preference. */
  protocols?: readonly string[];
  /** `Origin` header, if any. */
  origin?: string;
  /** Limit on the response head size. Default {@link DEFAULT_MAX_HEAD_SIZE}. */
  maxHeadSize?: number;
  /** Bytes of a non-101 response body kept for the error. Default {@link DEFAULT_MAX_ERROR_BODY}. */
  maxErrorBodySize?: number;
  /**
   * Offers permessage-deflate (RFC 7692) with these parameters and, when the server accepts,
   * compresses and inflates messages through the codec. Absent: no extension is offered.
   */
  perMessageDeflate?: PerMessageDeflateOptions;
}

/**
 * The client side of RFC 6455 as a sans-I/O state machine. It never touches a socket or a timer:
 * right after construction {@link dataToSend} holds the upgrade request; feed what the server sends
 * to {@link receiveData}, then take {@link eventsReceived} and write {@link dataToSend}. The first
 * event is `open` (or an `error` carrying a {@link HandshakeError}).
 */
export class ClientProtocol extends Protocol<WsEvent> {
  /** The `Sec-WebSocket-Key` sent. */
  readonly key: string;
  /** The permessage-deflate parameters agreed with the server, once open; undefined if none. */
  deflateParams: DeflateParams | undefined;
  private handshake: ClientHandshake | undefined;
  private readonly deflate: PerMessageDeflateOptions | undefined;

  constructor(options: ClientProtocolOptions) {
    super(options, true);
    const deflate = options.perMessageDeflate;
    this.deflate = deflate;
    if (deflate !== undefined) {
      this.deflateThreshold = checkLimit("threshold", deflate.threshold, DEFAULT_DEFLATE_THRESHOLD);
    }
    this.handshake = new ClientHandshake({
      url: options.url,
      headers: options.headers,
      protocols: options.protocols,
      origin: options.origin,
      ...(deflate !== undefined
        ? { extensions: formatDeflateOffer(deflate), extensionsOffered: [PERMESSAGE_DEFLATE] }
        : {}),
      ...(options.randomFill !== undefined ? { randomFill: options.randomFill } : {}),
      maxHeadSize: checkLimit("maxHeadSize", options.maxHeadSize, DEFAULT_MAX_HEAD_SIZE),
      maxErrorBodySize: checkLimit("maxErrorBodySize", options.maxErrorBodySize, DEFAULT_MAX_ERROR_BODY),
    });
    this.key = this.handshake.key;
    this.output.push(this.handshake.request);
  }

  /**
   * The upgrade request bytes, as queued in {@link dataToSend}, until the server's answer settles the
   * handshake; undefined after. For diagnostics: the transport may show what it sent.
   */
  get upgradeRequest(): Uint8Array | undefined {
    return this.handshake?.request;
  }

  receiveData(chunk: Uint8Array, limit = Number.POSITIVE_INFINITY): void {
    this.receiveLimit = limit;
    if (this.handshake === undefined) {
      this.receiveFrames(chunk);
      return;
    }
    if (this.state !== State.Connecting) return;
    const outcome = this.handshake.receiveData(chunk);
    if (outcome !== undefined) this.settleHandshake(outcome);
  }

  override receiveEof(): void {
    if (this.handshake !== undefined && this.state === State.Connecting) {
      this.settleHandshake(this.handshake.receiveEof());
    }
    super.receiveEof();
  }

  private settleHandshake(outcome: HandshakeOutcome): void {
    this.handshake = undefined;
    if (outcome.type === "accepted" && this.deflate !== undefined) {
      try {
        this.startDeflate(outcome.response.extensions, this.deflate);
      } catch (error) {
        const failure =
          error instanceof HandshakeError
            ? new HandshakeError(error.code, error.message, outcome.response)
            : new HandshakeError(
                ErrorCodes.InvalidExtension,
                "permessage-deflate setup failed",
                outcome.response,
                {
                  cause: error,
                },
              );
        this.settleHandshake({ type: "failed", error: failure });
        return;
      }
    }
    if (outcome.type === "failed") {
      this.failure = outcome.error;
      this.events.push({ type: "error", error: outcome.error });
      this.state = State.Closed;
      this.output.end();
      return;
    }
    this.events.push({ type: "open", response: outcome.response });
    this.startFrames(outcome.rest);
  }

  /** Validates the server's permessage-deflate answer and makes the codec (RFC 7692 section 7.1). */
  private startDeflate(extensions: string, deflate: PerMessageDeflateOptions): void {
    const params = parseDeflateResponse(extensions, deflate);
    if (params === undefined) return;
    this.deflateParams = params;
    this.codec = deflate.codecFactory(params, false);
  }
}
