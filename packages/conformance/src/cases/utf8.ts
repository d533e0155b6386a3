/**
 * Section 6: UTF-8. "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
 * stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_"
 * (8.1) with 1007 (7.4.1). Valid means RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF,
 * but noncharacters (U+FFFE, U+nFFFF) ARE valid. Most vectors are those of Markus Kuhn's UTF-8
 * decoder stress test, in the grouping the Autobahn suite uses.
 *
 * Fail-fast (6.4): a text message is sent in pieces with a pause after the piece that makes it
 * invalid; a client that validates incrementally fails before the rest arrives (OK), one that
 * validates the whole message only at the end still fails, later (NON-STRICT).
 */

import type { CaseDef } from "../case.js";
import type { Session } from "../session.js";
import { bytes, concat, f, textItem, utf8 } from "./helpers.js";

/** "κόσμε": 2-, 3-, 2-, 2-, 2-byte sequences (Kuhn's first test). */
const KOSME = bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5);

function isValidUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

const hex = (b: Uint8Array) =>
  b.length > 16
    ? `${b.length} bytes`
    : Array.from(b, (x) => x.toString(16).padStart(2, "0"))
        .join(" ")
        .toUpperCase();

/** One vector, sent as a single text frame; valid ones are echoed, invalid ones fail with 1007. */
function vector(id: string, what: string, payload: Uint8Array): CaseDef {
  const valid = isValidUtf8(payload);
  return {
    id,
    description: `Send a text message with ${what} [${hex(payload)}] (${valid ? "valid" : "invalid"} UTF-8)`,
    expectation: valid
      ? "The client echoes the text message exactly."
      : "The client fails the connection with 1007 (8.1: invalid UTF-8).",
    expect: valid ? { kind: "echo", items: [textItem(payload)] } : { kind: "fail", code: 1007 },
    play: async (s) => s.write(f.text(payload)),
  };
}

const group = (prefix: string, what: string, list: Uint8Array[]) =>
  list.map((b, i) => vector(`${prefix}.${i + 1}`, what, b));

/** A code point as UTF-8 bytes, even if it is a noncharacter (TextEncoder keeps those). */
const cp = (c: number) => utf8(String.fromCodePoint(c));

const range = (from: number, to: number, then?: number) => {
  const out: number[] = [];
  for (let b = from; b <= to; b++) {
    out.push(b);
    if (then !== undefined) out.push(then);
  }
  return Uint8Array.from(out);
};

const HELLO_UTF8 = utf8("Hello-µ@ßöäüàá-UTF-8!!");

/**
 * Fail-fast: writes `pieces` with a pause after each, stopping as soon as the client gives up. The
 * pieces after the first invalid one are marked "rest-sent" when written.
 */
async function piecewise(s: Session, pieces: Uint8Array[], invalidAt: number): Promise<void> {
  for (let i = 0; i < pieces.length; i++) {
    if (i > invalidAt && s.obs.marks.get("rest-sent") === undefined) s.mark("rest-sent");
    s.write(pieces[i]!);
    if (await s.waitForClientDone(i >= invalidAt ? 400 : 50)) return;
  }
}

function failFast(id: string, description: string, pieces: (s: Session) => Promise<void>): CaseDef {
  return {
    id,
    description,
    expectation:
      "The client fails with 1007 as soon as the invalid bytes arrive (OK); failing only once the whole message arrived is NON-STRICT.",
    expect: { kind: "fail", code: 1007, failFastMark: "rest-sent" },
    play: pieces,
  };
}

const INVALID_TAIL = bytes(0xf4, 0x90, 0x80, 0x80); // above U+10FFFF: invalid at its 2nd byte
const EDITED = utf8("edited");

/** Frames (or chops) of one text message. */
const fragments = (parts: Uint8Array[]) =>
  parts.map((p, i) => (i === 0 ? f.text(p, false) : f.cont(p, i === parts.length - 1)));

