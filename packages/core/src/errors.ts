/**
 * Stable string codes for every error the core raises. Like `ws`' `WS_ERR_*` codes, they never change
 * between versions, so callers can switch on them; messages are for humans and may change.
 */
export const ErrorCodes = {
  // The peer broke RFC 6455 framing rules (close 1002).
  InvalidOpcode: "WS_ERR_INVALID_OPCODE",
  UnexpectedRsvBits: "WS_ERR_UNEXPECTED_RSV",
  ControlFrameTooBig: "WS_ERR_CONTROL_FRAME_TOO_BIG",
  FragmentedControlFrame: "WS_ERR_FRAGMENTED_CONTROL_FRAME",
  UnexpectedContinuation: "WS_ERR_UNEXPECTED_CONTINUATION",
  ExpectedContinuation: "WS_ERR_EXPECTED_CONTINUATION",
  MaskedFrame: "WS_ERR_MASKED_FRAME",
  UnmaskedFrame: "WS_ERR_UNMASKED_FRAME",
  InvalidPayloadLength: "WS_ERR_INVALID_PAYLOAD_LENGTH",
  InvalidCloseCode: "WS_ERR_INVALID_CLOSE_CODE",
  InvalidClosePayload: "WS_ERR_INVALID_CLOSE_PAYLOAD",
  // The peer sent bytes that are not valid for the data type (close 1007).
  InvalidUtf8: "WS_ERR_INVALID_UTF8",
  DecompressionFailed: "WS_ERR_DECOMPRESSION_FAILED",
  // The peer sent more than we accept (close 1009).
  PayloadTooBig: "WS_ERR_PAYLOAD_TOO_BIG",
  TooManyFragments: "WS_ERR_TOO_MANY_FRAGMENTS",
  // The upgrade handshake failed (no close frame: the connection was never open).
  UnexpectedResponse: "WS_ERR_UNEXPECTED_RESPONSE",
  InvalidHttp: "WS_ERR_INVALID_HTTP",
  HeadTooBig: "WS_ERR_HEAD_TOO_BIG",
  InvalidUpgrade: "WS_ERR_INVALID_UPGRADE",
  InvalidAccept: "WS_ERR_INVALID_ACCEPT",
  InvalidSubprotocol: "WS_ERR_INVALID_SUBPROTOCOL",
  InvalidExtension: "WS_ERR_INVALID_EXTENSION",
  InvalidRequest: "WS_ERR_INVALID_REQUEST",
  // The transport ended in the middle of something.
  UnexpectedEof: "WS_ERR_UNEXPECTED_EOF",
  // A bug or an exception from a plugged-in codec: close 1011, without details.
  InternalError: "WS_ERR_INTERNAL",
  // Local misuse: the caller, not the peer, did something wrong.
  InvalidState: "WS_ERR_INVALID_STATE",
} as const;
/** One of the stable {@link ErrorCodes}: what `WebSocketError.code` holds. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * The close code to send for each peer error: the ONE place where errors map to close codes
 * (RFC 6455 section 7.4.1). Any other code is a protocol error: 1002 (see {@link ProtocolError}).
 * Numbers, not `CloseCode` members: a bundle that never reads this table (a browser's) can drop it only
 * when no property read initialises it. The tests check each.
 */
const CLOSE_CODE_FOR: Partial<Record<ErrorCode, number>> = {
  WS_ERR_INVALID_UTF8: 1007, // InvalidPayload
  WS_ERR_DECOMPRESSION_FAILED: 1007,
  WS_ERR_PAYLOAD_TOO_BIG: 1009, // MessageTooBig
  // 1009, not 1008 (ws): the message is too big to process, counted in frames rather than bytes;
  // RFC 6455 7.4.1 keeps 1008 for when "there is no other more suitable status code (e.g., ... 1009)".
  WS_ERR_TOO_MANY_FRAGMENTS: 1009,
  WS_ERR_INTERNAL: 1011, // InternalError
};

/**
 * Base class of every error Tideway raises. `code` is stable; see {@link ErrorCodes}. `Code` lets a
 * package built on the core (the Node client) add its own codes and keep `code` a literal union.
 */
export class WebSocketError<Code extends string = ErrorCode> extends Error {
  // Each class names itself, since a minifier renames classes: with a getter, as the CommonJS build
  // assigns static fields and a class's `name` is read-only. Fields are `declare`d and set in the
  // constructor (not also emitted as class fields); codes are literals checked against ErrorCodes
  // by `satisfies`, so a bundle that never reads that table drops it.
  static override get name(): string {
    return "WebSocketError";
  }
  declare readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * The peer broke the protocol after the handshake. `closeCode` is what the core sends in its close
 * frame when it fails the connection: 1002 (protocol error), 1007 (invalid data) or 1009 (too big).
 */
export class ProtocolError extends WebSocketError {
  static override get name(): string {
    return "ProtocolError";
  }
  declare readonly closeCode: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.closeCode = CLOSE_CODE_FOR[code] ?? 1002; // ProtocolError
  }
}

/** A snapshot of an HTTP response head (and, for a failed upgrade, a bounded part of its body). */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  /** Header names in lower case; repeated headers joined with ", " (Set-Cookie with "\n"). */
  readonly headers: Readonly<Record<string, string>>;
  /** Raw header pairs, in order and as sent. */
  readonly rawHeaders: ReadonlyArray<readonly [string, string]>;
}

/**
 * The upgrade handshake failed: the response was not HTTP, not a valid 101, or refused. No close frame
 * is sent (the connection never opened). `response` is set when a response head was parsed.
 */
export class HandshakeError extends WebSocketError {
  static override get name(): string {
    return "HandshakeError";
  }
  declare readonly response: HttpResponse | undefined;
  constructor(code: ErrorCode, message: string, response?: HttpResponse, options?: { cause?: unknown }) {
    super(code, message, options);
    this.response = response;
  }
}

/**
 * The server answered the upgrade with something other than 101 (a redirect, 401, 404, 503...).
 * Carries the status, headers and up to a bounded number of body bytes, so callers can decide whether
 * to retry (5xx, 429 with Retry-After) or give up (4xx).
 */
export class UnexpectedResponseError extends HandshakeError {
  static override get name(): string {
    return "UnexpectedResponseError";
  }
  declare readonly code: typeof ErrorCodes.UnexpectedResponse;
  declare readonly status: number;
  declare readonly headers: Readonly<Record<string, string>>;
  /** The first bytes of the body (bounded; see `maxErrorBodySize`). */
  declare readonly body: Uint8Array;
  constructor(response: HttpResponse, body: Uint8Array) {
    super(
      "WS_ERR_UNEXPECTED_RESPONSE" satisfies typeof ErrorCodes.UnexpectedResponse,
      `Unexpected server response: ${response.status} ${response.statusText}`.trimEnd(),
      response,
    );
    this.status = response.status;
    this.headers = response.headers;
    this.body = body;
  }
}

/** Local misuse: sending after close, closing twice with other arguments, a bad argument. */
export class InvalidStateError extends WebSocketError {
  static override get name(): string {
    return "InvalidStateError";
  }
  declare readonly code: typeof ErrorCodes.InvalidState;
  constructor(message: string) {
    super("WS_ERR_INVALID_STATE" satisfies typeof ErrorCodes.InvalidState, message);
  }
}
