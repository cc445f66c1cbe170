/**
 * Argument checks shared by the networking functions, in the house style:
 * a TypeError or RangeError whose message names the function and the argument.
 */
import { MAX_HOST_TIMER_MS } from "../../core/clock.ts";
import { describe } from "../../core/operation.ts";

/** Throws unless `options` is a plain object (or, when `optional`, undefined). */
export function requireOptions(api: string, options: unknown, optional: boolean): void {
  if (options === undefined && optional) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
}

/** Throws unless `port` is an integer in [min, 65535]. */
export function requirePort(api: string, name: string, port: unknown, min: 0 | 1): asserts port is number {
  if (typeof port !== "number") throw new TypeError(`${api}: ${name} must be a number, got ${describe(port)}`);
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new RangeError(`${api}: ${name} must be an integer in [${min}, 65535], got ${port}`);
  }
}

/** Throws unless `host` is a non-empty string. */
export function requireHost(api: string, name: string, host: unknown): asserts host is string {
  if (typeof host !== "string") throw new TypeError(`${api}: ${name} must be a string, got ${describe(host)}`);
  if (host.length === 0) throw new RangeError(`${api}: ${name} must not be empty`);
}

/** Throws unless `family` is undefined, 4 or 6. */
export function requireFamily(api: string, family: unknown): asserts family is 4 | 6 | undefined {
  if (family !== undefined && family !== 4 && family !== 6) {
    throw new RangeError(`${api}: options.family must be 4, 6 or undefined, got ${describe(family)}`);
  }
}

/** Throws unless `value` is undefined or a boolean. */
export function requireOptionalBoolean(api: string, name: string, value: unknown): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${api}: ${name} must be a boolean, got ${describe(value)}`);
  }
}

/** Throws unless `value` is undefined or an integer >= `min`. */
export function requireOptionalCount(api: string, name: string, value: unknown, min: number): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number") throw new TypeError(`${api}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${api}: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Throws unless `value` is undefined or an integer number of milliseconds in [0, 2^31 - 1]. */
export function requireOptionalMs(api: string, name: string, value: unknown): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number") throw new TypeError(`${api}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < 0 || value > MAX_HOST_TIMER_MS) {
    throw new RangeError(`${api}: ${name} must be an integer number of milliseconds in [0, ${MAX_HOST_TIMER_MS}], got ${value}`);
  }
}
