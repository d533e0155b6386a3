import {
  AbortedError,
  type CloseInfo,
  ConnectError,
  ConnectionClosedError,
  HandshakeTimeoutError,
  HeartbeatTimeoutError,
  ProxyError,
  TooManyRedirectsError,
} from "@tideway/client";
import { ErrorCodes, HandshakeError, ProtocolError, UnexpectedResponseError } from "@tideway/core";
import { describe, expect, it } from "vitest";
import { ExitCode, failure, isNormalClose } from "../src/exit.js";

const systemError = (code: string, message: string) => Object.assign(new Error(message), { code });
const closed = (info: Partial<CloseInfo>, cause?: unknown) =>
  new ConnectionClosedError(
    {
      code: 1006,
      reason: "",
      wasClean: false,
      initiatedByUser: false,
      sent: undefined,
      received: undefined,
      ...info,
    },
    cause === undefined ? undefined : { cause },
  );

describe("failure", () => {
  it.each([
    [
      "a refused connection",
      new ConnectError("Could not connect to h:1: connect ECONNREFUSED", {
        cause: systemError("ECONNREFUSED", "x"),
      }),
      ExitCode.ConnectFailed,
      "connection failed: Could not connect to h:1: connect ECONNREFUSED",
    ],
    [
      "an untrusted certificate",
      new ConnectError("Could not connect", {
        cause: systemError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"),
      }),
      ExitCode.Tls,
      "TLS failed: self-signed certificate",
    ],
    [
      "a certificate for another name",
      new ConnectError("Could not connect", {
        cause: systemError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match"),
      }),
      ExitCode.Tls,
      "TLS failed: Hostname/IP does not match",
    ],
    [
      "a 404",
      new UnexpectedResponseError(
        { status: 404, statusText: "Not Found", headers: {}, rawHeaders: [] },
        new Uint8Array(),
      ),
      ExitCode.Rejected,
      "the server refused the upgrade: HTTP 404 Not Found",
    ],
    [
      "an invalid 101",
      new HandshakeError(ErrorCodes.InvalidAccept, "Invalid Sec-WebSocket-Accept"),
      ExitCode.Rejected,
      "invalid handshake: Invalid Sec-WebSocket-Accept",
    ],
    [
      "too many redirects",
      new TooManyRedirectsError(10, "ws://h/"),
      ExitCode.Rejected,
      "Too many redirects (maxRedirects is 10): ws://h/",
    ],
    [
      "a slow handshake",
      new HandshakeTimeoutError(10_000),
      ExitCode.Timeout,
      "timed out: Handshake timed out after 10000 ms",
    ],
    [
      "a proxy refusal",
      new ProxyError("http://p:3128", "Proxy answered 407", { status: 407 }),
      ExitCode.ConnectFailed,
      "proxy failed: Proxy answered 407",
    ],
    [
      "a protocol error",
      new ProtocolError(ErrorCodes.PayloadTooBig, "Message too big"),
      ExitCode.Closed,
      "protocol error: Message too big (close code 1009)",
    ],
    [
      "a close carrying a protocol error",
      closed({ code: 1006 }, new ProtocolError(ErrorCodes.InvalidOpcode, "Invalid opcode: 3")),
      ExitCode.Closed,
      "protocol error: Invalid opcode: 3 (close code 1002)",
    ],
    [
      "a missed pong",
      new HeartbeatTimeoutError(10_000),
      ExitCode.Closed,
      "heartbeat timed out: No pong for 10000 ms",
    ],
    [
      "a close after a missed pong",
      closed({ code: 1011 }, new HeartbeatTimeoutError(500)),
      ExitCode.Closed,
      "heartbeat timed out: No pong for 500 ms",
    ],
    [
      "a close with an application code",
      closed({ code: 4001, reason: "nope", wasClean: true, received: { code: 4001, reason: "nope" } }),
      ExitCode.Closed,
      "closed abnormally: 4001 nope",
    ],
    [
      "a lost connection",
      closed({ code: 1006 }),
      ExitCode.Closed,
      "connection lost without a close frame (1006)",
    ],
    ["anything else", new Error("boom"), ExitCode.ConnectFailed, "boom"],
  ])("%s", (_, err, code, reason) => {
    expect(failure(err)).toEqual({ code, reason });
  });

  it("a normal close or an abort is no failure", () => {
    expect(failure(closed({ code: 1000, wasClean: true, received: { code: 1000, reason: "" } }))).toEqual({
      code: 0,
    });
    expect(failure(new AbortedError("stop"))).toEqual({ code: 0 });
  });

  it("normal close codes are 1000, 1001 and 1005", () => {
    expect([1000, 1001, 1005].every(isNormalClose)).toBe(true);
    expect([1002, 1006, 1011, 3000, 4000].some(isNormalClose)).toBe(false);
  });
});
