/**
 * Section 10: auto-fragmentation. The server fragments a message on its own (as a proxy or a server
 * with a frame size limit may), at boundaries that need not fall on UTF-8 code point boundaries; the
 * client must reassemble before validating and delivering.
 */
import type { CaseDef } from "../case.js";
import { asciiPayload, binaryItem, binaryPayload, f, textItem, utf8 } from "./helpers.js";

function fragments(
  first: (p: Uint8Array, fin: boolean) => Uint8Array,
  p: Uint8Array,
  size: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < p.length; at += size) {
    const part = p.subarray(at, at + size);
    const fin = at + size >= p.length;
    out.push(at === 0 ? first(part, fin) : f.cont(part, fin));
  }
  return out;
}

/** 21845 three-byte characters: 65535 bytes, so 1300-byte frames split characters. */
const multiByte = utf8("€".repeat(21845));

export const autoFragmentCases: CaseDef[] = [
  {
    id: "10.1.1",
    description: "Send a text message of 65536 bytes auto-fragmented into frames of 1300 bytes",
    expectation: "The client reassembles and echoes it exactly.",
    expect: { kind: "echo", items: [textItem(asciiPayload(65536))] },
    play: async (s) => {
      for (const fr of fragments((p, fin) => f.text(p, fin), asciiPayload(65536), 1300)) s.write(fr);
    },
  },
  {
    id: "10.1.2",
    description: "Send a binary message of 65536 bytes auto-fragmented into frames of 1300 bytes",
    expectation: "The client reassembles and echoes it exactly.",
    expect: { kind: "echo", items: [binaryItem(binaryPayload(65536))] },
    play: async (s) => {
      for (const fr of fragments((p, fin) => f.binary(p, fin), binaryPayload(65536), 1300)) s.write(fr);
    },
  },
  {
    id: "10.1.3",
    description:
      "Send a text of 3-byte characters auto-fragmented into 1300-byte frames (splitting characters)",
    expectation:
      "The client reassembles and echoes it exactly: fragment boundaries inside a character are valid.",
    expect: { kind: "echo", items: [textItem(multiByte)] },
    play: async (s) => {
      for (const fr of fragments((p, fin) => f.text(p, fin), multiByte, 1300)) s.write(fr);
    },
  },
];
