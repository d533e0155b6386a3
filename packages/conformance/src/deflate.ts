/**
 * permessage-deflate (RFC 7692) on the server's side of the suite: the negotiation per case, a
 * compressor for the messages the server sends and an inflater for the client's compressed echoes.
 *
 * Deliberately NOT `@tideway/client`'s `ZlibCodec`: judging the client's compressed frames with the
 * client's own decompressor would let a bug shared by both halves pass. The compressor here is a
 * persistent `node:zlib` DeflateRaw stream (real context takeover, as `ws` and Autobahn do it); the
 * inflater is a one-shot `inflateRawSync` given the last 2^client_max_window_bits bytes of what the
 * client compressed before (nothing with client_no_context_takeover), with that window size. A
 * client that references history it agreed to drop, or further back than its agreed window, gets
 * "invalid distance too far back": the core's reader reports it as a decompression failure and the
 * case FAILS with a protocol violation. (zlib only checks distances against the window plus the output
 * of the current call, so a reference too far back inside one long message can slip through.)
 */
import { constants, createDeflateRaw, type DeflateRaw, inflateRawSync } from "node:zlib";
import {
  acceptDeflateOffer,
  type DeflateParams,
  ErrorCodes,
  type MessageCodec,
  ProtocolError,
  type ServerDeflateConfig,
  type UpgradeRequest,
} from "@tideway/core";
import { formatExtensionList } from "@tideway/core/internals";
import { rawFrame } from "./wire.js";

/** "the last 4 octets ... 0x00 0x00 0xff 0xff" of a sync flush (RFC 7692 section 7.2.1). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const EMPTY = new Uint8Array(0);

/** What a compression case asks of the handshake. */
export interface DeflateCaseConfig {
  /** The server's side of the negotiation (what it imposes on the client and on itself). */
  server: ServerDeflateConfig;
  /** Answer the 101 without the extension even if the client offers it (the "no extension" cases). */
  decline?: boolean;
}

export interface Negotiation {
  /** The client's `Sec-WebSocket-Extensions`, re-formatted ("" when it offered nothing). */
  offered: string;
  /** The server's answer, undefined when permessage-deflate was not negotiated. */
  answer: string | undefined;
  /** The agreed parameters (client-centred, as the core's `acceptDeflateOffer` returns them). */
  params: DeflateParams | undefined;
}

/** Negotiates permessage-deflate for one case with the core's server-side helper. */
export function negotiate(upgrade: UpgradeRequest, config: DeflateCaseConfig): Negotiation {
  const offered = upgrade.extensions.length === 0 ? "" : formatExtensionList(upgrade.extensions);
  if (config.decline === true) return { offered, answer: undefined, params: undefined };
  const accepted = acceptDeflateOffer(upgrade.extensions, config.server);
  return { offered, answer: accepted?.answer, params: accepted?.params };
}

/**
 * The server's compressor: one persistent raw DEFLATE stream for the connection (a fresh one per
 * message with server_no_context_takeover), flushed with Z_SYNC_FLUSH after each message. Node
 * turns windowBits 8 into 9 for raw deflate; zlib then never emits a distance above 250, which fits a
 * peer's 256-byte window.
 */
export class ServerDeflater {
  readonly #windowBits: number;
  readonly #noContextTakeover: boolean;
  #stream: DeflateRaw | undefined;
  #chunks: Buffer[] = [];
  /** Compressions run one at a time: their output is collected from one shared stream. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(params: DeflateParams) {
    this.#windowBits = params.serverMaxWindowBits;
    this.#noContextTakeover = params.serverNoContextTakeover;
  }

  /** Compresses one message: raw DEFLATE without the final 00 00 ff ff (RFC 7692 section 7.2.1). */
  compress(data: Uint8Array): Promise<Uint8Array> {
    const run = this.#queue.then(() => this.#compress(data));
    this.#queue = run.catch(() => {});
    return run;
  }

