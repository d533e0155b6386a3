/**
 * Direct reads: where a plain TCP socket opened by transport.ts reads into, through Node's `onread`
 * instead of "data" events. A large message's payload is read straight into the core's buffer (no
 * copy); a streaming socket reads into a buffer of its own, handed on as it is; a quiet one into a
 * shared scratch buffer, so an idle connection holds no read buffer. The only module that knows.
 */
import net from "node:net";
import type { Duplex } from "node:stream";

/** The receiver of a socket's reads, and the buffer it would like the next read to go into. */
export interface ReadTarget {
  /** The core's `receiveBuffer()`: a buffer the next read may fill, or undefined. */
  receiveBuffer(): Uint8Array | undefined;
  /** `chunk` was read; false stops reading until the socket's `resume()`. */
  receiveRead(chunk: Uint8Array): boolean;
}

/** The size of a read that goes into no buffer of the target's: Node's own read size. */
const READ_SIZE = 64 * 1024;
/**
 * Bytes of a payload left out of a direct read, and the size of the read after it: the end of a
 * message then arrives with what follows it (the next header, a close frame) in one short read, as
 * with Node's own reads; a connection that this message pauses has still seen that close frame.
 */
const TAIL = 16;
const AFTER_DIRECT_READ = 1024;
/**
 * A message's direct reads start only with this much payload still to come: below, each message's
 * fresh buffer filled by the kernel cost more page faults and CPU than the copy saved, from 64 KiB
 * to 1 MiB messages; above, they keep the peak memory of huge messages down (docs/benchmarks.md).
 */
const DIRECT_MIN = 4 * 1024 * 1024;
/** Once a message is read directly, its reads go on so while this much payload is still to come. */
const DIRECT_GO_ON = 128 * 1024;
/** A read of at least this many bytes means data is streaming in: see nextReadBuffer. */
const BIG_READ = 16 * 1024;
/**
 * Sockets that may hold a read buffer of their own at once, process-wide. A socket that goes quiet
 * after a burst keeps its next read buffer until it reads again: at most this many times 64 KiB
 * (2 MiB) are held that way; beyond, reads go through the shared scratch buffer.
 */
const MAX_OWNED = 32;
let owned = 0;

/**
 * Shared by every socket: the bytes of a read are copied out of it at once, before any other read,
 * so a socket never holds a buffer of its own between reads (an idle connection costs nothing).
 */
let scratch: Buffer | undefined;

/** The read state of a socket whose reads go through {@link directReads}. */
const kReads = Symbol("tideway direct reads");

interface DirectReads {
  readonly target: ReadTarget;
  /** The last read went into the target's buffer. */
  direct: boolean;
  /** The last read brought BIG_READ bytes or more. */
  big: boolean;
  /** The socket's next read goes into a buffer of its own (counted in `owned`). */
  owns: boolean;
}

type DirectSocket = net.Socket & { [kReads]?: DirectReads };

/** Direct reads need onread's callback called on the socket, as Node and Deno do; Bun calls it with no `this`. */
const onreadCallsSocket = typeof process.versions.bun !== "string";

/**
 * Where the next read goes: straight into the buffer the target offers (the payload of a large
 * message, read with no copy) but its last TAIL bytes, then one short read for those and the next
 * frame's header. Else, while data streams in (the last read was big), into a new buffer of the
 * socket's own that is handed on without a copy, as Node's own reads are (for at most MAX_OWNED
 * sockets at once); else into the shared scratch buffer, whose bytes are copied out: an idle or
 * quiet socket holds no buffer, and a streaming one does not copy every read out of the scratch.
 */
function nextReadBuffer(this: DirectReads): Uint8Array {
  const region = this.target.receiveBuffer();
  if (region !== undefined && region.length >= (this.direct ? DIRECT_GO_ON : DIRECT_MIN)) {
    this.direct = true;
    return region.subarray(0, region.length - TAIL);
  }
  scratch ??= Buffer.allocUnsafeSlow(READ_SIZE);
  if (this.direct) {
    this.direct = false;
    return scratch.subarray(0, AFTER_DIRECT_READ);
  }
  if (!this.big || (!this.owns && owned >= MAX_OWNED)) return scratch;
  // Counted once per socket, however often Node asks before the next read.
  if (!this.owns) {
    this.owns = true;
    owned++;
  }
  return Buffer.allocUnsafeSlow(READ_SIZE);
}

/** Node calls this on the socket: a read from the scratch buffer is copied out at its exact size. */
function onDirectRead(this: DirectSocket, nread: number, buf: Uint8Array): boolean {
  const reads = this[kReads]!;
  reads.big = nread >= BIG_READ;
  if (reads.owns) {
    reads.owns = false;
    owned--;
  }
  if (buf.buffer !== scratch!.buffer) {
    return reads.target.receiveRead(nread === buf.length ? buf : buf.subarray(0, nread));
  }
  const chunk = Buffer.allocUnsafe(nread);
  chunk.set(nread === buf.length ? buf : buf.subarray(0, nread));
  return reads.target.receiveRead(chunk);
}

/**
 * A plain TCP connection whose reads go to `target` through Node's `onread` (see nextReadBuffer for
 * where each read goes; the gain of direct reads is measured with the core's in-place read,
 * MessageReader#read). One state object and one bound function per socket (Node calls `buffer`
 * without a `this`, `callback` on the socket), lighter per idle connection than closures over the
 * target; a bound function (~48 B) is lighter than an arrow function and its context (~96 B).
 */
export function connectTcp(options: net.TcpNetConnectOpts, target: ReadTarget | undefined): net.Socket {
  if (target === undefined || !onreadCallsSocket) return net.connect(options);
  const reads: DirectReads = { target, direct: false, big: false, owns: false };
  const socket: DirectSocket = net.connect({
    ...options,
    onread: { buffer: nextReadBuffer.bind(reads), callback: onDirectRead },
  });
  socket[kReads] = reads;
  return socket;
}

/** The socket is closed: a read buffer of its own it held no longer counts (see MAX_OWNED). */
export function socketClosed(socket: Duplex): void {
  const reads = (socket as DirectSocket)[kReads];
  if (reads?.owns) {
    reads.owns = false;
    owned--;
  }
}

/**
 * For tests only, and not exported by index.ts (so not in the published bundle): the sockets
 * holding a read buffer of their own now.
 */
export const directReadsForTests = {
  ownedReadBuffers: (): number => owned,
};
