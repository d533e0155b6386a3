/**
 * The case registry: every section in order. A case's number in `/runCase?case=N` is its 1-based
 * position in `ALL_CASES`, as in Autobahn.
 */
import type { CaseDef } from "../case.js";
import { autoFragmentCases } from "./autofragment.js";
import { closeCases } from "./close.js";
import { compressionParameterCases, compressionPayloadCases } from "./compression.js";
import { fragmentationCases } from "./fragmentation.js";
import { framingCases } from "./framing.js";
import { limitsCases } from "./limits.js";
import { pingPongCases } from "./pingpong.js";
import { reservedBitsCases, reservedOpcodeCases } from "./reserved.js";
import { utf8Cases } from "./utf8.js";

export interface Section {
  id: string;
  title: string;
  cases: CaseDef[];
  /** Why a section has no cases yet. */
  pending?: string;
}

export const SECTIONS: readonly Section[] = [
  { id: "1", title: "Framing", cases: framingCases },
  { id: "2", title: "Pings and pongs", cases: pingPongCases },
  { id: "3", title: "Reserved bits", cases: reservedBitsCases },
  { id: "4", title: "Reserved opcodes", cases: reservedOpcodeCases },
  { id: "5", title: "Fragmentation", cases: fragmentationCases },
  { id: "6", title: "UTF-8 handling", cases: utf8Cases },
  { id: "7", title: "Close handling", cases: closeCases },
  { id: "9", title: "Limits and performance", cases: limitsCases },
  { id: "10", title: "Auto-fragmentation", cases: autoFragmentCases },
  // Compression: these cases negotiate permessage-deflate in their handshake (see deflate.ts).
  { id: "12", title: "WebSocket compression (different payloads)", cases: compressionPayloadCases },
  { id: "13", title: "WebSocket compression (different parameters)", cases: compressionParameterCases },
];

export const ALL_CASES: readonly CaseDef[] = SECTIONS.flatMap((s) => s.cases);

/** The section a case id belongs to ("6.4.1" -> "6"). */
export const sectionOf = (id: string): string => id.split(".")[0]!;
