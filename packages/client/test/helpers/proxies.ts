/**
 * Real proxies on loopback for the network tests: tinyproxy (Debian's /usr/bin/tinyproxy, run in the
 * foreground with a config in a temp dir), a small SOCKS5 server (RFC 1928 / RFC 1929, CONNECT only:
 * test code, recording what each client asked for), and an in-process HTTP CONNECT proxy over TLS
 * (node:https) for `https://` proxies.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cert } from "./servers.js";

export const TINYPROXY = "/usr/bin/tinyproxy";

/** A port that was free a moment ago (tinyproxy cannot listen on port 0). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port, or fails after `timeout` ms. */
async function waitListening(port: number, timeout = 5000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - start > timeout) throw new Error(`nothing listens on ${port} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Tinyproxy {
  readonly port: number;
  readonly url: string;
  /** tinyproxy's log so far (stderr and stdout). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts tinyproxy allowing CONNECT to `connectPorts`, with Basic auth if `auth` is given. */
export async function startTinyproxy(o: {
  connectPorts: readonly number[];
  auth?: { user: string; pass: string };
}): Promise<Tinyproxy> {
  const dir = mkdtempSync(join(tmpdir(), "tideway-tinyproxy-"));
  const port = await freePort();
  const conf = join(dir, "tinyproxy.conf");
  writeFileSync(
    conf,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 10",
      "Allow 127.0.0.1",
      "MaxClients 50",
      "LogLevel Info",
      ...o.connectPorts.map((p) => `ConnectPort ${p}`),
      ...(o.auth ? [`BasicAuth ${o.auth.user} ${o.auth.pass}`] : []),
    ].join("\n"),
  );
  let output = "";
  const child: ChildProcess = spawn(TINYPROXY, ["-d", "-c", conf], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(port);
  } catch (err) {
    await stop();
    throw new Error(`tinyproxy did not start: ${output}`, { cause: err });
  }
  return { port, url: `http://127.0.0.1:${port}`, log: () => output, stop };
}

/** What a SOCKS5 client asked for. */
export interface SocksRequest {
  /** 1 IPv4, 3 domain name, 4 IPv6 (RFC 1928 section 5). */
  readonly addressType: number;
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
}

export interface Socks5Server {
  readonly port: number;
  readonly requests: SocksRequest[];
  close(): Promise<void>;
}

/**
 * A SOCKS5 server (that also answers SOCKS4 and 4a requests, without checking their user id): no authentication, or username/password (RFC 1929) when `auth` is given; CONNECT
 * to IPv4, IPv6 and domain addresses (resolved here: that is remote DNS for the client). `reply`
 * forces a failure reply code for every CONNECT (e.g. 2 "not allowed by ruleset").
 */
