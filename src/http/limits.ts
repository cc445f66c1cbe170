/**
 * The limits a peer's message head is held to, so that a hostile peer
 * cannot make a connection hold unbounded memory.
 */
import { describe } from "../core/operation.ts";

/**
 * Limits on a message head, for the server (on requests) and the client (on
 * responses). A request over them is answered 414 or 431 and the
 * connection closed; a response over them fails the request.
 *
 * @example
 * ```ts
 * const limits: HttpLimits = { maxHeaderSize: 32 * 1024 };
 * console.log(resolveLimits("example", limits).maxStartLineLength); // prints 8192
 * ```
 */
export interface HttpLimits {
  /** The longest request line (or status line), in bytes, CRLF not counted. Default 8192 (over it: 414). */
  maxStartLineLength?: number;
  /** The largest header block (every field line with its CRLF), in bytes. Default 16384 (over it: 431). Also bounds a chunked body's trailers. */
  maxHeaderSize?: number;
  /** The most field lines in a head. Default 100 (over it: 431). */
  maxHeaderCount?: number;
}

/** {@link HttpLimits} with every default filled in. */
export type ResolvedHttpLimits = Required<HttpLimits>;

/** The defaults of {@link HttpLimits}. */
export const DEFAULT_LIMITS: ResolvedHttpLimits = Object.freeze({
  maxStartLineLength: 8192,
  maxHeaderSize: 16384,
  maxHeaderCount: 100,
});

/**
 * `limits` with defaults filled in; a TypeError or RangeError naming the bad
 * field (prefixed with `api`) for anything that is not a positive integer.
 *
 * @example
 * ```ts
 * console.log(resolveLimits("listenHttp()", { maxHeaderCount: 20 }).maxHeaderCount); // prints 20
 * ```
 */
export function resolveLimits(api: string, limits: HttpLimits | undefined): ResolvedHttpLimits {
  if (limits === undefined) return DEFAULT_LIMITS;
  if (typeof limits !== "object" || limits === null) {
    throw new TypeError(`${api}: limits must be an object, got ${describe(limits)}`);
  }
  return {
    maxStartLineLength: positive(api, "limits.maxStartLineLength", limits.maxStartLineLength, DEFAULT_LIMITS.maxStartLineLength),
    maxHeaderSize: positive(api, "limits.maxHeaderSize", limits.maxHeaderSize, DEFAULT_LIMITS.maxHeaderSize),
    maxHeaderCount: positive(api, "limits.maxHeaderCount", limits.maxHeaderCount, DEFAULT_LIMITS.maxHeaderCount),
  };
}

function positive(api: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${api}: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < 1) throw new RangeError(`${api}: ${name} must be at least 1, got ${value}`);
  return value;
}
