/**
 * The argument checks weft/node's fs functions share, and errors for
 * conditions weft detects itself.
 */
import { describe } from "../../core/operation.ts";
import type { OsError } from "../os_error.ts";

export { osError, type OsError } from "../os_error.ts";

/** An OS-style error for a condition weft detects itself (for example seeking a pipe). */
export function makeOsError(api: string, code: string, text: string, path: string): OsError {
  return Object.assign(new Error(`${api}: ${code}: ${text}, '${path}'`), { code, path });
}

/** Throws a TypeError naming `name` unless `value` is a usable path (a non-empty string without NUL). */
export function requirePath(api: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== "string") throw new TypeError(`${api}: ${name} must be a path string, got ${describe(value)}`);
  if (value.length === 0) throw new TypeError(`${api}: ${name} must not be empty`);
  if (value.includes("\0")) throw new TypeError(`${api}: ${name} must not contain a NUL character`);
}

/** Throws a TypeError naming `name` unless `value` is an object or undefined; returns it as an options bag. */
export function requireOptions<T extends object>(api: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`${api}: options must be an object, got ${describe(value)}`);
  }
  return value as Partial<T>;
}

/** Throws a TypeError naming the option unless `value` is a boolean or undefined. */
export function requireBoolean(api: string, name: string, value: unknown): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`${api}: ${name} must be a boolean, got ${describe(value)}`);
  }
}

/**
 * `value` as a permission mode (an integer in [0, 0o7777]) or undefined;
 * throws a TypeError/RangeError naming `name` otherwise. -0 becomes 0: Node's
 * native fs bindings abort the whole process on a -0 mode.
 */
export function modeOption(api: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${api}: ${name} must be an integer permission mode such as 0o644, got ${describe(value)}`);
  }
  if (value < 0 || value > 0o7777) throw new RangeError(`${api}: ${name} must be in [0, 0o7777], got ${describe(value)}`);
  return value + 0;
}
