/**
 * `all` and `any` (docs/semantics.md, «All and any»).
 */
import { callBody } from "../core/cancel.ts";
import { Cancelled } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { Semaphore } from "../sync/semaphore.ts";
import { withTaskGroup, type SpawnOptions, type TaskGroup } from "./task_group.ts";

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
 * Starts task `i` of `group` for each i below `n`, in order, waiting for a
 * permit of `permits` (when limited) before each start; a task releases its
 * permit when `work(i)` ends, however it ends.
 */
export function* startLimited(
  group: TaskGroup<void>,
  n: number,
  permits: Semaphore | null,
  work: (i: number) => Operation<void>,
  options?: SpawnOptions,
): Operation<void> {
  for (let i = 0; i < n; i++) {
    if (permits !== null) yield* permits.acquire();
    group.startSoon(function* () {
      try {
        yield* work(i);
      } finally {
        permits?.release();
      }
    }, options);
  }
}

/**
 * Options for {@link all}.
 *
 * @example
 * ```ts
 * const options: AllOptions = { maxConcurrent: 2 };
 * console.log(yield* all([function* () { return 1; }, function* () { return 2; }], options)); // prints [ 1, 2 ]
 * ```
 */
export interface AllOptions {
  /** How many bodies run at once (default: all of them); the others start as running ones end. */
  maxConcurrent?: number;
}

/**
 * Options for {@link any}.
 *
 * @example
 * ```ts
 * const options: AnyOptions = { maxConcurrent: 1, allowFailure: true };
 * const value = yield* any([function* (): Operation<number> { throw new Error("no"); }, function* () { return 2; }], options);
 * console.log(value); // prints 2
 * ```
 */
export interface AnyOptions {
  /** How many bodies run at once (default: all of them); the others start as running ones end. */
  maxConcurrent?: number;
  /** Keep trying the other bodies when one fails (default false: the first failure is thrown). */
  allowFailure?: boolean;
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
 * function* square(n: number): Operation<number> {
 *   yield* sleep(10 * (4 - n)); // the later ones finish first
 *   return n * n;
 * }
 * const squares = yield* all([1, 2, 3].map((n) => () => square(n)), { maxConcurrent: 2 });
 * console.log(squares); // prints [ 1, 4, 9 ] (input order)
 * ```
 */
export function all<const B extends Bodies>(bodies: B, options?: AllOptions): Operation<BodyResults<B>>;
/**
 * The form with an explicit element type, `all<T>(bodies)`: every body
 * returns a `T` and the result is a `T[]`.
 */
export function all<T>(bodies: readonly (() => Operation<T>)[], options?: AllOptions): Operation<T[]>;
export function* all(bodies: Bodies, options?: AllOptions): Operation<unknown[]> {
  validateBodies("all()", bodies);
  validateMaxConcurrent("all()", options?.maxConcurrent);
  const n = bodies.length;
  const results = new Array<unknown>(n);
  if (n === 0) return results;
  const permits = limiter(options?.maxConcurrent, n);
  yield* withTaskGroup<void>((group) =>
    startLimited(group, n, permits, function* (i) {
      results[i] = yield* callBody("all()", bodies[i]!);
    }),
  );
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
 * function* mirror(name: string, ms: number, works: boolean): Operation<string> {
 *   yield* sleep(ms);
 *   if (!works) throw new Error(`${name} is down`);
 *   return `from ${name}`;
 * }
 * const fastest = yield* any([() => mirror("a", 10, false), () => mirror("b", 30, true), () => mirror("c", 50, true)], {
 *   allowFailure: true,
 * });
 * console.log(fastest); // prints from b (a failed first, c was cancelled)
 * ```
 */
export function any<const B extends Bodies>(bodies: B, options?: AnyOptions): Operation<BodyResults<B>[number]>;
/**
 * The form with an explicit element type, `any<T>(bodies)`: every body
 * returns a `T`, and so does the call.
 */
export function any<T>(bodies: readonly (() => Operation<T>)[], options?: AnyOptions): Operation<T>;
export function* any(bodies: Bodies, options?: AnyOptions): Operation<unknown> {
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
  const race = (group: TaskGroup<void>): Operation<void> =>
    startLimited(
      group,
      n,
      permits,
      function* (i) {
        let result: T;
        try {
          result = yield* callBody("any()", bodies[i]!);
        } catch (error) {
          lastError = error;
          throw error;
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
