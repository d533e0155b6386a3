/**
 * permessage-deflate (RFC 7692) without a deflate implementation: the negotiation (the client's offer,
 * the validation of the server's answer, the server's answer to an offer) and the {@link MessageCodec}
 * interface through which the protocol compresses and decompresses whole messages. Each runtime plugs
 * in its own codec (`@tideway/client` one on `node:zlib`), so the core stays free of `node:` imports.
 */
import { ErrorCodes, HandshakeError } from "./errors.js";
import { type ExtensionOffer, formatExtensionList, parseExtensionList } from "./headers.js";

/** The extension token (RFC 7692 section 7). */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/**
 * Default of `threshold`: messages under 1024 bytes are sent uncompressed, as `ws` does. Deflating a
 * short message costs tens of microseconds and saves a few bytes at best; RSV1 is per message, so
 * mixing compressed and plain messages is legal (RFC 7692 section 6).
 */
export const DEFAULT_DEFLATE_THRESHOLD = 1024;

/** What both sides agreed to, from the point of view of the client: defaults filled in. */
export interface DeflateParams {
  /** The server resets its compressor after each message: the client's inflater keeps no history. */
  readonly serverNoContextTakeover: boolean;
  /** The client resets its compressor after each message. */
  readonly clientNoContextTakeover: boolean;
  /** LZ77 window of the server's compressor, 8..15 (15 when not negotiated). */
  readonly serverMaxWindowBits: number;
  /** LZ77 window of the client's compressor, 8..15 (15 when not negotiated). */
  readonly clientMaxWindowBits: number;
}

/**
 * Compresses and decompresses messages, SYNCHRONOUSLY: the protocol calls it inside `sendText` /
 * `receiveData`, which keeps messages in order for free. One codec serves one connection and one
 * role; it owns the compression contexts (history) of both directions.
 */
export interface MessageCodec {
  /**
   * Compresses one whole message: raw DEFLATE ending with a sync flush, with the final
   * 0x00 0x00 0xff 0xff removed (RFC 7692 section 7.2.1). Keeps or drops history per the params.
   */
  compress(data: Uint8Array): Uint8Array;
  /**
   * Decompresses the payload of one frame of a compressed message, in order; `fin` marks the last
   * frame, where the codec appends 0x00 0x00 0xff 0xff (section 7.2.2). Returns the bytes produced so
   * far (a codec may return nothing until `fin`). Must not produce more than `maxOutput` bytes: it
   * throws a ProtocolError(PayloadTooBig) instead, and should stop inflating as soon as it knows.
   * Any other exception is reported as ProtocolError(DecompressionFailed), close 1007.
   */
  decompress(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array;
  /**
   * The connection is over (the transport reached end of stream): frees what the codec holds, such
   * as native compression contexts, now rather than at garbage collection. Called once, last.
   */
  close?(): void;
}

/** Builds the codec once the extension is negotiated. `isServer`: which side the codec works for. */
export type MessageCodecFactory = (params: DeflateParams, isServer: boolean) => MessageCodec;

/** The client's offer. Each field is one parameter of RFC 7692 section 7.1. */
export interface DeflateOffer {
  /**
   * `client_max_window_bits`: `true` (the default) says "I support the parameter" and lets the server
   * pick a window for our compressor; a number 8..15 also caps it; `false` leaves it out.
   */
  clientMaxWindowBits?: number | boolean;
  /** `server_max_window_bits=N`: asks the server to use at most a 2^N window (saves memory here). */
  serverMaxWindowBits?: number;
  /** `client_no_context_takeover`: this client resets its compressor after each message. */
  clientNoContextTakeover?: boolean;
  /** `server_no_context_takeover`: asks the server to reset its compressor after each message. */
  serverNoContextTakeover?: boolean;
}

/** The protocol's permessage-deflate configuration (both roles). */
export interface PerMessageDeflateOptions extends DeflateOffer {
  /** Makes the codec once negotiated. */
  codecFactory: MessageCodecFactory;
  /** Messages shorter than this (in bytes) are sent uncompressed. Default {@link DEFAULT_DEFLATE_THRESHOLD}. */
  threshold?: number;
}

function checkBits(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 8 || value > 15) {
    throw new RangeError(`${name} must be an integer from 8 to 15, got ${String(value)}`);
  }
  return value;
}

