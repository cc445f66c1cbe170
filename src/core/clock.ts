/**
 * The host's monotonic clock in milliseconds: `performance.now()` where the
 * host has it, `Date.now()` otherwise. Its absolute value means nothing.
 */
interface MaybePerformance {
  performance?: { now(): number };
}

const perf = (globalThis as MaybePerformance).performance;

export const hostClock: () => number = perf !== undefined && typeof perf.now === "function" ? () => perf.now() : () => Date.now();

/**
 * The longest delay a host timer holds: 2^31 - 1 ms, about 24.8 days. Node
 * and browsers turn a longer one into 1 ms (Node warns each time), so a
 * longer wait is armed in steps of at most this.
 */
export const MAX_HOST_TIMER_MS = 2 ** 31 - 1;
