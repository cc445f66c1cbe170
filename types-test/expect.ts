/**
 * Compile-time assertions. Nothing here runs: a failed assertion is a type
 * error reported by `tsc`, which is what `npm run check:types` checks.
 */

/** True when `A` and `B` are the same type (not merely assignable either way). */
export type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;

/**
 * Asserts that `value` has exactly the type `T`: `expectType<number>()(x)`.
 * Curried so that `T` is given and the value's type is inferred separately.
 */
export function expectType<T>(): <V>(value: V & (Equal<T, V> extends true ? unknown : { "type mismatch": [expected: T, got: V] })) => void {
  return () => {};
}

/** Asserts at the type level that `T` is `true` (for use with `Equal`). */
export type Assert<T extends true> = T;
