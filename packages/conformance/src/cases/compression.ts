/**
 * Sections 12 and 13: permessage-deflate (RFC 7692), after Autobahn's sections of the same numbers.
 * Each case negotiates the extension in its handshake (the server's config is the case's), sends
 * compressed messages and expects each echoed exactly, in order; the client's echoes may come
 * compressed (inflated here with the window and context rules it agreed to) or plain ("the
 * Per-Message Compressed bit" is per message, RFC 7692 section 6). An agent that does not negotiate
 * the extension FAILS these cases (see `runCase`).
 *
 * Section 12 varies the payload (kind and size) with the parameters every client offers by default;
 * section 13 varies the parameters. Autobahn sends 1000 messages per case; these cases send up to
 * 100, about 1 MiB (section 12) or 512 KiB (section 13) per case, to keep the whole run short.
 * 12.7 holds failure cases of our own: corrupt streams, RSV1 where it is not allowed, bombs.
 *
 * Payloads are generated deterministically when needed (not kept in memory between cases).
 */
import { Opcode } from "@tideway/core";
import type { CaseDef } from "../case.js";
import type { DeflateCaseConfig } from "../deflate.js";
import type { Session } from "../session.js";
import type { AgentConfig, Item } from "../types.js";
import { rawFrame } from "../wire.js";
import { binaryItem, bytes, f, textItem, utf8 } from "./helpers.js";

/** The payload sizes of Autobahn's sections 12 and 13. */
const SIZES = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072] as const;

/** xorshift32: the same "random" bytes on every run. */
function prng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-EUR", "AAPL", "MSFT", "EUR/USD", "XAU"];

/** JSON-like market data (ASCII, so any cut is valid UTF-8): compresses to ~10-20%. */
function jsonText(size: number, seed: number): Uint8Array {
  const r = prng(seed + 1);
  let s = "[";
  for (let i = 0; s.length < size; i++) {
    const sym = SYMBOLS[r() % SYMBOLS.length]!;
    s += `{"id":${seed * 1000 + i},"symbol":"${sym}","price":${(r() % 100000) / 100},"qty":${r() % 500},"side":"${r() & 1 ? "buy" : "sell"}","ts":${1764100000000 + (r() % 100000)}},`;
  }
  return utf8(s.slice(0, size));
}

const WORDS = [
  "the",
  "tide",
  "turns",
  "and",
  "every",
  "wave",
  "carries",
  "a",
  "message",
  "home",
  "naïve",
  "café",
  "Grüße",
  "κόσμε",
  "日本語",
  "🌊",
  "over",
  "quiet",
  "harbour",
  "lights",
];

/** Human-readable text with multi-byte UTF-8, cut at a character boundary and padded to `size`. */
function proseText(size: number, seed: number): Uint8Array {
  const r = prng(seed + 7);
  const out = new Uint8Array(size).fill(0x20);
  let at = 0;
  while (at < size) {
    const word = utf8(`${WORDS[r() % WORDS.length]!}${r() % 9 === 0 ? ".\n" : " "}`);
    if (at + word.length > size) break; // the rest stays spaces: never half a character
    out.set(word, at);
    at += word.length;
  }
  return out;
}

/** Random-looking bytes: deflate cannot shrink them (stored blocks, or slightly larger). */
function noise(size: number, seed: number): Uint8Array {
  const r = prng(seed + 13);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = r() & 0xff;
  return out;
}

/** A 61-byte pattern repeated, shifted per message: compresses to almost nothing. */
function repetitive(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = ((i % 61) * 7 + seed) & 0xff;
  return out;
}

interface PayloadKind {
  name: string;
  opcode: typeof Opcode.Text | typeof Opcode.Binary;
  make: (size: number, seed: number) => Uint8Array;
}

const JSON_TEXT: PayloadKind = { name: "JSON-like text", opcode: Opcode.Text, make: jsonText };
const PROSE: PayloadKind = { name: "human-readable UTF-8 text", opcode: Opcode.Text, make: proseText };
const NOISE: PayloadKind = { name: "random-looking binary", opcode: Opcode.Binary, make: noise };
const REPETITIVE: PayloadKind = { name: "repetitive binary", opcode: Opcode.Binary, make: repetitive };

const itemOf = (kind: PayloadKind, data: Uint8Array): Item =>
  kind.opcode === Opcode.Text ? textItem(data) : binaryItem(data);

/** Up to 100 messages, about `budget` bytes in all, at least 4. */
const countFor = (size: number, budget: number) => Math.max(4, Math.min(100, Math.floor(budget / size)));

interface EchoPlan {
  kind: PayloadKind;
  size: number;
  count: number;
  /** Split each compressed message into frames of this many bytes (RSV1 on the first only). */
  fragment?: number;
  /** Send every `plainEvery`-th message uncompressed (RSV1 clear). */
  plainEvery?: number;
}

