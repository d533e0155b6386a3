// `pnpm fuzz [seconds]`: runs the fuzz properties of fuzz/properties.ts until the time is up and
// reports how many inputs ran. A failure prints fast-check's shrunk counterexample and its seed.
import fc from "fast-check";
import { framesProperty, handshakeProperty } from "./properties.js";

const seconds = Number(process.argv[2] ?? process.env.FUZZ_SECONDS ?? 60);
const deadline = Date.now() + seconds * 1000;
const counts = { frames: 0, handshake: 0 };
const batch = 2000;
while (Date.now() < deadline) {
  fc.assert(framesProperty, { numRuns: batch });
  counts.frames += batch;
  fc.assert(handshakeProperty, { numRuns: batch / 4 });
  counts.handshake += batch / 4;
}
console.log(
  `fuzz: ${counts.frames} frame streams and ${counts.handshake} handshake responses in ${seconds}s, no oracle violation`,
);
