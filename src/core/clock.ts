/**
 * The host's monotonic clock in milliseconds: `performance.now()` where the
 * host has it, `Date.now()` otherwise. Its absolute value means nothing.
 */
interface MaybePerformance {
  performance?: { now(): number };
}

const perf = (globalThis as MaybePerformance).performance;

export const hostClock: () => number =
  perf !== undefined && typeof perf.now === "function" ? () => perf.now() : () => Date.now();