export async function startSocks5Server(
  o: { auth?: { user: string; pass: string }; reply?: number } = {},
): Promise<Socks5Server> {
  const requests: SocksRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    let buf = Buffer.alloc(0);
    let stage: "greeting" | "auth" | "request" | "done" = "greeting";
    let username: string | undefined;
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (stage === "greeting" && buf[0] === 4) {
          // SOCKS4(a): VN=4 CD=1 DSTPORT DSTIP USERID NUL [HOST NUL when DSTIP is 0.0.0.x].
          const userEnd = buf.indexOf(0, 8);
          if (buf.length < 9 || userEnd < 0) return;
          const ip = [...buf.subarray(4, 8)];
          const isDomain = ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0;
          const hostEnd = isDomain ? buf.indexOf(0, userEnd + 1) : userEnd;
          if (hostEnd < 0) return;
          const userId = buf.subarray(8, userEnd).toString();
          const host = isDomain ? buf.subarray(userEnd + 1, hostEnd).toString() : ip.join(".");
          const port = buf.readUInt16BE(2);
          buf = buf.subarray(hostEnd + 1);
          requests.push({ addressType: isDomain ? 3 : 1, host, port, username: userId || undefined });
          stage = "done";
          client.off("data", onData);
          const reply4 = (code: number) => Buffer.from([0x00, code, 0, 0, 0, 0, 0, 0]);
          const upstream = net.connect({ host, port });
          sockets.add(upstream);
          upstream.on("close", () => sockets.delete(upstream));
          upstream.once("error", () => client.end(reply4(0x5b)));
          upstream.once("connect", () => {
            client.write(reply4(0x5a));
            if (buf.length > 0) upstream.write(buf);
            client.pipe(upstream).pipe(client);
          });
          return;
        } else if (stage === "greeting") {
          if (buf.length < 2 || buf.length < 2 + (buf[1] as number)) return;
          const methods = [...buf.subarray(2, 2 + (buf[1] as number))];
          buf = buf.subarray(2 + (buf[1] as number));
          const wanted = o.auth ? 0x02 : 0x00;
          if (!methods.includes(wanted)) {
            client.end(Buffer.from([0x05, 0xff]));
            return;
          }
          client.write(Buffer.from([0x05, wanted]));
          stage = o.auth ? "auth" : "request";
        } else if (stage === "auth") {
          // RFC 1929: VER(1) ULEN UNAME PLEN PASSWD.
          if (buf.length < 2) return;
          const ulen = buf[1] as number;
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen] as number;
          if (buf.length < 3 + ulen + plen) return;
          username = buf.subarray(2, 2 + ulen).toString();
          const pass = buf.subarray(3 + ulen, 3 + ulen + plen).toString();
          buf = buf.subarray(3 + ulen + plen);
          const ok = username === o.auth?.user && pass === o.auth?.pass;
          if (!ok) {
            client.end(Buffer.from([0x01, 0x01]));
            return;
          }
          client.write(Buffer.from([0x01, 0x00]));
          stage = "request";
        } else if (stage === "request") {
          // VER CMD RSV ATYP DST.ADDR DST.PORT
          if (buf.length < 5) return;
          const atyp = buf[3] as number;
          const addrLen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + (buf[4] as number);
          if (buf.length < 4 + addrLen + 2) return;
          const addr = buf.subarray(4, 4 + addrLen);
          const host =
            atyp === 1
              ? [...addr].join(".")
              : atyp === 4
                ? new URL(`http://[${(addr.toString("hex").match(/.{4}/g) ?? []).join(":")}]`).hostname.slice(
                    1,
                    -1,
                  )
                : addr.subarray(1).toString();
          const port = buf.readUInt16BE(4 + addrLen);
          buf = buf.subarray(4 + addrLen + 2);
          requests.push({ addressType: atyp, host, port, username });
          stage = "done";
          client.off("data", onData);
          const replyWith = (code: number) => Buffer.from([0x05, code, 0x00, 0x01, 127, 0, 0, 1, 0, 0]);
          if (o.reply !== undefined) {
            client.end(replyWith(o.reply));
            return;
          }
          const upstream = net.connect({ host, port });
          sockets.add(upstream);
          upstream.on("close", () => sockets.delete(upstream));
          upstream.once("error", () => client.end(replyWith(5)));
          upstream.once("connect", () => {
            client.write(replyWith(0));
            if (buf.length > 0) upstream.write(buf);
            client.pipe(upstream).pipe(client);
          });
          return;
        } else {
          return;
        }
      }
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ConnectProxy {
  readonly port: number;
  /** Request targets and Proxy-Authorization of each CONNECT. */
  readonly connects: { target: string; auth: string | undefined }[];
  close(): Promise<void>;
}

/** An HTTP CONNECT proxy over TLS (an `https://` proxy), on 127.0.0.1 port 0. */
export async function startHttpsConnectProxy(cert: Cert): Promise<ConnectProxy> {
  const connects: ConnectProxy["connects"] = [];
  const sockets = new Set<net.Socket>();
  const server = createHttpsServer({ key: cert.key, cert: cert.cert });
  server.on("connect", (req, client: net.Socket, head: Buffer) => {
    connects.push({ target: req.url ?? "", auth: req.headers["proxy-authorization"] });
    sockets.add(client);
    client.on("error", () => {});
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect({ host: host as string, port: Number(port) });
    sockets.add(upstream);
    upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    upstream.once("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
