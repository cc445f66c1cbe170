/**
 * Errors from the operating system, as weft/node's fs functions report them:
 * Node's error with the weft function's name in front of its message and
 * every field Node set (`code`, `errno`, `syscall`, `path`, `dest`) kept.
 * Also the argument checks the fs functions share.
 */
import { describe } from "../../core/operation.ts";

/** What a Node OS error carries; weft's fs errors carry the same. */
export interface OsError extends Error {
  /** The error code: `"ENOENT"`, `"EEXIST"`, `"EISDIR"`, … */
  code?: string;
  /** The (negative) errno number. */
  errno?: number;
  /** The system call that failed. */
  syscall?: string;
  /** The path the call was about. */
  path?: string;
  /** The second path of a two-path call (rename, link). */
  dest?: string;
}

const FIELDS = ["code", "errno", "syscall", "path", "dest"] as const;

/**
 * Returns `error` renamed for `api`: a new Error whose message starts with
 * `api` and whose `cause` is Node's error. When Node's error names no path
 * (calls on a file descriptor), `path` is added to it. Anything that is not a
 * Node OS error (no string `code`: `Cancelled`, a body's own error) is
 * returned unchanged.
 */
export function osError(api: string, error: unknown, path?: string): unknown {
  if (!(error instanceof Error)) return error;
  const source = error as OsError;
  if (typeof source.code !== "string") return error;
  let message = `${api}: ${source.message}`;
  if (source.path === undefined && path !== undefined) message += ` '${path}'`;
  const wrapped: OsError = new Error(message, { cause: error });
  for (const field of FIELDS) {
    const value = source[field];
    if (value !== undefined) (wrapped as unknown as Record<string, unknown>)[field] = value;
  }
  if (wrapped.path === undefined && path !== undefined) wrapped.path = path;
  return wrapped;
}

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

/** Throws unless `value` is undefined or a permission mode (an integer in [0, 0o7777]). */
export function requireMode(api: string, name: string, value: unknown): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${api}: ${name} must be an integer permission mode such as 0o644, got ${describe(value)}`);
  }
  if (value < 0 || value > 0o7777) throw new RangeError(`${api}: ${name} must be in [0, 0o7777], got 0o${value.toString(8)}`);
}
