/**
 * `withTimeout` and `withTimeoutOpt` (docs/semantics.md, «Timeouts»): a
 * deadline on the body, which runs in the caller's task inside a timeout
 * scope (`core/cancel_scope.ts`), so a timeout that does not fire costs one
 * timer entry and nothing else.
 */
import { callBody } from "../core/cancel.ts";
import { cancelledBeyond, enterScope, exitScope } from "../core/cancel_scope.ts";
import { addSuppressed, Cancelled, TimeoutError } from "../core/errors.ts";
import { requireDuration, requireFunction, type Operation } from "../core/operation.ts";
import { requireTask } from "../core/scheduler.ts";

/**
 * Runs `body`, cancelling it if it has not finished after `ms` milliseconds;
 * then throws `error` (a new `TimeoutError` by default) once the body has
 * unwound. The deadline is `ms` from the call; a deadline is looked at only
 * while the body is suspended, so a body that finishes without suspending
 * succeeds even with `ms = 0`. The body runs in the caller's task (no task is
 * spawned), and a timeout that does not fire costs one timer entry.
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
  const scope = enterScope(requireTask("withTimeout()"), ms);
  try {
    // A body that returned wins, even after the deadline passed (its operation completed
    // before it could see the cancellation, it caught it, or it was protected).
    return yield* callBody("withTimeout()", body);
  } catch (thrown) {
    // The timeout is reported only when this scope's deadline cancelled the body, and
    // neither the task itself nor an enclosing deadline was cancelled as well.
    if (!scope.fired || cancelledBeyond(scope)) throw thrown;
    const timeout = error === undefined ? new TimeoutError(`the operation timed out after ${ms} ms`) : error;
    if (!(thrown instanceof Cancelled)) addSuppressed(timeout, thrown);
    throw timeout;
  } finally {
    exitScope(scope);
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
  const scope = enterScope(requireTask("withTimeoutOpt()"), ms);
  try {
    return yield* callBody("withTimeoutOpt()", body);
  } catch (thrown) {
    if (scope.fired && thrown instanceof Cancelled && !cancelledBeyond(scope)) return undefined;
    throw thrown;
  } finally {
    exitScope(scope);
  }
}