const messages = (p: EchoPlan) => Array.from({ length: p.count }, (_, i) => p.kind.make(p.size, i));

const sizeText = (n: number) => (n >= 1024 ? `${n / 1024} KiB` : `${n} B`);

/** Echo expectation with the compressed-echo rule stated once. */
const ECHO_RULE =
  "The client inflates every message and echoes it exactly, in order (its echoes compressed or not, both legal), then answers close 1000.";

function echoCase(
  id: string,
  description: string,
  plan: EchoPlan,
  deflate: DeflateCaseConfig,
  client?: AgentConfig,
): CaseDef {
  return {
    id,
    description,
    expectation: ECHO_RULE,
    // A getter: the payloads are made when the case runs, not kept for the whole run.
    get expect() {
      return { kind: "echo" as const, items: messages(plan).map((m) => itemOf(plan.kind, m)) };
    },
    async play(s: Session) {
      let i = 0;
      for (const m of messages(plan)) {
        const plain = plan.plainEvery !== undefined && i++ % plan.plainEvery === plan.plainEvery - 1;
        if (plain) s.send(plan.kind.opcode, m);
        else for (const frame of await s.compressedFrames(plan.kind.opcode, m, plan.fragment)) s.write(frame);
      }
    },
    timeoutMs: 10_000,
    deflate,
    ...(client !== undefined ? { client } : {}),
  };
}

/** Section 12 negotiates what the client offers by default and accepts it as offered. */
const DEFAULT_DEFLATE: DeflateCaseConfig = { server: {} };

function payloadCases(section: string, kind: PayloadKind): CaseDef[] {
  return SIZES.map((size, i) => {
    const count = countFor(size, 2 ** 20);
    return echoCase(
      `12.${section}.${i + 1}`,
      `Send ${count} compressed messages of ${sizeText(size)} of ${kind.name} (agent's default offer)`,
      { kind, size, count },
      DEFAULT_DEFLATE,
    );
  });
}

const FRAGMENTED_SIZES = SIZES.filter((n) => n >= 1024);

const fragmentedCases: CaseDef[] = FRAGMENTED_SIZES.map((size, i) => {
  const count = countFor(size, 2 ** 20);
  return echoCase(
    `12.5.${i + 1}`,
    `Send ${count} compressed messages of ${sizeText(size)} of JSON-like text, each split into frames of 256 compressed bytes (RSV1 on the first frame only)`,
    { kind: JSON_TEXT, size, count, fragment: 256 },
    DEFAULT_DEFLATE,
  );
});

const mixedCases: CaseDef[] = [256, 4096, 65536].map((size, i) => {
  const count = countFor(size, 2 ** 20);
  return echoCase(
    `12.6.${i + 1}`,
    `Send ${count} messages of ${sizeText(size)} of JSON-like text, every third one uncompressed (RSV1 clear; it does not enter the compression context)`,
    { kind: JSON_TEXT, size, count, plainEvery: 3 },
    DEFAULT_DEFLATE,
  );
});

// --- 12.7: safety ---

const FAIL_1007 =
  "The client fails the connection with 1007 (invalid payload data: the message cannot be inflated, or inflates to invalid UTF-8), echoing nothing after.";
const FAIL_1002 =
  "The client fails the connection with 1002: RFC 7692 section 6.1 defines RSV1 only on the first frame of a data message of a connection that negotiated the extension.";

/** A raw DEFLATE block header with BTYPE=11 (reserved): "invalid block type". */
const CORRUPT = bytes(0xff, 0xff, 0xff, 0xff);
const hello = utf8("Hello, compressed world! Hello, compressed world!");

function failCase(
  id: string,
  description: string,
  expectation: string,
  code: number,
  before: Item[],
  play: (s: Session) => Promise<void>,
  deflate: DeflateCaseConfig = DEFAULT_DEFLATE,
  client?: AgentConfig,
): CaseDef {
  return {
    id,
    description,
    expectation,
    expect: { kind: "fail", code, before },
    play,
    deflate,
    ...(client !== undefined ? { client } : {}),
  };
}

const writeAll = async (s: Session, frames: Promise<Uint8Array[]>) => {
  for (const frame of await frames) s.write(frame);
};

/** 16 MiB of zeros: deflate turns it into ~16 KiB. */
const BOMB_SIZE = 16 * 2 ** 20;
const BOMB_LIMIT = 2 ** 20;
/** Above the 100 MiB default maxPayload of both `ws` and `@tideway/client`. */
const BIG_BOMB_SIZE = 128 * 2 ** 20;

