/**
 * `retry(method, body, options)` (docs/semantics.md, «Retry»).
 */
import { callBody } from "../core/cancel.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { current } from "../core/scheduler.ts";
import { sleep } from "../core/sleep.ts";

/**
 * How {@link retry} waits between attempts: not at all, a fixed delay of
 * `delayMs`, or a delay that starts at `initialMs` and is multiplied by
 * `factor` after each attempt (rounded down), up to `maximumMs`. Every
 * duration is in milliseconds and says so in its name.
 *
 * @example
 * ```ts
 * const now: RetryMethod = { kind: "immediate" };
 * const steady: RetryMethod = { kind: "fixedDelay", delayMs: 500 };
 * const backoff: RetryMethod = { kind: "exponentialDelay", initialMs: 100, factor: 2, maximumMs: 10_000 };
 * console.log([now, steady, backoff].map((m) => m.kind).join(" ")); // prints immediate fixedDelay exponentialDelay
 * ```
 */
export type RetryMethod =
  | { kind: "immediate" }
  | { kind: "fixedDelay"; delayMs: number }
  | { kind: "exponentialDelay"; initialMs: number; factor: number; maximumMs: number };

/** The names of {@link RetryMethod}'s fields before 0.2.0, refused with their new names. */
const RENAMED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  fixedDelay: { ms: "delayMs" },
  exponentialDelay: { initial: "initialMs", maximum: "maximumMs" },
};

/**
 * Options for {@link retry}.
 *
 * @example
 * ```ts
 * let attempts = 0;
 * function* flaky(): Operation<string> {
 *   if (++attempts < 3) throw new Error("try again");
 *   return `worked after ${attempts} attempts`;
 * }
 * const method: RetryMethod = { kind: "fixedDelay", delayMs: 5 };
 * console.log(yield* retry(method, flaky, { maxRetry: 3, fatalError: (e) => e instanceof TypeError })); // prints worked after 3 attempts
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
  const m = method as { kind?: unknown; delayMs?: unknown; initialMs?: unknown; factor?: unknown; maximumMs?: unknown };
  // An old field name would otherwise read as a missing delay, or be ignored next to the new one.
  const renamed = typeof m.kind === "string" && Object.hasOwn(RENAMED, m.kind) ? RENAMED[m.kind]! : {};
  for (const [old, now] of Object.entries(renamed)) {
    if (old in m) throw new TypeError(`${api}: method.${old} is now called method.${now} (${String(m.kind)})`);
  }
  switch (m.kind) {
    case "immediate":
      return;
    case "fixedDelay":
      requireDelay(api, "method.delayMs", m.delayMs);
      return;
    case "exponentialDelay":
      requireDelay(api, "method.initialMs", m.initialMs);
      requireDelay(api, "method.maximumMs", m.maximumMs);
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
 * class NotFound extends Error {}
 * let calls = 0;
 * function* fetchPage(url: string): Operation<string> {
 *   calls++;
 *   if (calls === 1) throw new Error("connection reset");
 *   if (url.endsWith("/missing")) throw new NotFound(url);
 *   return `<html>${url}</html>`;
 * }
 * const page = yield* retry(
 *   { kind: "exponentialDelay", initialMs: 10, factor: 2, maximumMs: 100 },
 *   () => fetchPage("http://127.0.0.1/index"),
 *   { maxRetry: 5, fatalError: (e) => e instanceof NotFound },
 * );
 * console.log(page, calls); // prints <html>http://127.0.0.1/index</html> 2
 * ```
 */
export function* retry<T>(method: RetryMethod, body: () => Operation<T>, options?: RetryOptions): Operation<T> {
  validateRetryMethod("retry()", method);
  requireFunction("retry()", "body", body);
  validateRetryOptions("retry()", options);
  const maxRetry = options?.maxRetry;
  const fatalError = options?.fatalError;
  let delay = method.kind === "exponentialDelay" ? method.initialMs : 0;
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
        yield* sleep(method.delayMs);
        break;
      case "exponentialDelay":
        yield* sleep(delay);
        delay = Math.min(method.maximumMs, Math.floor(delay * method.factor));
        break;
    }
  }
}
