/**
 * `withTimeout` and `withTimeoutOpt` (docs/semantics.md, «Timeouts»).
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
 * The timeout is reported only when the body ended by the cancellation the
 * timeout caused. A body that returned wins, and its value is returned: one
 * whose read or `get` had already completed when the timeout fired (before it
 * could see the cancellation), one that caught the cancellation and returned,
 * and one inside {@link protectFromCancel}, which the timeout cannot cut short
 * and waits for. An error the body throws while being cancelled does not
 * replace the timeout error; it is in `suppressedErrors(error)`.
 *
 * @example
 * ```ts
 * const [reader, writer] = pipe();
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     yield* sleep(10);
 *     yield* writer.write("pong\n");
 *   });
 *   const reply = yield* withTimeout(2000, () => reader.readLine());
 *   console.log(reply); // prints pong
 * });
 * ```
 */
export function* withTimeout<T>(ms: number, body: () => Operation<T>, error?: unknown): Operation<T> {
  requireDuration("withTimeout()", "ms", ms);
  requireFunction("withTimeout()", "body", body);
  // The timeout is reported only when the body ended by the cancellation it
  // caused: a body that returned (its operation completed first, it caught the
  // cancellation, or it was protected) wins, so nothing it consumed is lost.
  let bodyWon = false;
  let value: T | undefined;
  let timeout: unknown = undefined;
  try {
    return yield* withTaskGroup<T>(function* (group) {
      group.startSoon(
        function* () {
          yield* sleep(ms);
          timeout = error === undefined ? new TimeoutError(`the operation timed out after ${ms} ms`) : error;
          throw timeout;
        },
        { daemon: true },
      );
      value = yield* callBody("withTimeout()", body);
      bodyWon = true;
      return value;
    });
  } catch (thrown) {
    if (thrown === timeout && bodyWon) return value as T;
    throw thrown;
  }
}

/**
 * Like {@link withTimeout}, but a timeout gives `undefined` instead of an
 * error. As there, a body that returned wins, even after the timeout fired.
 *
 * @example
 * ```ts
 * const [input] = pipe(); // nothing is ever written: like a silent stdin
 * const line = yield* withTimeoutOpt(50, () => input.readLine());
 * if (line === undefined) console.log("no input for 50 ms"); // prints no input for 50 ms
 * ```
 */
export function* withTimeoutOpt<T>(ms: number, body: () => Operation<T>): Operation<T | undefined> {
  requireDuration("withTimeoutOpt()", "ms", ms);
  requireFunction("withTimeoutOpt()", "body", body);
  let bodyWon = false;
  let value: T | undefined;
  const result = yield* withTaskGroup<T | undefined>(function* (group) {
    group.startSoon(
      function* () {
        yield* sleep(ms);
        group.returnImmediately(undefined);
      },
      { daemon: true },
    );
    value = yield* callBody("withTimeoutOpt()", body);
    bodyWon = true;
    return value;
  });
  // The timer's returnImmediately(undefined) may have come first; a body that returned still wins.
  return bodyWon ? value : result;
}