const safetyCases: CaseDef[] = [
  failCase(
    "12.7.1",
    "Send a compressed text message whose DEFLATE data is corrupt (reserved block type)",
    FAIL_1007,
    1007,
    [],
    async (s) => {
      s.write(rawFrame(Opcode.Text, CORRUPT, { rsv: 4 }));
    },
  ),
  failCase(
    "12.7.2",
    "Send a valid compressed message, then a corrupt compressed one, then a ping",
    `${FAIL_1007} The valid message before is echoed; no pong.`,
    1007,
    [textItem(hello)],
    async (s) => {
      await writeAll(s, s.compressedFrames(Opcode.Text, hello));
      s.write(rawFrame(Opcode.Text, CORRUPT, { rsv: 4 }));
      s.ping("after");
    },
  ),
  failCase(
    "12.7.3",
    "Send a compressed text message that inflates to invalid UTF-8 (a UTF-16 surrogate)",
    FAIL_1007,
    1007,
    [],
    (s) =>
      writeAll(
        s,
        s.compressedFrames(Opcode.Text, bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xed, 0xa0, 0x80, 0x65)),
      ),
  ),
  failCase("12.7.4", "Send a ping with RSV1 set (extension negotiated)", FAIL_1002, 1002, [], async (s) => {
    s.write(f.ping("Hello", true, 4));
  }),
  failCase(
    "12.7.5",
    "Send a close frame with RSV1 set (extension negotiated)",
    FAIL_1002,
    1002,
    [],
    async (s) => {
      s.write(f.op(Opcode.Close, bytes(0x03, 0xe8), true, 4));
    },
  ),
  failCase(
    "12.7.6",
    "Send a compressed message in 2 frames with RSV1 set on the continuation frame too",
    FAIL_1002,
    1002,
    [],
    async (s) => {
      const [first, ...rest] = await s.compressedFrames(Opcode.Text, jsonText(1024, 0), 16);
      s.write(first!);
      // The second frame again, with RSV1 set (its first byte: FIN?, RSV1, opcode 0).
      const cont = rest[0]!.slice();
      cont[0]! |= 0x40;
      s.write(cont);
    },
  ),
  failCase(
    "12.7.7",
    "Send an uncompressed fragmented text message whose continuation frame has RSV1 set",
    FAIL_1002,
    1002,
    [],
    async (s) => {
      s.write(f.text("Hello, ", false));
      s.write(f.cont("world!", true, 4));
    },
  ),
  failCase(
    "12.7.8",
    "Decline the client's permessage-deflate offer, then send a compressed message (RSV1 set)",
    "The client fails the connection with 1002: without a negotiated extension, RSV1 MUST be 0 (RFC 6455 section 5.2).",
    1002,
    [],
    async (s) => {
      s.write(rawFrame(Opcode.Text, bytes(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), { rsv: 4 }));
    },
    { server: {}, decline: true },
  ),
  failCase(
    "12.7.9",
    `Decompression bomb: ${sizeText(BOMB_SIZE)} of zeros compressed to one small frame, agent configured with maxPayload ${sizeText(BOMB_LIMIT)}`,
    "The client stops inflating at its limit and fails the connection with 1009 (message too big); it must not inflate the whole message first.",
    1009,
    [],
    (s) => writeAll(s, s.compressedFrames(Opcode.Binary, new Uint8Array(BOMB_SIZE))),
    DEFAULT_DEFLATE,
    { maxPayload: BOMB_LIMIT },
  ),
  failCase(
    "12.7.10",
    `Decompression bomb in fragments: ${sizeText(BOMB_SIZE)} of zeros, compressed, in frames of 256 bytes, agent maxPayload ${sizeText(BOMB_LIMIT)}`,
    "The client fails the connection with 1009 once the inflated size passes its limit.",
    1009,
    [],
    (s) => writeAll(s, s.compressedFrames(Opcode.Binary, new Uint8Array(BOMB_SIZE), 256)),
    DEFAULT_DEFLATE,
    { maxPayload: BOMB_LIMIT },
  ),
  {
    id: "12.7.11",
    description: `Decompression bomb against the agent's default limit: ${sizeText(BIG_BOMB_SIZE)} of zeros compressed to ~128 KiB`,
    expectation:
      "The client fails the connection with 1009 (both ws and @tideway/client default to maxPayload 100 MiB). An agent whose default limit is above 128 MiB may echo it: NON-STRICT.",
    get expect() {
      return {
        kind: "fail" as const,
        code: 1009,
        tolerate: {
          items: [binaryItem(new Uint8Array(BIG_BOMB_SIZE))],
          note: "the agent's default maxPayload is above 128 MiB, so this is not a bomb for it",
        },
      };
    },
    play: (s) => writeAll(s, s.compressedFrames(Opcode.Binary, new Uint8Array(BIG_BOMB_SIZE))),
    deflate: DEFAULT_DEFLATE,
    timeoutMs: 10_000,
    heavy: true,
  },
  {
    id: "12.7.12",
    description: "Send an empty compressed text message as the single byte 0x00 (RFC 7692 section 7.2.3.6)",
    expectation: "The client inflates it to an empty message and echoes an empty text message.",
    expect: { kind: "echo", items: [textItem("")] },
    play: async (s) => {
      s.write(rawFrame(Opcode.Text, bytes(0x00), { rsv: 4 }));
    },
    deflate: DEFAULT_DEFLATE,
  },
];

