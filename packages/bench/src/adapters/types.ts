// The one small interface every client library is measured through. Each adapter module wraps one
// library the way a careful user would: no private APIs, and the same backpressure policy.

/**
 * What a message handler receives: text always as a JS string, binary as bytes; a message received
 * as a stream (ConnectOptions.stream) as what was counted of it while its chunks went by.
 */
export type BenchMessage = string | Uint8Array | ArrayBuffer | StreamedMessage;

/** A message received as a stream: its length and its first byte, its chunks already gone. */
export interface StreamedMessage {
  readonly streamedLength: number;
  readonly head: number | undefined;
}

/**
 * The send policy every adapter applies, so that "send" measures the library and not the policy:
 * send without waiting while the library reports less than SEND_HIGH_WATER_MARK bytes buffered;
 * once it reports more, wait until the library has handed its buffer to the OS.
 */
export const SEND_HIGH_WATER_MARK = 1024 * 1024;

export interface BenchConnection {
  /** Sets the message handler (one at a time; a later call replaces it). */
  onMessage(handler: (data: BenchMessage) => void): void;
  /** Called once if the connection closes or fails before close() is called. */
  onClose(handler: (reason: string) => void): void;
  /**
   * Sends one message under the shared backpressure policy. Returns undefined when the caller may
   * send the next message at once, or a promise to await first (so a fast path allocates nothing).
   */
  send(data: Uint8Array | string): Promise<void> | undefined;
  /**
   * Sends one message made of `chunks`, each as a fragment, pulling the next one under the shared
   * backpressure policy; resolves once the last fragment is handed over. Absent: the library cannot
   * fragment a send.
   */
  sendStream?(chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Starts the closing handshake and resolves when the connection is closed. */
  close(): Promise<void>;
}

/** How a scenario wants the connection opened. */
export interface ConnectOptions {
  /**
   * Offer permessage-deflate with the library's defaults (the compressed scenarios), or not at all
   * (every other scenario: the server would decline it anyway, but the handshake stays identical
   * across libraries). A library that cannot choose (undici always offers it) ignores this.
   */
  readonly perMessageDeflate: boolean;
  /**
   * The library's default options (Tideway: heartbeat on, permessage-deflate offered), except
   * what the adapter needs to behave alike everywhere (no reconnect, bytes as Uint8Array); wins
   * over `perMessageDeflate`. Libraries with nothing to turn off (ws, undici) connect as always.
   */
  readonly defaults?: boolean;
  /**
   * Deliver messages through the library's async iterator (`for await`) when it has one; a library
   * without one (ws, undici) keeps its message event, the nearest thing its users have.
   */
  readonly iterate?: boolean;
  /**
   * Subscribe to the library's diagnostics channels (Tideway's `tideway:client:*`) before
   * connecting; a library without any ignores this.
   */
  readonly diagnostics?: boolean;
  /**
   * Receive each message as a stream of chunks when the library can (Tideway); a library that
   * cannot (ws) delivers whole messages.
   */
  readonly stream?: boolean;
}

export const UNCOMPRESSED: ConnectOptions = { perMessageDeflate: false };

export interface Adapter {
  readonly name: string;
  connect(url: string, options?: ConnectOptions): Promise<BenchConnection>;
}

/** Thrown when a library cannot be loaded at all: the report says "not available", not a number. */
export class AdapterUnavailableError extends Error {
  override readonly name = "AdapterUnavailableError";
}
