/**
 * A minimal HTTP CONNECT proxy on loopback (node:http's "connect" event), for the examples: it checks
 * Basic credentials, opens a TCP connection to the requested host:port, answers 200, then pipes bytes
 * both ways. It never sees inside the tunnel (for wss: that is TLS). Not a production proxy.
 */
import { createServer } from "node:http";
import net from "node:net";

export interface TinyProxy {
  /** The proxy URL with the given credentials, for the client's `proxy` option. */
  url(username: string, password: string): string;
  close(): void;
}

export async function startConnectProxy(o: {
  username: string;
  password: string;
  log: (line: string) => void;
}): Promise<TinyProxy> {
  const expected = `Basic ${Buffer.from(`${o.username}:${o.password}`).toString("base64")}`;
  const proxy = createServer();
  proxy.on("connect", (req, client: net.Socket, head: Buffer) => {
    o.log(`CONNECT ${req.url}`);
    if (req.headers["proxy-authorization"] !== expected) {
      client.end("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n");
      return;
    }
    const [host = "", port = ""] = (req.url ?? "").split(":");
    const upstream = net.connect({ host, port: Number(port) }, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", drop);
    upstream.on("close", drop);
    client.on("error", drop);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as net.AddressInfo;
  return {
    url: (username, password) => `http://${username}:${password}@127.0.0.1:${port}`,
    close: () => {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}
