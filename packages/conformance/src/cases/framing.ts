/**
 * Section 1: framing. Text and binary messages at every payload-length boundary: 0 and 125 (7-bit
 * length), 126 and 127 and 128 (16-bit), 65535 (the largest 16-bit), 65536 (the smallest 64-bit), and
 * the last one again delivered in chops that cut the header and payload at odd places; then frame
 * header errors (1.3).
 */
import { Opcode } from "@tideway/core";
import type { CaseDef } from "../case.js";
import { rawFrame } from "../wire.js";
import { asciiPayload, binaryItem, binaryPayload, bytes, concat, f, textItem, utf8 } from "./helpers.js";

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];
const CHOP = 997;

function group(sub: number, kind: "text" | "binary"): CaseDef[] {
  const make = kind === "text" ? asciiPayload : binaryPayload;
  const item = kind === "text" ? textItem : binaryItem;
  const frame = kind === "text" ? f.text : f.binary;
  const cases: CaseDef[] = LENGTHS.map((n, i) => {
    const payload = make(n);
    return {
      id: `1.${sub}.${i + 1}`,
      description: `Send a ${kind} message with a payload of ${n} bytes`,
      expectation: `The client echoes the ${kind} message exactly; clean close 1000.`,
      expect: { kind: "echo", items: [item(payload)] },
      play: async (s) => s.write(frame(payload)),
    };
  });
  const payload = make(65536);
  cases.push({
    id: `1.${sub}.8`,
    description: `Send a ${kind} message of 65536 bytes, delivered in chops of ${CHOP} octets`,
    expectation: "The client reassembles the frame across reads and echoes it exactly; clean close 1000.",
    expect: { kind: "echo", items: [item(payload)] },
    play: (s) => s.chopped(frame(payload), CHOP),
  });
  return cases;
}

/**
 * Header errors a server may commit (not in Autobahn, which never sends them): a masked frame ("A
 * client MUST close a connection if it detects a masked frame", 5.1), a 64-bit length with its most
 * significant bit set ("the most significant bit MUST be 0", 5.2), a fragmented close frame (5.5).
 */
const headerErrors: CaseDef[] = [
  {
    id: "1.3.1",
    description: "Send a masked text frame",
    expectation: "The client fails the connection with 1002: servers must not mask (5.1).",
    expect: { kind: "fail", code: 1002 },
    play: async (s) => s.write(rawFrame(Opcode.Text, utf8("Hello, world!"), { maskKey: bytes(1, 2, 3, 4) })),
  },
  {
    id: "1.3.2",
    description: "Send a binary frame whose 64-bit length has the most significant bit set",
    expectation: "The client fails the connection with 1002 (5.2: the most significant bit MUST be 0).",
    expect: { kind: "fail", code: 1002 },
    play: async (s) => s.write(bytes(0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5)),
  },
  {
    id: "1.3.3",
    description: "Send a close frame with FIN clear, then its continuation",
    expectation: "The client fails the connection with 1002: control frames MUST NOT be fragmented (5.5).",
    expect: { kind: "fail", code: 1002 },
    play: async (s) => s.write(concat(f.op(Opcode.Close, bytes(0x03), false), f.cont(bytes(0xe8)))),
  },
  {
    id: "1.3.4",
    description: "Send a 5-byte text frame with its length in the 16-bit form (not minimal), then a close",
    expectation:
      "INFORMATIONAL: 5.2 says the minimal length form MUST be used, but most receivers accept the longer form; echoing or failing with 1002 are both recorded.",
    expect: { kind: "informational", note: "non-minimal length" },
    play: async (s) => {
      s.write(bytes(0x81, 0x7e, 0x00, 0x05, ...utf8("hello")));
      await s.sleep(100);
      s.close(1000);
    },
  },
];

export const framingCases: CaseDef[] = [...group(1, "text"), ...group(2, "binary"), ...headerErrors];
