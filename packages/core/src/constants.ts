/** WebSocket frame opcodes (RFC 6455 section 5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Close codes of RFC 6455 section 7.4.1 and the IANA "WebSocket Close Code Number Registry". */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved: never on the wire. "No status code was actually present." */
  NoStatusReceived: 1005,
  /** Reserved: never on the wire. The connection closed without a close frame. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: never on the wire. The TLS handshake failed. */
  TlsHandshake: 1015,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The GUID of RFC 6455 section 1.3, appended to Sec-WebSocket-Key before hashing. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** "All control frames MUST have a payload length of 125 bytes or less" (RFC 6455 section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** A close reason fits in a control frame after the 2-byte code: 125 - 2 bytes. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Default largest message (after reassembly) the core accepts: 100 MiB, as `ws`.
 * Large enough for any sane application message; small enough that a hostile peer cannot make a
 * client buffer gigabytes. Lower it for streams of small messages.
 */
export const DEFAULT_MAX_PAYLOAD = 104_857_600;

/**
 * Default most frames one received data message may take: 1,048,576 (2^20). Memory follows the
 * payload, not the frame count (fragments are copied together as they arrive), so this bounds work:
 * a message of one-byte fragments stops after ~3 MiB of frame headers, parsed in well under a
 * second. Generous for real senders (a 100 MiB message in 128-byte fragments fits); `ws` servers
 * allow 16,384 and `ws` clients have no limit.
 */
export const DEFAULT_MAX_FRAGMENTS = 1_048_576;

/**
 * Default limit on the size of an HTTP head (status line plus headers) in the upgrade handshake:
 * 16 KiB, as h11 and Node's own HTTP parser (`--max-http-header-size`).
 */
export const DEFAULT_MAX_HEAD_SIZE = 16_384;

/** Default limit on the body of a non-101 response that the core keeps for the error report: 4 KiB. */
export const DEFAULT_MAX_ERROR_BODY = 4_096;
