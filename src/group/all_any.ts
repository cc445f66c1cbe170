/**
 * `all` and `any` (docs/semantics.md, «All and any»).
 */
import { callBody } from "../core/cancel.ts";
import { Cancelled } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { Semaphore } from "../sync/semaphore.ts";
import { withTaskGroup, type TaskGroup } from "./task_group.ts";

/** Throws a TypeError naming `api` unless `bodies` is an array of functions. */
export function validateBodies(api: string, bodies: unknown): asserts bodies is Array<() => Operation<unknown>> {
  if (!Array.isArray(bodies)) throw new TypeError(`${api}: bodies must be an array of functions, got ${describe(bodies)}`);
  for (let i = 0; i < bodies.length; i++) requireFunction(api, `bodies[${i}]`, bodies[i]);
}

/** Throws a RangeError naming `api` unless `max` is absent, Infinity or an integer >= 1. */
export function validateMaxConcurrent(api: string, max: unknown): void {
  if (max === undefined || max === Infinity) return;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    throw new RangeError(`${api}: maxConcurrent must be an integer >= 1 (or Infinity), got ${describe(max)}`);
  }
}

/**
 * A list of bodies as `all` and `any` take it: an array, or a tuple whose
 * elements may return different types.
 */
export type Bodies = readonly (() => Operation<unknown>)[];

/**
 * The result types of a list of bodies, position by position: a tuple of
 * bodies maps to a tuple of results, an array of bodies to an array.
 */
export type BodyResults<B extends Bodies> = { -readonly [K in keyof B]: B[K] extends () => Operation<infer R> ? R : never };

/** The semaphore that enforces `maxConcurrent`, or null when it limits nothing. */
export function limiter(max: number | undefined, count: number): Semaphore | null {
  return max === undefined || max >= count ? null : new Semaphore(max);
}

/**
 * Runs every body concurrently (at most `maxConcurrent` at a time, started in
 * order) and returns their values in input order. The first failure cancels
 * the rest and is thrown once they have ended. If the caller is cancelled
 * when every body has already returned, the values are returned (the caller
 * meets its cancellation at its next suspension point); otherwise `Cancelled`
 * is thrown once the bodies have unwound.
 *
 * @example
 * ```ts
 * const pages = yield* all(urls.map((u) => () => fetchPage(u)), { maxConcurrent: 8 });
 * ```
 */
export function all<const B extends Bodies>(bodies: B, options?: { maxConcurrent?: number }): Operation<BodyResults<B>>;
/**
 * The form with an explicit element type, `all<T>(bodies)`: every body
 * returns a `T` and the result is a `T[]`.
 */
export function all<T>(bodies: readonly (() => Operation<T>)[], options?: { maxConcurrent?: number }): Operation<T[]>;
export function* all(bodies: Bodies, options?: { maxConcurrent?: number }): Operation<unknown[]> {
  validateBodies("all()", bodies);
  validateMaxConcurrent("all()", options?.maxConcurrent);
  const n = bodies.length;
  const results = new Array<unknown>(n);
  if (n === 0) return results;
  const permits = limiter(options?.maxConcurrent, n);
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < n; i++) {
      const body = bodies[i]!;
      if (permits !== null) yield* permits.acquire();
      group.startSoon(function* () {
        try {
          results[i] = yield* callBody("all()", body);
        } finally {
          permits?.release();
        }
      });
    }
  });
  return results;
}

/**
 * Runs the bodies concurrently (at most `maxConcurrent` at a time, started in
 * order) and returns the value of the first to succeed, cancelling the rest.
 * A failure fails the whole call, unless `allowFailure` is set: then failures
 * are ignored while any body may still succeed, and if all fail the error of
 * the last one to fail is thrown. An empty list throws `RangeError`. A body
 * that succeeded before a cancellation of the caller reached it still wins.
 *
 * @example
 * ```ts
 * const fastest = yield* any(mirrors.map((m) => () => fetchFrom(m)), { allowFailure: true });
 * ```
 */
export function any<const B extends Bodies>(
  bodies: B,
  options?: { maxConcurrent?: number; allowFailure?: boolean },
): Operation<BodyResults<B>[number]>;
/**
 * The form with an explicit element type, `any<T>(bodies)`: every body
 * returns a `T`, and so does the call.
 */
export function any<T>(bodies: readonly (() => Operation<T>)[], options?: { maxConcurrent?: number; allowFailure?: boolean }): Operation<T>;
export function* any(bodies: Bodies, options?: { maxConcurrent?: number; allowFailure?: boolean }): Operation<unknown> {
  type T = unknown;
  validateBodies("any()", bodies);
  validateMaxConcurrent("any()", options?.maxConcurrent);
  const n = bodies.length;
  if (n === 0) throw new RangeError("any(): bodies must not be empty");
  const allowFailure = options?.allowFailure === true;
  const permits = limiter(options?.maxConcurrent, n);
  let won = false;
  let value: T | undefined;
  let lastError: unknown;
  const race = function* (group: TaskGroup<void>): Operation<void> {
    for (let i = 0; i < n; i++) {
      const body = bodies[i]!;
      if (permits !== null) yield* permits.acquire();
      group.startSoon(
        function* () {
          let result: T;
          try {
            result = yield* callBody("any()", body);
          } catch (error) {
            lastError = error;
            throw error;
          } finally {
            permits?.release();
          }
          // The first success decides; a late one cannot replace it.
          if (!won) {
            won = true;
            value = result;
          }
          group.returnImmediately(undefined);
        },
        { allowFailure },
      );
    }
  };
  try {
    yield* withTaskGroup<void>(race);
  } catch (error) {
    // The caller was cancelled after a body had won: the winner's operation
    // completed, so its value is the outcome (the caller meets its
    // cancellation at its next suspension point).
    if (won && error instanceof Cancelled) return value as T;
    throw error;
  }
  if (won) return value as T;
  throw lastError;
}
