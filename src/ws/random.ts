/**
 * Random bytes for what RFC 6455 wants unpredictable: a client's mask keys
 * (§5.3) and its `Sec-WebSocket-Key` (§4.1). They come from the host's
 * `crypto.getRandomValues`. A host without it (an embedded engine whose
 * embedder gave none) gets a `WeftUsageError` that says what is missing,
 * rather than predictable keys from `Math.random`.
 */
import { WeftUsageError } from "../core/errors.ts";

type RandomSource = { getRandomValues(bytes: Uint8Array): unknown };

function source(api: string): RandomSource {
  const crypto = (globalThis as { crypto?: Partial<RandomSource> }).crypto;
  if (crypto === undefined || typeof crypto.getRandomValues !== "function") {
    throw new WeftUsageError(
      `${api}: a WebSocket client needs crypto.getRandomValues for its mask keys (RFC 6455 §5.3), and this host has none; ` +
        "an embedder can provide one backed by its platform's random source",
    );
  }
  return crypto as RandomSource;
}

/** Throws the WeftUsageError above now, when the host has no random source. */
export function requireRandom(api: string): void {
  source(api);
}

/** Fills `bytes` with random bytes (at most 65,536 at a time, as `getRandomValues` allows). */
export function fillRandom(bytes: Uint8Array, api: string): void {
  source(api).getRandomValues(bytes);
}
