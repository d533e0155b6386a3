/**
 * A small WebSocket server built on the server role of `@tideway/core` and `node:net`: what a library
 * author writes to put the sans-I/O core on a transport. The demo and the examples use it as their
 * local server, so they need nothing but Tideway. Not a production server (no TLS, no limits on
 * connections): about 60 lines of I/O glue.
 */
import { createServer, type Server, type Socket } from "node:net";
import { END_OF_STREAM, type ServerEvent, ServerProtocol } from "@tideway/core";

/** What a connection handler can do with one client. */
export interface ServerConnection {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  sendText(text: string): void;
  close(code?: number, reason?: string): void;
  /** Drops the TCP connection without a close frame, as a crashing server would. */
  drop(): void;
}

/** What the server does with what one client sends, and when its connection ends. */
export interface ConnectionHandler {
  onMessage?(data: string | Uint8Array): void;
  onClose?(): void;
}

export interface TinyServerOptions {
  /** Called for each accepted connection; `onMessage` gets each message the client sends. */
  onConnection(connection: ServerConnection): ConnectionHandler;
}

/** Starts a server on 127.0.0.1 (port 0 = any free port). Resolves with the server and its URL. */
export async function startTinyServer(
  options: TinyServerOptions,
  port = 0,
): Promise<{ server: Server; url: string }> {
  const server = createServer((socket) => serve(socket, options));
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return { server, url: `ws://127.0.0.1:${address.port}` };
}

function serve(socket: Socket, options: TinyServerOptions): void {
  const protocol = new ServerProtocol();
  let handler: ConnectionHandler | undefined;

  const flush = () => {
    for (const item of protocol.dataToSend()) {
      if (item === END_OF_STREAM) socket.end();
      else socket.write(item as Uint8Array);
    }
  };
  const connection = (path: string, headers: Readonly<Record<string, string>>): ServerConnection => ({
    path,
    headers,
    sendText: (text) => {
      protocol.sendText(text);
      flush();
    },
    close: (code, reason) => {
      protocol.sendClose(code, reason);
      flush();
    },
    drop: () => socket.destroy(),
  });

  const dispatch = (event: ServerEvent) => {
    if (event.type === "request") {
      protocol.accept();
      flush();
      handler = options.onConnection(connection(event.upgrade.path, event.request.headers));
    } else if (event.type === "text" || event.type === "binary") {
      handler?.onMessage?.(event.data);
    }
  };

  socket.on("data", (chunk: Uint8Array) => {
    protocol.receiveData(chunk);
    for (const event of protocol.eventsReceived()) dispatch(event);
    flush();
  });
  socket.on("end", () => {
    protocol.receiveEof();
    flush();
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => handler?.onClose?.());
}
