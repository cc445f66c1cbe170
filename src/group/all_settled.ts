/**
 * `allSettled` (docs/semantics.md, «allSettled»).
 */
import { callBody, isCancellationError } from "../core/cancel.ts";
import { Cancelled } from "../core/errors.ts";
import type { Operation } from "../core/operation.ts";
import { limiter, startLimited, validateBodies, validateMaxConcurrent, type Bodies, type BodyResults } from "./all_any.ts";
import { withTaskGroup } from "./task_group.ts";

/**
 * How one body of {@link allSettled} ended: `{ ok: true, value }` if it
 * returned, `{ ok: false, error }` if it threw, was cancelled, or never
 * started because the call was cancelled first (then `error` is a
 * `Cancelled`).
 *
 * @example
 * ```ts
 * const [r] = yield* allSettled([function* () { return 1; }]);
 * console.log(r.ok ? r.value : r.error); // prints 1
 * ```
 */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The result of {@link allSettled}: one {@link Settled} per body, position by position. */
export type SettledResults<B extends Bodies> = { -readonly [K in keyof B]: Settled<BodyResults<B>[K]> };

/** The options of {@link allSettled}. */
export interface AllSettledOptions {
  /** At most this many bodies run at once (an integer >= 1, or Infinity, the default); they start in input order. */
  maxConcurrent?: number;
}

/**
 * Runs every body concurrently (at most `maxConcurrent` at a time, started in
 * order) and waits for all of them: a failure does not cancel the others.
 * Returns one {@link Settled} per body, in input order.
 *
 * Cancellation loses nothing that finished. When the caller is cancelled
 * (by its group, by a timeout around it), the bodies still running are
 * cancelled and waited for; each one cut short settles as
 * `{ ok: false, error: Cancelled }`, as does each one that had not started,
 * and `allSettled` still **returns** the array, with the results of the
 * bodies that had finished. The caller meets its cancellation at its next
 * suspension point. So `withTimeout(ms, () => allSettled(…))` returns the
 * array (with `Cancelled` entries for the cut-short bodies) rather than
 * throwing `TimeoutError`: the body of the timeout returned. Tell a
 * cut-short body with `isCancellationError(entry.error)`.
 *
 * @example
 * ```ts
 * const results = yield* withTimeout(100, () =>
 *   allSettled([
 *     function* () { yield* sleep(10); return "fast"; },
 *     function* (): Operation<string> { throw new Error("boom"); },
 *     function* () { yield* sleep(60_000); return "slow"; },
 *   ]),
 * );
 * for (const r of results) console.log(r.ok ? r.value : isCancellationError(r.error) ? "cut short" : String(r.error));
 * // prints fast, then Error: boom, then cut short
 * ```
 */
export function allSettled<const B extends Bodies>(bodies: B, options?: AllSettledOptions): Operation<SettledResults<B>>;
/**
 * The form with an explicit element type, `allSettled<T>(bodies)`: every
 * body returns a `T` and the result is a `Settled<T>[]`.
 */
export function allSettled<T>(bodies: readonly (() => Operation<T>)[], options?: AllSettledOptions): Operation<Settled<T>[]>;
export function* allSettled(bodies: Bodies, options?: AllSettledOptions): Operation<Settled<unknown>[]> {
  validateBodies("allSettled()", bodies);
  validateMaxConcurrent("allSettled()", options?.maxConcurrent);
  const n = bodies.length;
  const results = new Array<Settled<unknown> | undefined>(n).fill(undefined);
  if (n === 0) return [];
  const permits = limiter(options?.maxConcurrent, n);
  try {
    yield* withTaskGroup<void>((group) =>
      startLimited(group, n, permits, function* (i) {
        try {
          results[i] = { ok: true, value: yield* callBody("allSettled()", bodies[i]!) };
        } catch (error) {
          results[i] = { ok: false, error };
        }
      }),
    );
  } catch (error) {
    // The children never throw, so only the starting loop can: cancelled
    // while it waited for a permit. The started bodies have settled (the
    // group waited for them); the others never ran.
    if (!isCancellationError(error)) throw error;
  }
  for (let i = 0; i < n; i++) if (results[i] === undefined) results[i] = { ok: false, error: new Cancelled() };
  return results as Settled<unknown>[];
}
