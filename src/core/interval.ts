/**
 * `interval(ms)`: ticks on a fixed beat (docs/semantics.md, «Interval»).
 */
import type { ItemSource } from "../interop/each.ts";
import { budgetYield, overBudget } from "./budget.ts";
import { describe, requireDuration, type Operation } from "./operation.ts";
import { now, sleep } from "./sleep.ts";

/**
 * Ticks every `ms` milliseconds on a fixed beat: tick `n` is due at
 * `start + n * ms`, where `start` is the clock when the first tick was asked
 * for, so the time the consumer spends between ticks never shifts the beat.
 * A consumer that is late gets, at once, only the latest tick that fell due;
 * the ticks it missed before that one are skipped, not queued, and the tick
 * numbers show the gap. A `tick()` that is cancelled takes no tick.
 *
 * @example
 * ```ts
 * const ticks = interval(10);
 * console.log(yield* ticks.tick()); // prints 1 (10 ms after the first call)
 * yield* sleep(35);                 // a slow consumer: now 45 ms
 * console.log(yield* ticks.tick()); // prints 4, at once: ticks 2 and 3 are skipped (later, if the host stalled)
 * console.log(yield* ticks.tick()); // prints 5, at 50 ms: back on the beat
 * ```
 */
export class Interval implements ItemSource<number> {
  readonly #ms: number;
  #start = Number.NaN;
  #last = 0;

  /**
   * Creates an interval; prefer {@link interval}.
   *
   * @param ms the period in milliseconds, finite and > 0
   */
  constructor(ms: number) {
    requireDuration("interval()", "ms", ms);
    if (ms === 0) throw new RangeError(`interval(): ms must be > 0, got ${describe(ms)}`);
    this.#ms = ms;
  }

  /** The period in milliseconds. */
  get ms(): number {
    return this.#ms;
  }

  /**
   * Waits for the next tick and returns its number (1, 2, …): at once if a
   * tick fell due since the last one taken (the latest such tick, skipping
   * the earlier ones), else when the next one falls due. A tick taken at once
   * spends the task's cooperative budget (docs/semantics.md, «Cooperative
   * budget»): a consumer slower than the beat still lets its siblings run.
   */
  *tick(): Operation<number> {
    const ms = this.#ms;
    let t = now();
    if (Number.isNaN(this.#start)) this.#start = t;
    const start = this.#start;
    let due = this.#dueAt(t);
    if (due > this.#last && overBudget()) {
      // The tick is taken after the yield, so it is the latest one due then.
      yield* budgetYield();
      t = now();
      due = this.#dueAt(t);
    }
    if (due <= this.#last) {
      const next = this.#last + 1;
      yield* sleep(Math.max(0, start + next * ms - t));
      t = now();
      // A stalled host may wake us after several more ticks fell due: take the latest.
      due = Math.max(next, this.#dueAt(t));
    }
    this.#last = due;
    return due;
  }

  /** The number of the latest tick due at time `t` (0: none yet). */
  #dueAt(t: number): number {
    const ms = this.#ms;
    const start = this.#start;
    let n = Math.floor((t - start) / ms);
    // Division can round up across a boundary; the deadline itself decides.
    if (n > 0 && start + n * ms > t) n--;
    return Math.max(n, 0);
  }

  /** The {@link ItemSource} form of {@link Interval.tick}, so `each` can loop over ticks; it never ends. */
  *nextItem(): Operation<IteratorResult<number, unknown>> {
    return { done: false, value: yield* this.tick() };
  }
}

/**
 * Ticks every `ms` milliseconds without drift and without a pile-up of
 * missed ticks (see {@link Interval}). Loop over it with `each`, and end the
 * loop the way any weft loop ends: a timeout, a cancellation, or a throw.
 *
 * @example
 * ```ts
 * const started = now();
 * yield* withTimeoutOpt(55, () =>
 *   each(interval(10), function* (n) {
 *     console.log(n, now() - started >= n * 10); // prints 1 true, 2 true, …: a tick is never early
 *   }),
 * );
 * ```
 */
export function interval(ms: number): Interval {
  return new Interval(ms);
}