/**
 * The `Sec-WebSocket-Extensions` value offering permessage-deflate, e.g.
 * `permessage-deflate; client_max_window_bits`. Throws RangeError for window bits outside 8..15.
 */
export function formatDeflateOffer(offer: DeflateOffer = {}): string {
  const params: Array<[string, string | true]> = [];
  if (offer.clientNoContextTakeover) params.push(["client_no_context_takeover", true]);
  if (offer.serverNoContextTakeover) params.push(["server_no_context_takeover", true]);
  const clientBits = offer.clientMaxWindowBits ?? true;
  if (clientBits === true) params.push(["client_max_window_bits", true]);
  else if (clientBits !== false) {
    params.push(["client_max_window_bits", String(checkBits("clientMaxWindowBits", clientBits))]);
  }
  if (offer.serverMaxWindowBits !== undefined) {
    params.push([
      "server_max_window_bits",
      String(checkBits("serverMaxWindowBits", offer.serverMaxWindowBits)),
    ]);
  }
  return formatExtensionList([{ name: PERMESSAGE_DEFLATE, params }]);
}

/** Parsed parameters of one permessage-deflate element; `why` says what is wrong with it, if anything. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined: absent; true: present without a value (only valid for client_max_window_bits in an offer). */
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | true | undefined;
}

/**
 * Parses the parameters of one element, checking RFC 7692 section 7.1's grammar: known names only,
 * each at most once ("MUST NOT include ... more than once"), flags without a value, window bits a
 * decimal integer 8..15 without leading zeros. `clientBitsMayBeValueless` is true for an offer.
 * Returns a description of the first problem as a string.
 */