  close(): void {
    this.#stream?.close();
    this.#stream = undefined;
  }

  #compress(data: Uint8Array): Promise<Uint8Array> {
    if (this.#noContextTakeover) this.close();
    if (this.#stream === undefined) {
      const stream = createDeflateRaw({ windowBits: this.#windowBits });
      stream.on("data", (chunk: Buffer) => this.#chunks.push(chunk));
      this.#stream = stream;
    }
    const stream = this.#stream;
    return new Promise((resolve, reject) => {
      stream.once("error", reject);
      stream.write(data);
      stream.flush(constants.Z_SYNC_FLUSH, () => {
        stream.off("error", reject);
        const out = Buffer.concat(this.#chunks);
        this.#chunks = [];
        if (!endsWithTail(out)) reject(new Error("zlib sync flush did not end with 00 00 ff ff"));
        else resolve(new Uint8Array(out.subarray(0, out.length - TAIL.length)));
      });
    });
  }
}

function endsWithTail(b: Uint8Array): boolean {
  return b.length >= 4 && TAIL.every((v, i) => b[b.length - 4 + i] === v);
}

/**
 * The frames of one compressed message: RSV1 on the first frame only ("the Per-Message Compressed
 * bit ... set on the first frame", RFC 7692 section 6.1), the payload split into frames of
 * `fragmentSize` bytes when given.
 */
export function compressedFrames(
  opcode: number,
  compressed: Uint8Array,
  fragmentSize?: number,
): Uint8Array[] {
  const size = fragmentSize ?? Math.max(compressed.length, 1);
  const frames: Uint8Array[] = [];
  for (let at = 0; at === 0 || at < compressed.length; at += size) {
    const last = at + size >= compressed.length;
    frames.push(
      rawFrame(at === 0 ? opcode : 0, compressed.subarray(at, at + size), {
        fin: last,
        rsv: at === 0 ? 4 : 0,
      }),
    );
  }
  return frames;
}

/**
 * Inflates the client's compressed messages for the core's `MessageReader` (server role), with the
 * window and history rules the client agreed to. Only inflates: the server compresses with
 * {@link ServerDeflater}. Counts the compressed messages, which the report shows.
 */
export class ClientInflater implements MessageCodec {
  /** Compressed messages received (RSV1 set on their first frame). */
  compressedMessages = 0;
  readonly #windowBits: number;
  readonly #window: number;
  readonly #takeover: boolean;
  #history: Uint8Array = EMPTY;
  #pending: Uint8Array[] = [];

  constructor(params: DeflateParams) {
    this.#windowBits = params.clientMaxWindowBits;
    this.#window = 2 ** params.clientMaxWindowBits;
    this.#takeover = !params.clientNoContextTakeover;
  }

  compress(): Uint8Array {
    throw new Error("ClientInflater only inflates; the server compresses with ServerDeflater");
  }

  decompress(data: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    // A copy: the reader's view may alias a socket chunk it unmasks in place.
    if (data.length > 0) this.#pending.push(data.slice());
    if (!fin) return EMPTY;
    const input = Buffer.concat([...this.#pending, TAIL]);
    this.#pending = [];
    this.compressedMessages++;
    let out: Buffer;
    try {
      out = inflateRawSync(input, {
        windowBits: this.#windowBits,
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: Math.max(1, maxOutput),
        ...(this.#history.length > 0 ? { dictionary: this.#history } : {}),
      });
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new ProtocolError(ErrorCodes.PayloadTooBig, `compressed echo inflates past ${maxOutput} bytes`);
      }
      throw new Error(`the client's compressed message does not inflate: ${(err as Error).message}`);
    }
    if (this.#takeover) {
      const joined = this.#history.length === 0 ? out : Buffer.concat([this.#history, out]);
      this.#history = new Uint8Array(joined.subarray(Math.max(0, joined.length - this.#window)));
    }
    return out;
  }
}
