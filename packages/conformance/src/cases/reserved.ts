/**
 * Sections 3 and 4: reserved bits and reserved opcodes. No extension is negotiated by the suite's
 * handshake, so "If a nonzero value is received and none of the negotiated extensions defines the
 * meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_"
 * (5.2), and likewise "If an unknown opcode is received, the receiving endpoint MUST _Fail_". Cases
 * that send a valid message first expect it echoed, then the failure, and no pong for the ping sent
 * after the bad frame ("MUST NOT ... further process data", 7.1.7).
 */
import { Opcode } from "@tideway/core";
import type { CaseDef } from "../case.js";
import { binaryPayload, type Delivery, deliver, deliveryText, f, textItem } from "./helpers.js";

const RSV_NAMES = ["", "RSV3", "RSV2", "RSV2+RSV3", "RSV1", "RSV1+RSV3", "RSV1+RSV2", "RSV1+RSV2+RSV3"];
const FAIL_1002 =
  "The client fails the connection with 1002; the valid frames before are echoed, nothing after.";

function rsvCase(
  id: string,
  description: string,
  frames: Uint8Array[],
  how: Delivery,
  echoFirst: boolean,
): CaseDef {
  return {
    id,
    description: `${description} (${deliveryText[how]})`,
    expectation: FAIL_1002,
    expect: { kind: "fail", code: 1002, before: echoFirst ? [textItem("Hello, world!")] : [] },
    play: (s) => deliver(s, frames, how),
  };
}

const hello = () => f.text("Hello, world!");

/** The seven Autobahn cases, then every RSV value on every kind of frame. */
export const reservedBitsCases: CaseDef[] = [
  rsvCase(
    "3.1",
    "Send a small text message with RSV = 1",
    [f.text("Hello, world!", true, 1)],
    "whole",
    false,
  ),
  rsvCase(
    "3.2",
    "Send a small text message, then one with RSV = 2, then a ping",
    [hello(), f.text("Hello, world!", true, 2), f.ping()],
    "whole",
    true,
  ),
  rsvCase(
    "3.3",
    "Send a small text message, then one with RSV = 3, then a ping",
    [hello(), f.text("Hello, world!", true, 3), f.ping()],
    "frame-wise",
    true,
  ),
  rsvCase(
    "3.4",
    "Send a small text message, then one with RSV = 4, then a ping",
    [hello(), f.text("Hello, world!", true, 4), f.ping()],
    "octet-wise",
    true,
  ),
  rsvCase(
    "3.5",
    "Send a small binary message with RSV = 5",
    [f.binary(binaryPayload(8), true, 5)],
    "whole",
    false,
  ),
  rsvCase("3.6", "Send a ping with RSV = 6", [f.ping("Hello, world!", true, 6)], "whole", false),
  rsvCase(
    "3.7",
    "Send a close with RSV = 7",
    [f.op(Opcode.Close, new Uint8Array([0x03, 0xe8]), true, 7)],
    "whole",
    false,
  ),
];

const RSV_TARGETS: { name: string; frames: (rsv: number) => Uint8Array[] }[] = [
  { name: "text frame", frames: (rsv) => [f.text("Hello, world!", true, rsv)] },
  { name: "binary frame", frames: (rsv) => [f.binary(binaryPayload(16), true, rsv)] },
  { name: "ping", frames: (rsv) => [f.ping("ping", true, rsv)] },
  { name: "pong", frames: (rsv) => [f.pong("pong", true, rsv)] },
  { name: "close", frames: (rsv) => [f.op(Opcode.Close, new Uint8Array([0x03, 0xe8]), true, rsv)] },
  {
    name: "continuation frame",
    frames: (rsv) => [f.text("fragment1", false), f.cont("fragment2", true, rsv)],
  },
];

RSV_TARGETS.forEach((t, ti) => {
  for (let rsv = 1; rsv <= 7; rsv++) {
    reservedBitsCases.push(
      rsvCase(
        `3.8.${ti * 7 + rsv}`,
        `Send a ${t.name} with ${RSV_NAMES[rsv]} set`,
        t.frames(rsv),
        "whole",
        false,
      ),
    );
  }
});

function opcodeCase(
  id: string,
  opcode: number,
  withPayload: boolean,
  preceded: boolean,
  how: Delivery,
): CaseDef {
  const bad = f.op(opcode, withPayload ? "reserved opcode payload" : "");
  const frames = preceded ? [hello(), bad, f.ping()] : [bad];
  const kind = opcode < 8 ? "non-control" : "control";
  return {
    id,
    description:
      (preceded ? "Send a small text message, then a frame" : "Send a frame") +
      ` with reserved ${kind} opcode ${opcode}${withPayload ? " and a payload" : ""}` +
      (preceded ? ", then a ping" : "") +
      ` (${deliveryText[how]})`,
    expectation: FAIL_1002,
    expect: { kind: "fail", code: 1002, before: preceded ? [textItem("Hello, world!")] : [] },
    play: (s) => deliver(s, frames, how),
  };
}

export const reservedOpcodeCases: CaseDef[] = [3, 11].flatMap((base, g) => [
  opcodeCase(`4.${g + 1}.1`, base, false, false, "whole"),
  opcodeCase(`4.${g + 1}.2`, base + 1, true, false, "whole"),
  opcodeCase(`4.${g + 1}.3`, base + 2, false, true, "whole"),
  opcodeCase(`4.${g + 1}.4`, base + 3, true, true, "whole"),
  opcodeCase(`4.${g + 1}.5`, base + 4, true, true, "octet-wise"),
]);
