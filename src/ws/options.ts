/**
 * `WebSocketOptions` and their validation.
 */
import { describe, requireDuration } from "../core/operation.ts";

/**
 * Limits and timeouts of a {@link WebSocket}.
 *
 * @example
 * ```ts
 * const options: WebSocketOptions = { maxMessageSize: 1024 * 1024, closeTimeout: 5_000 };
 * console.log(options.maxMessageSize); // prints 1048576
 * ```
 */
export interface WebSocketOptions {
  /**
   * The largest message accepted, in bytes (64 MiB by default). A frame
   * header that would take a message past it fails the connection with 1009
   * before any of its payload is read.
   */
  maxMessageSize?: number;
  /** The largest frame accepted, in bytes (by default `maxMessageSize`); a larger one fails the connection with 1009. */
  maxFrameSize?: number;
  /**
   * How long `close()` waits for the peer's CLOSE frame after sending its
   * own, in milliseconds (30 s by default); the transport is then dropped.
   */
  closeTimeout?: number;
}

/** The options with their defaults applied. */
export interface ResolvedWebSocketOptions {
  readonly maxMessageSize: number;
  readonly maxFrameSize: number;
  readonly closeTimeout: number;
}

/** 64 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** 30 s. */
export const DEFAULT_CLOSE_TIMEOUT = 30_000;

function size(api: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`${api}: options.${name} must be a safe integer, got ${describe(value)}`);
  }
  if (value < 1) throw new RangeError(`${api}: options.${name} must be at least 1, got ${value}`);
  return value;
}

/**
 * Validates `options` (TypeError/RangeError naming the option) and applies the defaults.
 *
 * @param api the operation to name in errors
 * @param options what the caller passed
 */
export function resolveWebSocketOptions(api: string, options: unknown): ResolvedWebSocketOptions {
  if (options === undefined) {
    return { maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, maxFrameSize: DEFAULT_MAX_MESSAGE_SIZE, closeTimeout: DEFAULT_CLOSE_TIMEOUT };
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  const o = options as WebSocketOptions;
  const maxMessageSize = size(api, "maxMessageSize", o.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
  const maxFrameSize = size(api, "maxFrameSize", o.maxFrameSize, maxMessageSize);
  return { maxMessageSize, maxFrameSize, closeTimeout: resolveCloseTimeout(api, o.closeTimeout) };
}

/**
 * Validates a `closeTimeout` option (a finite number of milliseconds, at
 * least 0, as every weft duration) and applies the default, 30 s.
 *
 * @param api the operation to name in errors
 * @param value what the caller passed
 */
export function resolveCloseTimeout(api: string, value: unknown): number {
  if (value === undefined) return DEFAULT_CLOSE_TIMEOUT;
  // NaN is not a number of milliseconds at all (a TypeError, as weftjs/ws has always said); the rest is every duration's check.
  if (typeof value === "number" && Number.isNaN(value)) {
    throw new TypeError(`${api}: options.closeTimeout must be a number of milliseconds, got ${describe(value)}`);
  }
  requireDuration(api, "options.closeTimeout", value);
  return value;
}
