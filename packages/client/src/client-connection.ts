/**
 * What the lifecycle needs from one connection, whatever carries it: the Node connection over
 * net/tls and the core (connection.ts), or the browser's own WebSocket (browser-connection.ts). The
 * platform module (platform.ts, platform-browser.ts) makes them.
 */
import type { ProtocolError, State, UpgradeResponse } from "@tideway/core";
import type { ConnectionInfo } from "./connection-info.js";
import type { CloseInfo } from "./errors.js";
import type { EmittedEvents, Message, MessagePart } from "./events.js";
import type { Providers, ResolvedOptions } from "./options.js";

/** One connection attempt and, once open, the connection. It never reconnects: the lifecycle does. */
export interface ClientConnection {
  /** The protocol state: `State.Open` while messages may be sent. */
  readonly state: State;
  /** The handshake completed. */
  readonly opened: boolean;
  /** Bytes sent and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Last measured heartbeat round trip, in ms. */
  readonly latency: number | undefined;
  /** How the connection ended, once it has. */
  readonly ended: CloseInfo | undefined;
  /** The error that ended (or is ending) the connection, if it did not end cleanly by itself. */
  readonly error: Error | undefined;
  /** Resolves when the connection is gone (also one that never opened). */
  readonly closed: Promise<CloseInfo>;
  /** Connects and runs the opening handshake; resolves with the response. */
  open(signal?: AbortSignal): Promise<UpgradeResponse>;
  /** This connection's id and, where the platform knows them, its socket's addresses. */
  readonly info: ConnectionInfo;
  /**
   * Sends one message; resolves once it is handed on, rejects if the connection ends first.
   * `compress` false: never compressed (where the platform compresses at all).
   */
  send(data: string | Uint8Array, binary: boolean, compress?: boolean): Promise<void>;
  /** A round trip to the server, in ms; `data` is the ping's payload where the platform sends ping frames. */
  ping(data?: Uint8Array): Promise<number>;
  /** Sends an unsolicited pong now (where the platform sends control frames; else a TypeError). */
  pong(data?: Uint8Array): void;
  /** Starts the closing handshake; resolves when the connection is gone. */
  close(code?: number, reason?: string): Promise<CloseInfo>;
  /**
   * Fails the open connection (`onOpen` threw, a streamed send's source failed): `error` is how it
   * ended; `reason` goes in the close frame where the platform sends one.
   */
  fail(error: Error, reason?: string): void;
  /** Drops the connection now, without a closing handshake. */
  terminate(error?: Error): void;
  /** The consumer is behind: stop reading (or, where reading cannot stop, bound what is held). */
  pause(): void;
  /** The consumer caught up. */
  resume(): void;
}

/**
 * A connection of the Node build (connection.ts), which also streams messages: the browser build
 * refuses streamed sends (stream-send-browser.ts) and `receive: "stream"`.
 */
export interface StreamingConnection extends ClientConnection {
  /** Sends one fragment of a streamed message (`first`: its opening frame; `fin`: its last). */
  sendFragment(data: string | Uint8Array, binary: boolean, first: boolean, fin: boolean): Promise<void>;
  /** Resolves once fewer than `limit` bytes wait to be handed to the network (or the connection is gone). */
  drained(limit: number): Promise<void>;
  /** Fails the open connection with the error's close code (a streamed message broke a rule). */
  failReceive(error: ProtocolError): void;
}

/** The client around the connections: what only the Node connection reports goes straight to it. */
export interface ConnectionHost {
  /** The client the events are about, for the diagnostics channels' messages. */
  readonly client: object;
  /** Emits an event ("ping", "pong" from the Node connection); a listener's exception never comes back here. */
  emit<K extends keyof EmittedEvents>(event: K, ...args: Parameters<EmittedEvents[K]>): void;
  /**
   * With `receive: "stream"`: a part of a message as it arrives (see message-stream.ts); from the
   * lifecycle, the Error that ended a connection that had opened.
   */
  deliverPart(part: MessagePart | Error): void;
}

/**
 * What a connection tells its owner (the client's lifecycle), which is also its host. Called after the
 * connection processed its input, never inside.
 */
export interface ConnectionHandlers extends ConnectionHost {
  /** The transport is established; the upgrade request is being sent. */
  onConnect(conn: ClientConnection): void;
  /** The handshake completed. Called before the messages that arrived with the 101 are dispatched. */
  onOpen(conn: ClientConnection, response: UpgradeResponse): void;
  onMessage(data: Message): void;
  /** The connection failed after opening (protocol error, heartbeat timeout, socket error). */
  onError(conn: ClientConnection, error: Error): void;
  /** The connection that had opened is gone. Called once, last. */
  onClose(conn: ClientConnection, info: CloseInfo, error: Error | undefined): void;
}

/**
 * What each platform module provides (platform.ts for Node, Deno and Bun; platform-browser.ts for
 * browsers and workers). The build picks one: the browser entry's bundle has no Node transport.
 */
export interface Platform {
  /**
   * Checks what the core or the platform cannot do with these options, at construction: throws a
   * TypeError naming the option.
   */
  prepare(options: ResolvedOptions): void;
  /** Each option that may be a function called per attempt and that the platform takes, with the check its value passes. */
  readonly provided: { readonly [K in keyof Providers]?: (value: never) => unknown };
  /** A new connection for one attempt. */
  newConnection(options: ResolvedOptions, handlers: ConnectionHandlers): ClientConnection;
}
