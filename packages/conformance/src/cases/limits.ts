/**
 * Section 9: limits and performance. Big messages (up to 16 MiB, within every sane default limit:
 * `ws` and Tideway default to 100 MiB), many fragments, small chops, and many small round trips. Each
 * case bounds its own time; they run one at a time so they do not skew the timing of others.
 */

import type { CaseDef } from "../case.js";
import type { Session } from "../session.js";
import type { Item } from "../types.js";
import { asciiPayload, binaryItem, binaryPayload, f, textItem } from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
const FRAGMENTS = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
const CHOPS = [64, 128, 256, 512, 1024, 2048];
const ROUND_TRIP_SIZES = [0, 16, 64, 256, KiB, 4 * KiB];
const ROUND_TRIPS = 1000;

type Kind = "text" | "binary";
const payloadOf = (k: Kind, n: number) => (k === "text" ? asciiPayload(n) : binaryPayload(n));
const itemOf = (k: Kind, p: Uint8Array): Item => (k === "text" ? textItem(p) : binaryItem(p));
const size = (n: number) => (n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`);

/** Frames of one message, `fragment` bytes of payload each. */
function fragmented(k: Kind, p: Uint8Array, fragment: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < p.length; at += fragment) {
    const part = p.subarray(at, at + fragment);
    const fin = at + fragment >= p.length;
    frames.push(at === 0 ? (k === "text" ? f.text(part, fin) : f.binary(part, fin)) : f.cont(part, fin));
  }
  return frames;
}

const heavy = (timeoutMs: number) => ({ heavy: true, timeoutMs });

function bigMessages(sub: number, k: Kind): CaseDef[] {
  return SIZES.map((n, i) => ({
    id: `9.${sub}.${i + 1}`,
    description: `Send a ${k} message of ${size(n)} in one frame`,
    expectation: "The client echoes it exactly.",
    expect: { kind: "echo", items: [itemOf(k, payloadOf(k, n))], limitLatitude: true },
    play: async (s: Session) => s.write(k === "text" ? f.text(payloadOf(k, n)) : f.binary(payloadOf(k, n))),
    ...heavy(10_000),
  }));
}

function manyFragments(sub: number, k: Kind): CaseDef[] {
  const p = payloadOf(k, 4 * MiB);
  return FRAGMENTS.map((frag, i) => ({
    id: `9.${sub}.${i + 1}`,
    description: `Send a ${k} message of 4 MiB in fragments of ${size(frag)}`,
    expectation: "The client reassembles and echoes it exactly.",
    expect: { kind: "echo", items: [itemOf(k, p)], limitLatitude: true },
    play: async (s: Session) => {
      for (const frame of fragmented(k, p, frag)) s.write(frame);
    },
    ...heavy(10_000),
  }));
}

function chopped(sub: number, k: Kind): CaseDef[] {
  const p = payloadOf(k, MiB);
  return CHOPS.map((chop, i) => ({
    id: `9.${sub}.${i + 1}`,
    description: `Send a ${k} message of 1 MiB in one frame, delivered in chops of ${chop} octets`,
    expectation: "The client reassembles the frame across reads and echoes it exactly.",
    expect: { kind: "echo", items: [itemOf(k, p)], limitLatitude: true },
    play: (s: Session) => s.chopped(k === "text" ? f.text(p) : f.binary(p), chop),
    ...heavy(10_000),
  }));
}

function roundTrips(sub: number, k: Kind): CaseDef[] {
  return ROUND_TRIP_SIZES.map((n, i) => {
    const p = payloadOf(k, n);
    return {
      id: `9.${sub}.${i + 1}`,
      description: `Send ${ROUND_TRIPS} ${k} messages of ${size(n)}, each after the previous echo`,
      expectation: `The client echoes all ${ROUND_TRIPS} messages in order.`,
      expect: { kind: "echo", items: Array.from({ length: ROUND_TRIPS }, () => itemOf(k, p)) },
      play: async (s: Session) => {
        const frame = k === "text" ? f.text(p) : f.binary(p);
        for (let j = 0; j < ROUND_TRIPS; j++) {
          s.write(frame);
          if (!(await s.waitUntil(() => s.obs.items.length > j || s.clientDone, 2000))) return;
          if (s.clientDone) return;
        }
      },
      ...heavy(10_000),
    };
  });
}

export const limitsCases: CaseDef[] = [
  ...bigMessages(1, "text"),
  ...bigMessages(2, "binary"),
  ...manyFragments(3, "text"),
  ...manyFragments(4, "binary"),
  ...chopped(5, "text"),
  ...chopped(6, "binary"),
  ...roundTrips(7, "text"),
  ...roundTrips(8, "binary"),
];
