/**
 * Section 7: the closing handshake. "If an endpoint receives a Close frame and did not previously send
 * a Close frame, the endpoint MUST send a Close frame in response ... typically echoing the status
 * code it received" (5.5.1); after it, no more data ("The application MUST NOT send any more data
 * frames after sending a Close frame"). A close payload is empty or a 2-byte code plus a UTF-8 reason;
 * codes outside the ranges of 7.4 (0-999, 1004-1006, 1015, 1016-2999, 5000+) are protocol errors.
 */
import { Opcode } from "@tideway/core";
import type { CaseDef } from "../case.js";
import { closePayload } from "../wire.js";
import { asciiPayload, bytes, concat, f, textItem, utf8 } from "./helpers.js";

const close = (code?: number, reason: Uint8Array | string = "") =>
  f.op(Opcode.Close, closePayload(code, reason));

const CLEAN = "The client answers with close 1000 and sends nothing after.";

const VALID_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

export const closeCases: CaseDef[] = [
  {
    id: "7.1.1",
    description: "Send a text message, then a close frame, in one write",
    expectation:
      "The client echoes the message, then answers the close with 1000. (A client whose echo is overtaken by the close it already answered has echoed a prefix: NON-STRICT.)",
    expect: { kind: "close", codes: [1000], before: [textItem("Hello World!")] },
    play: async (s) => {
      s.write(f.text("Hello World!"));
      s.close(1000);
    },
  },
  {
    id: "7.1.2",
    description: "Send two close frames",
    expectation: "The client answers the first close once and ignores the second.",
    expect: { kind: "close", codes: [1000] },
    play: async (s) => {
      s.close(1000);
      s.write(close(1000));
    },
  },
  {
    id: "7.1.3",
    description: "Send a close frame, then a ping",
    expectation: "The client answers the close and sends no pong (nothing after its close).",
    expect: { kind: "close", codes: [1000] },
    play: async (s) => {
      s.close(1000);
      s.write(f.ping("Hello World!"));
    },
  },
  {
    id: "7.1.4",
    description: "Send a close frame, then a text message",
    expectation: "The client answers the close and does not echo the message.",
    expect: { kind: "close", codes: [1000] },
    play: async (s) => {
      s.close(1000);
      s.write(f.text("Hello World!"));
    },
  },
  {
    id: "7.1.5",
    description: "Send the first fragment of a text message, a close frame, then the last fragment",
    expectation:
      "The client answers the close and echoes nothing: the message never completed before the close.",
    expect: { kind: "close", codes: [1000] },
    play: async (s) => {
      s.write(f.text("fragment1", false));
      s.close(1000);
      s.write(f.cont("fragment2"));
    },
  },
  {
    id: "7.1.6",
    description: "Send a 256 KiB text message, a close frame and a ping, back to back",
    expectation:
      "INFORMATIONAL: whether the echo of the message is sent before the close answer depends on the implementation; the close must be answered.",
    expect: { kind: "informational", note: "256 KiB message then close" },
    play: async (s) => {
      s.write(f.text(asciiPayload(256 * 1024)));
      s.close(1000);
      s.write(f.ping("Hello World!"));
    },
    timeoutMs: 4000,
  },
  {
    id: "7.3.1",
    description: "Send a close frame with an empty payload",
    expectation: "The client answers with an empty close or with 1000 (5.5.1: no code means none was given).",
    expect: { kind: "close", codes: [undefined, 1000] },
    play: async (s) => s.close(),
  },
  {
    id: "7.3.2",
    description: "Send a close frame with a 1-byte payload",
    expectation:
      "The client fails the connection with 1002: a close payload is empty or starts with a 2-byte code.",
    expect: { kind: "fail", code: 1002 },
    play: async (s) => s.close(undefined, "", bytes(0x03)),
  },
  {
    id: "7.3.3",
    description: "Send a close frame with code 1000 and no reason",
    expectation: CLEAN,
    expect: { kind: "close", codes: [1000] },
    play: async (s) => s.close(1000),
  },
  {
    id: "7.3.4",
    description: "Send a close frame with code 1000 and a reason",
    expectation: CLEAN,
    expect: { kind: "close", codes: [1000] },
    play: async (s) => s.close(1000, "Hello World!"),
  },
  {
    id: "7.3.5",
    description: "Send a close frame with code 1000 and a 123-byte reason (payload 125 bytes)",
    expectation: CLEAN,
    expect: { kind: "close", codes: [1000] },
    play: async (s) => s.close(1000, asciiPayload(123)),
  },
  {
    id: "7.3.6",
    description: "Send a close frame with code 1000 and a 124-byte reason (payload 126 bytes)",
    expectation: "The client fails the connection with 1002: a control frame carries at most 125 bytes.",
    expect: { kind: "fail", code: 1002 },
    play: async (s) => s.close(1000, asciiPayload(124)),
  },
  {
    id: "7.5.1",
    description: "Send a close frame with code 1000 and an invalid UTF-8 reason",
    expectation: "The client fails the connection with 1007: the reason must be UTF-8 (5.5.1).",
    expect: { kind: "fail", code: 1007 },
    play: async (s) => s.close(1000, concat(utf8("κόσμε"), bytes(0xed, 0xa0, 0x80), utf8("edited"))),
  },
  ...VALID_CODES.map(
    (code, i): CaseDef => ({
      id: `7.7.${i + 1}`,
      description: `Send a close frame with valid code ${code}`,
      expectation: `The client answers with ${code} (echo) or 1000.`,
      expect: { kind: "close", codes: [code, 1000] },
      play: async (s) => s.close(code),
    }),
  ),
  ...INVALID_CODES.map(
    (code, i): CaseDef => ({
      id: `7.9.${i + 1}`,
      description: `Send a close frame with invalid code ${code}`,
      expectation: "The client fails the connection with 1002: the code is reserved or out of range (7.4).",
      expect: { kind: "fail", code: 1002 },
      play: async (s) => s.close(undefined, "", closePayload(code)),
    }),
  ),
  {
    id: "7.11.1",
    description: "Close TCP (FIN) right after the handshake, without a close frame",
    expectation: "The client reports an abnormal closure (1006) and ends; it must not hang.",
    expect: { kind: "drop" },
    play: async (s) => {
      await s.sleep(20);
      await s.endTcp();
    },
  },
  {
    id: "7.11.2",
    description: "Send half of a frame header, then close TCP",
    expectation:
      "The client reports an abnormal closure (1006) and ends; it must not hang on the partial frame.",
    expect: { kind: "drop" },
    play: async (s) => {
      s.write(f.text(asciiPayload(300)).subarray(0, 3));
      await s.sleep(20);
      await s.endTcp();
    },
  },
  {
    id: "7.11.3",
    description: "Send the first fragment of a text message, then close TCP",
    expectation:
      "The client reports an abnormal closure (1006) and ends; the partial message is not delivered.",
    expect: { kind: "drop" },
    play: async (s) => {
      s.write(f.text("fragment1", false));
      await s.sleep(20);
      await s.endTcp();
    },
  },
  {
    id: "7.11.4",
    description: "Send a close frame, answer nothing more and never close TCP",
    expectation:
      "The client answers the close and then closes TCP itself within 2 s (OK); waiting longer for the server is INFORMATIONAL (7.1.1).",
    expect: { kind: "linger", graceMs: 2000 },
    play: async (s) => {
      s.lingerAfterClose = true;
      s.close(1000);
    },
    timeoutMs: 2000,
  },
];
