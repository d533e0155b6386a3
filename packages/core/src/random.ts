/**
 * The core's one random source, for mask keys and the handshake key: the platform CSPRNG, which
 * every target runtime has as `crypto.getRandomValues` (at most 65536 bytes per call; MaskKeys splits
 * larger fills). Options named `randomFill` replace it, so tests can inject a deterministic one.
 */
export function platformRandomFill(bytes: Uint8Array): void {
  globalThis.crypto.getRandomValues(bytes);
}
