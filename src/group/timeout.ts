/**
 * `withTimeout` and `withTimeoutOpt` (SEMANTICS B §2.12).
 */
import { callBody } from "../core/cancel.ts";
import { TimeoutError } from "../core/errors.ts";
import { requireDuration, requireFunction, type Operation } from "../core/operation.ts";
import { sleep } from "../core/sleep.ts";
import { withTaskGroup } from "./task_group.ts";

/**
 * Runs `body`, cancelling it if it has not finished after `ms` milliseconds;
 * then throws `error` (a new `TimeoutError` by default) once the body has
 * unwound. The timer starts counting when the body first suspends, so with
 * `ms = 0` a body that finishes without suspending still succeeds.
 *
 * Work inside {@link protectFromCancel} cannot be cut short: the timeout then
 * waits for it and still throws. An error the body throws while being
 * cancelled does not replace the timeout error; it is in
 * `suppressedErrors(error)`.
 *
 * @example
 * ```ts
 * const reply = yield* withTimeout(2000, () => conn.readLine());
 * ```
 */
export function* withTimeout<T>(ms: number, body: () => Operation<T>, error?: unknown): Operation<T> {
  requireDuration("withTimeout()", "ms", ms);
  requireFunction("withTimeout()", "body", body);
  return yield* withTaskGroup<T>(function* (group) {
    group.spawnBg(
      function* () {
        yield* sleep(ms);
        throw error === undefined ? new TimeoutError(`the operation timed out after ${ms} ms`) : error;
      },
      { noWait: true },
    );
    return yield* callBody("withTimeout()", body);
  });
}

/**
 * Like {@link withTimeout}, but a timeout gives `undefined` instead of an
 * error.
 *
 * @example
 * ```ts
 * const line = yield* withTimeoutOpt(5000, () => stdin.readLine());
 * if (line === undefined) console.log("no input for 5 s");
 * ```
 */
export function* withTimeoutOpt<T>(ms: number, body: () => Operation<T>): Operation<T | undefined> {
  requireDuration("withTimeoutOpt()", "ms", ms);
  requireFunction("withTimeoutOpt()", "body", body);
  return yield* withTaskGroup<T | undefined>(function* (group) {
    group.spawnBg(
      function* () {
        yield* sleep(ms);
        group.returnImmediately(undefined);
      },
      { noWait: true },
    );
    return yield* callBody("withTimeoutOpt()", body);
  });
}
