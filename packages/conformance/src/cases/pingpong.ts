/**
 * Section 2: pings and pongs. "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
 * response ... with identical Application data" (RFC 6455 section 5.5.2); control payloads are at most
 * 125 bytes (5.5); an unsolicited pong "serves as a unidirectional heartbeat. A response ... is not
 * expected" (5.5.3).
 */
import type { CaseDef } from "../case.js";
import { binaryPayload, bytes, concat, f, pongItem, utf8 } from "./helpers.js";

const echoPing = (id: string, description: string, payload: Uint8Array, play?: CaseDef["play"]): CaseDef => ({
  id,
  description,
  expectation: "The client answers with a pong carrying the same payload; clean close 1000.",
  expect: { kind: "echo", items: [pongItem(payload)] },
  play: play ?? (async (s) => s.write(f.ping(payload))),
});

const TEN = Array.from({ length: 10 }, (_, i) => utf8(`payload-${i}`));

export const pingPongCases: CaseDef[] = [
  echoPing("2.1", "Send a ping without payload", new Uint8Array(0)),
  echoPing("2.2", "Send a ping with a small text payload", utf8("Hello, world!")),
  echoPing(
    "2.3",
    "Send a ping with a small binary payload",
    bytes(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff),
  ),
  echoPing("2.4", "Send a ping with a binary payload of 125 bytes", binaryPayload(125)),
  {
    id: "2.5",
    description: "Send a ping with a binary payload of 126 bytes",
    expectation: "The client fails the connection with 1002: control frames carry at most 125 bytes (5.5).",
    expect: { kind: "fail", code: 1002 },
    play: async (s) => s.write(f.ping(binaryPayload(126))),
  },
  echoPing(
    "2.6",
    "Send a ping with a 125-byte payload, delivered one octet per write",
    binaryPayload(125),
    (s) => s.chopped(f.ping(binaryPayload(125)), 1),
  ),
  {
    id: "2.7",
    description: "Send an unsolicited pong without payload",
    expectation: "The client ignores it (5.5.3: a response to an unsolicited pong is not expected).",
    expect: { kind: "echo", items: [] },
    play: async (s) => s.write(f.pong()),
  },
  {
    id: "2.8",
    description: "Send an unsolicited pong with payload",
    expectation: "The client ignores it.",
    expect: { kind: "echo", items: [] },
    play: async (s) => s.write(f.pong("unsolicited pong payload")),
  },
  {
    id: "2.9",
    description: "Send an unsolicited pong, then a ping",
    expectation: "The client answers the ping only.",
    expect: { kind: "echo", items: [pongItem("ping payload")] },
    play: async (s) => s.write(concat(f.pong("unsolicited pong payload"), f.ping("ping payload"))),
  },
  {
    id: "2.10",
    description: "Send 10 pings in one write",
    expectation:
      "The client answers each ping in order; NON-STRICT if it answers only the most recent (5.5.3 allows it).",
    expect: { kind: "echo", items: TEN.map((p) => pongItem(p)), lastPongsOnly: true },
    play: async (s) => s.write(concat(...TEN.map((p) => f.ping(p)))),
  },
  {
    id: "2.11",
    description: "Send 10 pings, one octet per write with 1 ms pauses",
    expectation: "The client answers each ping in order (NON-STRICT: only the most recent).",
    expect: { kind: "echo", items: TEN.map((p) => pongItem(p)), lastPongsOnly: true },
    play: (s) => s.chopped(concat(...TEN.map((p) => f.ping(p))), 1, 1),
    timeoutMs: 4000,
  },
];