function parseParams(
  params: ExtensionOffer["params"],
  clientBitsMayBeValueless: boolean,
): ParsedParams | string {
  const out: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [rawName, value] of params) {
    const name = rawName.toLowerCase();
    if (seen.has(name)) return `duplicate parameter ${rawName}`;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
      case "client_no_context_takeover":
        if (value !== true) return `parameter ${rawName} takes no value, got ${JSON.stringify(value)}`;
        if (name === "server_no_context_takeover") out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case "server_max_window_bits":
      case "client_max_window_bits": {
        let bits: number | true;
        if (value === true) {
          if (name === "server_max_window_bits" || !clientBitsMayBeValueless) {
            return `parameter ${rawName} needs a value from 8 to 15`;
          }
          bits = true;
        } else {
          if (!/^(?:8|9|1[0-5])$/.test(value)) {
            return `parameter ${rawName} must be an integer from 8 to 15, got ${JSON.stringify(value)}`;
          }
          bits = Number(value);
        }
        if (name === "server_max_window_bits") out.serverMaxWindowBits = bits as number;
        else out.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${rawName}`;
    }
  }
  return out;
}

/**
 * Validates the server's `Sec-WebSocket-Extensions` answer against `offer` (RFC 7692 section 7.1)
 * and returns the negotiated parameters, or undefined when the server did not accept the extension.
 * Throws HandshakeError(InvalidExtension) when the answer is malformed, names permessage-deflate
 * twice, has an unknown or duplicate parameter, a value outside 8..15 or where none is allowed,
 * `client_max_window_bits` that was not offered or above the offered value, or
 * `server_max_window_bits` above the requested one.
 */
export function parseDeflateResponse(header: string, offer: DeflateOffer = {}): DeflateParams | undefined {
  const elements = parseExtensionList(header).filter((e) => e.name.toLowerCase() === PERMESSAGE_DEFLATE);
  if (elements.length === 0) return undefined;
  const fail = (why: string): never => {
    throw new HandshakeError(ErrorCodes.InvalidExtension, `Invalid permessage-deflate response: ${why}`);
  };
  if (elements.length > 1) fail("the server accepted permessage-deflate more than once");
  const parsed = parseParams(elements[0]!.params, false);
  if (typeof parsed === "string") return fail(parsed);
  const offeredClientBits = offer.clientMaxWindowBits ?? true;
  let clientMaxWindowBits = typeof offeredClientBits === "number" ? offeredClientBits : 15;
  if (parsed.clientMaxWindowBits !== undefined) {
    // "If a received extension negotiation offer doesn't have the client_max_window_bits extension
    // parameter, the corresponding extension negotiation response to the offer MUST NOT include the
    // client_max_window_bits extension parameter" (section 7.1.2.2).
    if (offeredClientBits === false) fail("client_max_window_bits was not offered");
    const bits = parsed.clientMaxWindowBits as number;
    if (typeof offeredClientBits === "number" && bits > offeredClientBits) {
      fail(`client_max_window_bits=${bits} is above the offered ${offeredClientBits}`);
    }
    clientMaxWindowBits = bits;
  }
  let serverMaxWindowBits = 15;
  if (parsed.serverMaxWindowBits !== undefined) {
    // The server may always announce a smaller window of its own (section 7.1.2.1), never a larger
    // one than the client asked for.
    if (offer.serverMaxWindowBits !== undefined && parsed.serverMaxWindowBits > offer.serverMaxWindowBits) {
      fail(
        `server_max_window_bits=${parsed.serverMaxWindowBits} is above the requested ${offer.serverMaxWindowBits}`,
      );
    }
    serverMaxWindowBits = parsed.serverMaxWindowBits;
  } else if (offer.serverMaxWindowBits !== undefined) {
    // "If a received extension negotiation response does not have the server_max_window_bits ...
    // [when] the client ... included [it], the client MUST _Fail_" (section 7.1.2.1): the server that
    // accepts a request for a smaller window must confirm it.
    fail(`server_max_window_bits=${offer.serverMaxWindowBits} was requested but not confirmed`);
  }
  if (offer.serverNoContextTakeover && !parsed.serverNoContextTakeover) {
    // A server accepting an offer with server_no_context_takeover must include it (section 7.1.1.1).
    fail("server_no_context_takeover was requested but not confirmed");
  }
  return {
    serverNoContextTakeover: parsed.serverNoContextTakeover,
    // Our own offer of client_no_context_takeover binds us even if the server does not echo it.
    clientNoContextTakeover: parsed.clientNoContextTakeover || (offer.clientNoContextTakeover ?? false),
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}

/** What a server configures: the limits it imposes on the client, the window it uses itself. */
export interface ServerDeflateConfig {
  /** Cap on the server's own window; the answer carries `server_max_window_bits` when below 15. */
  serverMaxWindowBits?: number;
  /** Window the client must use (only sent when the client offered `client_max_window_bits`). */
  clientMaxWindowBits?: number;
  /** The server resets its compressor after each message. */
  serverNoContextTakeover?: boolean;
  /** Requires the client to reset its compressor after each message. */
  clientNoContextTakeover?: boolean;
}

/**
 * The server's side of the negotiation: picks the first permessage-deflate offer it can accept
 * (malformed offers are declined, as section 7.1 allows) and returns the answer header element and
 * the parameters, in the same client-centred terms as {@link parseDeflateResponse}; undefined when no
 * offer is acceptable.
 */
export function acceptDeflateOffer(
  offers: ReadonlyArray<ExtensionOffer>,
  config: ServerDeflateConfig = {},
): { answer: string; params: DeflateParams } | undefined {
  for (const offer of offers) {
    if (offer.name.toLowerCase() !== PERMESSAGE_DEFLATE) continue;
    const parsed = parseParams(offer.params, true);
    if (typeof parsed === "string") continue;
    const params: Array<[string, string | true]> = [];
    const serverNoContextTakeover =
      parsed.serverNoContextTakeover || (config.serverNoContextTakeover ?? false);
    const clientNoContextTakeover =
      parsed.clientNoContextTakeover || (config.clientNoContextTakeover ?? false);
    if (serverNoContextTakeover) params.push(["server_no_context_takeover", true]);
    if (clientNoContextTakeover) params.push(["client_no_context_takeover", true]);
    const ownBits = config.serverMaxWindowBits ?? 15;
    const serverMaxWindowBits = Math.min(ownBits, parsed.serverMaxWindowBits ?? 15);
    if (parsed.serverMaxWindowBits !== undefined || serverMaxWindowBits < 15) {
      params.push(["server_max_window_bits", String(serverMaxWindowBits)]);
    }
    let clientMaxWindowBits =
      typeof parsed.clientMaxWindowBits === "number" ? parsed.clientMaxWindowBits : 15;
    if (parsed.clientMaxWindowBits !== undefined && config.clientMaxWindowBits !== undefined) {
      clientMaxWindowBits = Math.min(clientMaxWindowBits, config.clientMaxWindowBits);
      params.push(["client_max_window_bits", String(clientMaxWindowBits)]);
    }
    return {
      answer: formatExtensionList([{ name: PERMESSAGE_DEFLATE, params }]),
      params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
    };
  }
  return undefined;
}
