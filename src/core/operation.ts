/**
 * The shape of a suspending operation and the private tokens that pass between
 * a suspension point and the scheduler.
 *
 * A task's body is a generator. A suspension point is an iterator that the
 * body delegates to with `yield*`: its first `next()` either finishes at once
 * (a fast path) or yields {@link SUSPEND} up through every `yield*` to the
 * scheduler. The scheduler resumes the task with `next(RESUME)` (the
 * suspension point then returns its result) or with `throw(error)` (it cleans
 * up and rethrows, or swallows the error when its operation already succeeded).
 *
 * @module
 */

/**
 * What a `function*` body returns, and what every suspending weft API returns:
 * use it with `yield*`.
 *
 * @example
 * ```ts
 * function* fetchTwice(): Operation<number> {
 *   yield* sleep(10);
 *   return 2;
 * }
 * const n = yield* fetchTwice(); // from async code: `await run(fetchTwice)`
 * console.log(n); // prints 2
 * ```
 */
export type Operation<T> = Generator<unknown, T, unknown>;

/** Yielded by a suspension point to tell the scheduler the task has parked. */
export const SUSPEND: unique symbol = Symbol("weft.suspend");

/**
 * Passed to `next()` by the scheduler when it resumes a parked task normally.
 * A suspension point's first `next()` always gets `undefined` (that is what
 * `yield*` and a task's start pass), so hot suspension points tell the two
 * apart with `value !== undefined`, a comparison with a literal.
 */
export const RESUME: unique symbol = Symbol("weft.resume");

/** The result a suspension point returns from its first `next()` when it parks. */
export const SUSPENDED_RESULT: IteratorResult<unknown, never> = Object.freeze({
  done: false,
  value: SUSPEND,
});

/** The result of a suspension point that completes with no value. */
export const DONE_VOID: IteratorResult<never, undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/**
 * The base of weft's hand-written suspension points: an iterator that is its
 * own iterable, so `yield*` can delegate to it without allocating.
 */
export abstract class SuspensionPoint<T> {
  [Symbol.iterator](): this {
    return this;
  }
  abstract next(value?: unknown): IteratorResult<unknown, T>;
  abstract throw(error: unknown): IteratorResult<unknown, T>;
  return(value: T): IteratorResult<unknown, T> {
    return { done: true, value };
  }
}

/** Views a suspension point as the `Operation` type that users `yield*`. */
export function asOperation<T>(point: SuspensionPoint<T>): Operation<T> {
  return point as unknown as Operation<T>;
}

/** An operation that has already finished with no value. */
class Finished extends SuspensionPoint<void> {
  next(): IteratorResult<unknown, void> {
    return DONE_VOID;
  }
  throw(error: unknown): IteratorResult<unknown, void> {
    throw error;
  }
}

/**
 * An operation that is already finished, for an operation written as a plain
 * function whose common case completes at once (a write that a socket or a
 * buffer took): it returns this instead of running a generator. Stateless, so
 * one serves every caller.
 */
export const FINISHED: Operation<void> = asOperation(new Finished());

/**
 * `%GeneratorPrototype%`, which every native generator inherits `next` and
 * `throw` from. Each generator function gives its generators a prototype of
 * their own in between, so `gen.next` read through many bodies is a
 * megamorphic load (6.8% of a condition-variable ping-pong's samples on V8);
 * calling the built-ins directly is one known target.
 */
const generatorPrototype = Object.getPrototypeOf(Object.getPrototypeOf((function* () {})())) as Generator<unknown, unknown, unknown>;

/** The built-in `next` of native generators. */
export const nativeNext: (this: Iterator<unknown, unknown, unknown>, value: unknown) => IteratorResult<unknown, unknown> =
  generatorPrototype.next;

/** The built-in `throw` of native generators. */
export const nativeThrow: (this: Iterator<unknown, unknown, unknown>, error: unknown) => IteratorResult<unknown, unknown> =
  generatorPrototype.throw;

/**
 * Whether `value` (already known to be an operation) answers `next` and
 * `throw` with the built-ins: the methods are compared, not the prototype, so
 * a generator whose `next` was replaced (on itself or on its function's
 * `prototype`) keeps being called through its own methods.
 */
export function hasNativeGeneratorMethods(value: Operation<unknown>): boolean {
  return value.next === nativeNext && value.throw === nativeThrow;
}

/** True for anything `yield*` can delegate to as a weft body's result. */
export function isOperation(value: unknown): value is Operation<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { next?: unknown }).next === "function" &&
    typeof (value as { throw?: unknown }).throw === "function"
  );
}

/** Describes a value for an error message without dumping it whole. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    if (typeof (value as { then?: unknown }).then === "function") return "a Promise";
    return Array.isArray(value) ? "an array" : "an object";
  }
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Throws a TypeError naming `name` unless `value` is a function (by default, a body). */
export function requireFunction(
  api: string,
  name: string,
  value: unknown,
  expected = "a function returning an Operation (a function* generator)",
): void {
  if (typeof value !== "function") throw new TypeError(`${api}: ${name} must be ${expected}, got ${describe(value)}`);
}

/** Throws unless `ms` is a finite number of milliseconds that is at least 0. */
export function requireDuration(api: string, name: string, ms: unknown): asserts ms is number {
  if (typeof ms !== "number") {
    throw new TypeError(`${api}: ${name} must be a number of milliseconds, got ${describe(ms)}`);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${api}: ${name} must be a finite number of milliseconds >= 0, got ${ms}`);
  }
}