export const compressionPayloadCases: CaseDef[] = [
  ...payloadCases("1", JSON_TEXT),
  ...payloadCases("2", PROSE),
  ...payloadCases("3", NOISE),
  ...payloadCases("4", REPETITIVE),
  ...fragmentedCases,
  ...mixedCases,
  ...safetyCases,
];

// --- Section 13: parameters ---

/**
 * Each parameter set: what the agent offers (besides its defaults) and what the server imposes.
 * The agents compress every echo (`threshold: 0`) so their compressor works under the parameters.
 */
interface ParamSet {
  label: string;
  client: NonNullable<AgentConfig["perMessageDeflate"]>;
  server: DeflateCaseConfig["server"];
}

const PARAM_SETS: readonly ParamSet[] = [
  { label: "default parameters (context takeover, 15-bit windows)", client: {}, server: {} },
  {
    label:
      "no context takeover: the client requests server_no_context_takeover, the server requires client_no_context_takeover",
    client: { serverNoContextTakeover: true },
    server: { clientNoContextTakeover: true },
  },
  {
    label:
      "8-bit windows: the client requests server_max_window_bits=8, the server answers client_max_window_bits=8",
    client: { serverMaxWindowBits: 8 },
    server: { clientMaxWindowBits: 8 },
  },
  {
    label: "15-bit windows stated explicitly: server_max_window_bits=15 and client_max_window_bits=15",
    client: { serverMaxWindowBits: 15 },
    server: { clientMaxWindowBits: 15 },
  },
  {
    label: "no context takeover both ways and 8-bit windows",
    client: { serverNoContextTakeover: true, serverMaxWindowBits: 8 },
    server: { clientNoContextTakeover: true, clientMaxWindowBits: 8 },
  },
  {
    label: "no context takeover both ways and 15-bit windows stated explicitly",
    client: { serverNoContextTakeover: true, serverMaxWindowBits: 15 },
    server: { clientNoContextTakeover: true, clientMaxWindowBits: 15 },
  },
];

const BITS = [8, 9, 10, 11, 12, 13, 14, 15] as const;

/** 13.7: one parameter at a time, chosen by the server or offered by the client, and a few mixes. */
const VARIOUS: readonly ParamSet[] = [
  ...BITS.map((b) => ({
    label: `the server chooses server_max_window_bits=${b} unasked`,
    client: {},
    server: { serverMaxWindowBits: b },
  })),
  ...BITS.map((b) => ({
    label: `the server requires client_max_window_bits=${b}`,
    client: {},
    server: { clientMaxWindowBits: b },
  })),
  {
    label: "the server chooses server_no_context_takeover unasked",
    client: {},
    server: { serverNoContextTakeover: true },
  },
  {
    label: "the client offers client_no_context_takeover itself",
    client: { clientNoContextTakeover: true },
    server: {},
  },
  {
    label: "the client offers client_max_window_bits=10 itself",
    client: { clientMaxWindowBits: 10 },
    server: {},
  },
  {
    label: "the client requests server_max_window_bits=12, the server answers with a smaller 9",
    client: { serverMaxWindowBits: 12 },
    server: { serverMaxWindowBits: 9 },
  },
  {
    label: "everything at once: no context takeover both ways, server window 9, client window 11",
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9 },
    server: { serverMaxWindowBits: 9, clientMaxWindowBits: 11 },
  },
];

const VARIOUS_SIZE = 4096;

function paramCase(id: string, set: ParamSet, size: number, count: number): CaseDef {
  return echoCase(
    id,
    `Send ${count} compressed messages of ${sizeText(size)} of JSON-like text; ${set.label}`,
    { kind: JSON_TEXT, size, count },
    { server: set.server },
    { perMessageDeflate: { threshold: 0, ...set.client } },
  );
}

export const compressionParameterCases: CaseDef[] = [
  ...PARAM_SETS.flatMap((set, k) =>
    SIZES.map((size, i) => paramCase(`13.${k + 1}.${i + 1}`, set, size, countFor(size, 2 ** 19))),
  ),
  ...VARIOUS.map((set, i) => paramCase(`13.7.${i + 1}`, set, VARIOUS_SIZE, 50)),
];
