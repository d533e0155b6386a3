/**
 * Section 5: fragmentation (RFC 6455 section 5.4). "Control frames MAY be injected in the middle of a
 * fragmented message"; "Control frames themselves MUST NOT be fragmented"; a continuation frame needs
 * a message in progress, and a new data frame must not start while one is.
 */
import { Opcode } from "@tideway/core";
import type { CaseDef } from "../case.js";
import {
  binaryItem,
  binaryPayload,
  type Delivery,
  deliver,
  deliveryText,
  f,
  pongItem,
  textItem,
} from "./helpers.js";

const HOWS: Delivery[] = ["whole", "frame-wise", "octet-wise"];
const FAIL = "The client fails the connection with 1002.";

function failCase(
  id: string,
  description: string,
  frames: Uint8Array[],
  how: Delivery,
  before = "",
): CaseDef {
  return {
    id,
    description: `${description} (${deliveryText[how]})`,
    expectation: before === "" ? FAIL : `The client echoes ${JSON.stringify(before)}, then fails with 1002.`,
    expect: { kind: "fail", code: 1002, before: before === "" ? [] : [textItem(before)] },
    play: (s) => deliver(s, frames, how),
  };
}

const twoFragments = () => [f.text("fragment1", false), f.cont("fragment2")];
const withPing = () => [f.text("fragment1", false), f.ping("ping payload"), f.cont("fragment2")];
const orphanFinal = () => [f.cont("non-continuation payload"), f.text("Hello, world!")];
const orphanOpen = () => [f.cont("non-continuation payload", false), f.text("Hello, world!")];

const nineteen = (s: Parameters<CaseDef["play"]>[0], chop: boolean) => async () => {
  const first = [f.text("fragment1", false), f.cont("fragment2", false), f.ping("pongme 1!")];
  const second = [
    f.cont("fragment3", false),
    f.cont("fragment4", false),
    f.ping("pongme 2!"),
    f.cont("fragment5"),
  ];
  await deliver(s, first, chop ? "octet-wise" : "frame-wise");
  await s.sleep(100);
  await deliver(s, second, chop ? "octet-wise" : "frame-wise");
};

export const fragmentationCases: CaseDef[] = [
  failCase(
    "5.1",
    "Send a ping fragmented into 2 fragments",
    [f.ping("fragment1", false), f.cont("fragment2")],
    "whole",
  ),
  failCase(
    "5.2",
    "Send a pong fragmented into 2 fragments",
    [f.pong("fragment1", false), f.cont("fragment2")],
    "whole",
  ),
  ...HOWS.map(
    (how, i): CaseDef => ({
      id: `5.${3 + i}`,
      description: `Send a text message fragmented into 2 fragments (${deliveryText[how]})`,
      expectation: "The client reassembles and echoes the whole message.",
      expect: { kind: "echo", items: [textItem("fragment1fragment2")] },
      play: (s) => deliver(s, twoFragments(), how),
    }),
  ),
  ...HOWS.map(
    (how, i): CaseDef => ({
      id: `5.${6 + i}`,
      description: `Send a text message in 2 fragments with a ping between them (${deliveryText[how]})`,
      expectation:
        "The client answers the ping at once (5.4: control frames may be injected) and echoes the message.",
      expect: { kind: "echo", items: [pongItem("ping payload"), textItem("fragment1fragment2")] },
      play: (s) => deliver(s, withPing(), how),
    }),
  ),
  ...HOWS.map((how, i) =>
    failCase(
      `5.${9 + i}`,
      "Send a continuation frame with FIN set and nothing to continue, then a text message",
      orphanFinal(),
      how,
    ),
  ),
  ...HOWS.map((how, i) =>
    failCase(
      `5.${12 + i}`,
      "Send a continuation frame with FIN clear and nothing to continue, then a text message",
      orphanOpen(),
      how,
    ),
  ),
  failCase(
    "5.15",
    "Send a text message in 2 fragments, then a continuation frame (FIN clear) with nothing to continue, then a text message",
    [...twoFragments(), f.cont("fragment3", false), f.text("fragment4")],
    "whole",
    "fragment1fragment2",
  ),
  failCase(
    "5.16",
    "Twice: a continuation frame (FIN clear) with nothing to continue, then a text message in 2 fragments",
    [...orphanOpen().slice(0, 1), ...twoFragments(), ...orphanOpen().slice(0, 1), ...twoFragments()],
    "whole",
  ),
  failCase(
    "5.17",
    "Twice: a continuation frame (FIN set) with nothing to continue, then a text message in 2 fragments",
    [...orphanFinal().slice(0, 1), ...twoFragments(), ...orphanFinal().slice(0, 1), ...twoFragments()],
    "whole",
  ),
  failCase(
    "5.18",
    "Send a text frame with FIN clear, then a new text frame instead of a continuation",
    [f.text("fragment1", false), f.text("fragment2")],
    "whole",
  ),
  {
    id: "5.19",
    description: "Send a text message in 5 fragments with 2 pings among them, frame-wise with a 100 ms pause",
    expectation: "The client answers both pings as they come and echoes the message once complete.",
    expect: {
      kind: "echo",
      items: [
        pongItem("pongme 1!"),
        pongItem("pongme 2!"),
        textItem("fragment1fragment2fragment3fragment4fragment5"),
      ],
    },
    play: (s) => nineteen(s, false)(),
  },
  {
    id: "5.20",
    description: "As 5.19, delivered one octet per write",
    expectation: "As 5.19: both pongs as the pings come, then the echo of the whole message.",
    expect: {
      kind: "echo",
      items: [
        pongItem("pongme 1!"),
        pongItem("pongme 2!"),
        textItem("fragment1fragment2fragment3fragment4fragment5"),
      ],
    },
    play: (s) => nineteen(s, true)(),
  },
  {
    id: "5.21",
    description: "Send a binary message in 3 fragments with a ping and an unsolicited pong among them",
    expectation: "The client answers the ping, ignores the pong and echoes the reassembled binary message.",
    expect: { kind: "echo", items: [pongItem("p"), binaryItem(binaryPayload(300))] },
    play: async (s) => {
      const p = binaryPayload(300);
      s.write(f.binary(p.subarray(0, 100), false));
      s.write(f.ping("p"));
      s.write(f.cont(p.subarray(100, 200), false));
      s.write(f.pong("unsolicited"));
      s.write(f.op(Opcode.Continuation, p.subarray(200)));
    },
  },
];