export const utf8Cases: CaseDef[] = [
  {
    id: "6.1.1",
    description: "Send a text message of length 0",
    expectation: "The client echoes an empty text message.",
    expect: { kind: "echo", items: [textItem("")] },
    play: async (s) => s.write(f.text("")),
  },
  {
    id: "6.1.2",
    description: "Send a text message in 3 fragments, each of length 0",
    expectation: "The client echoes an empty text message.",
    expect: { kind: "echo", items: [textItem("")] },
    play: async (s) => s.write(concat(...fragments([utf8(""), utf8(""), utf8("")]))),
  },
  {
    id: "6.1.3",
    description: "Send a text message in 3 fragments: empty, non-empty, empty",
    expectation: "The client echoes the middle fragment's text.",
    expect: { kind: "echo", items: [textItem("middle frame payload")] },
    play: async (s) => s.write(concat(...fragments([utf8(""), utf8("middle frame payload"), utf8("")]))),
  },
  {
    id: "6.2.1",
    description: "Send valid UTF-8 text with 2-byte characters in one frame",
    expectation: "The client echoes it exactly.",
    expect: { kind: "echo", items: [textItem(HELLO_UTF8)] },
    play: async (s) => s.write(f.text(HELLO_UTF8)),
  },
  {
    id: "6.2.2",
    description: "Send the same text in 2 fragments split on a code point boundary",
    expectation: "The client echoes it exactly.",
    expect: { kind: "echo", items: [textItem(HELLO_UTF8)] },
    play: async (s) => s.write(concat(...fragments([HELLO_UTF8.subarray(0, 12), HELLO_UTF8.subarray(12)]))),
  },
  {
    id: "6.2.3",
    description: "Send the same text in one frame, delivered one octet per write",
    expectation: "The client echoes it exactly.",
    expect: { kind: "echo", items: [textItem(HELLO_UTF8)] },
    play: (s) => s.chopped(f.text(HELLO_UTF8), 1),
  },
  {
    id: "6.2.4",
    description: "Send the same text in 1-byte fragments (fragments split code points)",
    expectation: "The client echoes it exactly: validity is a property of the message, not of each fragment.",
    expect: { kind: "echo", items: [textItem(HELLO_UTF8)] },
    play: async (s) => s.write(concat(...fragments(Array.from(HELLO_UTF8, (b) => bytes(b))))),
  },
  vector(
    "6.3.1",
    "invalid UTF-8 (a surrogate inside valid text)",
    concat(KOSME, bytes(0xed, 0xa0, 0x80), EDITED),
  ),
  {
    id: "6.3.2",
    description: "Send the same invalid text in 1-byte fragments",
    expectation: "The client fails the connection with 1007.",
    expect: { kind: "fail", code: 1007 },
    play: async (s) =>
      s.write(
        concat(...fragments(Array.from(concat(KOSME, bytes(0xed, 0xa0, 0x80), EDITED), (b) => bytes(b)))),
      ),
  },
  failFast(
    "6.4.1",
    "Send invalid text in 3 fragments with pauses: valid, then the whole invalid sequence, then the rest",
    (s) => piecewise(s, fragments([KOSME, INVALID_TAIL, EDITED]), 1),
  ),
  failFast(
    "6.4.2",
    "Send invalid text in 3 fragments with pauses: valid ending in F4, then the byte that makes it invalid, then the rest",
    (s) =>
      piecewise(
        s,
        fragments([concat(KOSME, bytes(0xf4)), bytes(0x90), concat(bytes(0x80, 0x80), EDITED)]),
        1,
      ),
  ),
  failFast(
    "6.4.3",
    "Send invalid text in ONE frame delivered in 3 chops with pauses: valid, the invalid sequence, the rest",
    (s) => {
      const frame = f.text(concat(KOSME, INVALID_TAIL, EDITED));
      const head = frame.length - INVALID_TAIL.length - EDITED.length;
      return piecewise(
        s,
        [frame.subarray(0, head), frame.subarray(head, head + 4), frame.subarray(head + 4)],
        1,
      );
    },
  ),
  failFast(
    "6.4.4",
    "Send invalid text in ONE frame delivered in 3 chops with pauses: valid ending in F4, then 90, then the rest",
    (s) => {
      const frame = f.text(concat(KOSME, INVALID_TAIL, EDITED));
      const head = frame.length - INVALID_TAIL.length - EDITED.length + 1;
      return piecewise(
        s,
        [frame.subarray(0, head), frame.subarray(head, head + 1), frame.subarray(head + 1)],
        1,
      );
    },
  ),
  ...group("6.5", "valid text", [
    KOSME,
    concat(KOSME, cp(0x10000)),
    utf8("👍🏽 emoji with a skin-tone modifier"),
    utf8("日本語のテキスト"),
    utf8("a¢€𐍈 one code point of each length"),
  ]),
  ...group(
    "6.6",
    "a prefix of κόσμε",
    Array.from({ length: 11 }, (_, i) => KOSME.subarray(0, i + 1)),
  ),
  ...group("6.7", "the first code point of its length", [
    bytes(0x00),
    bytes(0xc2, 0x80),
    bytes(0xe0, 0xa0, 0x80),
    bytes(0xf0, 0x90, 0x80, 0x80),
  ]),
  ...group("6.8", "a 5- or 6-byte sequence", [
    bytes(0xf8, 0x88, 0x80, 0x80, 0x80),
    bytes(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80),
  ]),
  ...group("6.9", "the last code point of its length", [
    bytes(0x7f),
    bytes(0xdf, 0xbf),
    bytes(0xef, 0xbf, 0xbf),
    bytes(0xf4, 0x8f, 0xbf, 0xbf),
  ]),
  ...group("6.10", "the last sequence of a 4-, 5- or 6-byte pattern", [
    bytes(0xf7, 0xbf, 0xbf, 0xbf),
    bytes(0xfb, 0xbf, 0xbf, 0xbf, 0xbf),
    bytes(0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf),
  ]),
  ...group("6.11", "a boundary code point", [
    bytes(0xed, 0x9f, 0xbf),
    bytes(0xee, 0x80, 0x80),
    bytes(0xef, 0xbf, 0xbd),
    bytes(0xf4, 0x8f, 0xbf, 0xbf),
    bytes(0xf4, 0x90, 0x80, 0x80),
  ]),
  ...group("6.12", "unexpected continuation bytes", [
    bytes(0x80),
    bytes(0xbf),
    bytes(0x80, 0xbf),
    bytes(0x80, 0xbf, 0x80),
    bytes(0x80, 0xbf, 0x80, 0xbf),
    bytes(0x80, 0xbf, 0x80, 0xbf, 0x80),
    bytes(0x80, 0xbf, 0x80, 0xbf, 0x80, 0xbf),
    range(0x80, 0xbf),
  ]),
  ...group("6.13", "lonely start bytes each followed by a space", [
    range(0xc0, 0xdf, 0x20),
    range(0xe0, 0xef, 0x20),
    range(0xf0, 0xf7, 0x20),
    range(0xf8, 0xfb, 0x20),
    range(0xfc, 0xfd, 0x20),
  ]),
  ...group("6.14", "a sequence missing its last continuation byte", INCOMPLETE()),
  vector("6.15.1", "all the incomplete sequences of 6.14 concatenated", concat(...INCOMPLETE())),
  ...group("6.16", "impossible bytes", [bytes(0xfe), bytes(0xff), bytes(0xfe, 0xfe, 0xff, 0xff)]),
  ...group("6.17", "an overlong encoding of '/'", [
    bytes(0xc0, 0xaf),
    bytes(0xe0, 0x80, 0xaf),
    bytes(0xf0, 0x80, 0x80, 0xaf),
    bytes(0xf8, 0x80, 0x80, 0x80, 0xaf),
    bytes(0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf),
  ]),
  ...group("6.18", "a maximum overlong sequence", [
    bytes(0xc1, 0xbf),
    bytes(0xe0, 0x9f, 0xbf),
    bytes(0xf0, 0x8f, 0xbf, 0xbf),
    bytes(0xf8, 0x87, 0xbf, 0xbf, 0xbf),
    bytes(0xfc, 0x83, 0xbf, 0xbf, 0xbf, 0xbf),
  ]),
  ...group("6.19", "an overlong NUL", [
    bytes(0xc0, 0x80),
    bytes(0xe0, 0x80, 0x80),
    bytes(0xf0, 0x80, 0x80, 0x80),
    bytes(0xf8, 0x80, 0x80, 0x80, 0x80),
    bytes(0xfc, 0x80, 0x80, 0x80, 0x80, 0x80),
  ]),
  ...group(
    "6.20",
    "a single UTF-16 surrogate",
    [0xa0, 0xad, 0xae, 0xaf, 0xb0, 0xbe, 0xbf].map((b2, i) =>
      bytes(0xed, b2, i === 1 || i === 3 || i === 6 ? 0xbf : 0x80),
    ),
  ),
  ...group(
    "6.21",
    "a paired UTF-16 surrogate",
    [
      [0xa0, 0x80, 0xb0, 0x80],
      [0xa0, 0x80, 0xbf, 0xbf],
      [0xad, 0xbf, 0xb0, 0x80],
      [0xad, 0xbf, 0xbf, 0xbf],
      [0xae, 0x80, 0xb0, 0x80],
      [0xae, 0x80, 0xbf, 0xbf],
      [0xaf, 0xbf, 0xb0, 0x80],
      [0xaf, 0xbf, 0xbf, 0xbf],
    ].map(([a, b, c, d]) => bytes(0xed, a!, b!, 0xed, c!, d!)),
  ),
  ...group("6.22", "a noncharacter (valid: noncharacters are not errors)", [
    cp(0xfffe),
    cp(0xffff),
    ...Array.from({ length: 16 }, (_, p) => [
      cp(((p + 1) << 16) | 0xfffe),
      cp(((p + 1) << 16) | 0xffff),
    ]).flat(),
  ]),
  ...group("6.23", "a special code point", [
    cp(0xfffd),
    cp(0xfeff),
    cp(0xfdd0),
    cp(0xfdef),
    cp(0xfff9),
    cp(0xfffa),
    cp(0xfffb),
  ]),
];

function INCOMPLETE(): Uint8Array[] {
  return [
    bytes(0xc0),
    bytes(0xe0, 0x80),
    bytes(0xf0, 0x80, 0x80),
    bytes(0xf8, 0x80, 0x80, 0x80),
    bytes(0xfc, 0x80, 0x80, 0x80, 0x80),
    bytes(0xdf),
    bytes(0xef, 0xbf),
    bytes(0xf7, 0xbf, 0xbf),
    bytes(0xfb, 0xbf, 0xbf, 0xbf),
    bytes(0xfd, 0xbf, 0xbf, 0xbf, 0xbf),
  ];
}
