/**
 * `retry(method, body, options)` (docs/semantics.md, «Retry»).
 */
import { callBody } from "../core/cancel.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { current } from "../core/scheduler.ts";
import { sleep } from "../core/sleep.ts";

/**
 * How {@link retry} waits between attempts: not at all, a fixed delay, or a
 * delay that starts at `initial` ms and is multiplied by `factor` after each
 * attempt (rounded down), up to `maximum` ms.
 *
 * @example
 * ```ts
 * const now: RetryMethod = { kind: "immediate" };
 * const steady: RetryMethod = { kind: "fixedDelay", ms: 500 };
 * const backoff: RetryMethod = { kind: "exponentialDelay", initial: 100, factor: 2, maximum: 10_000 };
 * ```
 */
export type RetryMethod =
  | { kind: "immediate" }
  | { kind: "fixedDelay"; ms: number }
  | { kind: "exponentialDelay"; initial: number; factor: number; maximum: number };

/**
 * Options for {@link retry}.
 *
 * @example
 * ```ts
 * yield* retry(method, body, { maxRetry: 3, fatalError: (e) => e instanceof TypeError });
 * ```
 */
export interface RetryOptions {
  /** How many retries after the first attempt (so at most `maxRetry + 1` attempts). Unlimited if absent. */
  maxRetry?: number;
  /** Errors for which retrying is pointless: they are thrown at once. */
  fatalError?: (error: unknown) => boolean;
}

function requireDelay(api: string, name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${api}: ${name} must be a finite number of milliseconds >= 0, got ${describe(value)}`);
  }
}

export function validateRetryMethod(api: string, method: unknown): asserts method is RetryMethod {
  if (typeof method !== "object" || method === null) {
    throw new TypeError(`${api}: method must be a RetryMethod object, got ${describe(method)}`);
  }
  const m = method as { kind?: unknown; ms?: unknown; initial?: unknown; factor?: unknown; maximum?: unknown };
  switch (m.kind) {
    case "immediate":
      return;
    case "fixedDelay":
      requireDelay(api, "method.ms", m.ms);
      return;
    case "exponentialDelay":
      requireDelay(api, "method.initial", m.initial);
      requireDelay(api, "method.maximum", m.maximum);
      if (typeof m.factor !== "number" || !Number.isFinite(m.factor) || m.factor < 1) {
        throw new RangeError(`${api}: method.factor must be a finite number >= 1, got ${describe(m.factor)}`);
      }
      return;
    default:
      throw new TypeError(`${api}: method.kind must be "immediate", "fixedDelay" or "exponentialDelay", got ${describe(m.kind)}`);
  }
}

export function validateRetryOptions(api: string, options: RetryOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  const { maxRetry, fatalError } = options;
  if (maxRetry !== undefined && (typeof maxRetry !== "number" || !Number.isInteger(maxRetry) || maxRetry < 0)) {
    throw new RangeError(`${api}: maxRetry must be an integer >= 0, got ${describe(maxRetry)}`);
  }
  if (fatalError !== undefined && typeof fatalError !== "function") {
    throw new TypeError(`${api}: fatalError must be a function, got ${describe(fatalError)}`);
  }
}

/**
 * Runs `body` until it succeeds. After a failure the error is thrown at once
 * if `fatalError(error)` says so, if the task is being cancelled, or if
 * `maxRetry` retries have been made; otherwise `body` runs again after the
 * method's delay (a cancellable sleep).
 *
 * @example
 * ```ts
 * const page = yield* retry(
 *   { kind: "exponentialDelay", initial: 100, factor: 2, maximum: 5000 },
 *   () => fetchPage(url),
 *   { maxRetry: 5, fatalError: (e) => e instanceof NotFound },
 * );
 * ```
 */
export function* retry<T>(method: RetryMethod, body: () => Operation<T>, options?: RetryOptions): Operation<T> {
  validateRetryMethod("retry()", method);
  requireFunction("retry()", "body", body);
  validateRetryOptions("retry()", options);
  const maxRetry = options?.maxRetry;
  const fatalError = options?.fatalError;
  let delay = method.kind === "exponentialDelay" ? method.initial : 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return yield* callBody("retry()", body);
    } catch (error) {
      if (fatalError !== undefined && fatalError(error)) throw error;
      const task = current;
      if (task !== null && task.cancelDue) throw error;
      if (maxRetry !== undefined && attempt >= maxRetry) throw error;
    }
    switch (method.kind) {
      case "immediate":
        break;
      case "fixedDelay":
        yield* sleep(method.ms);
        break;
      case "exponentialDelay":
        yield* sleep(delay);
        delay = Math.min(method.maximum, Math.floor(delay * method.factor));
        break;
    }
  }
}
