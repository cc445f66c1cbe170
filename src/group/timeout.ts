/**
 * `withTimeout` and `withTimeoutOpt` (SEMANTICS B §2.12).
 */
import { callBody } from "../core/cancel.ts";
import { TimeoutError } from "../core/errors.ts";
import { requireDuration, requireFunction, type Operation } from "../core/operation.ts";
import { Flag, type Coroutine } from "../core/coroutine.ts";
import { requireTask } from "../core/scheduler.ts";
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
 * `suppressedErrors(error)`. A body whose read or `get` had already completed
 * when the timeout fired (in the same round, before it could see the
 * cancellation) wins: its value is returned, so nothing it consumed is lost
 * (upstream throws and drops the value).
 *
 * @example
 * ```ts
 * const reply = yield* withTimeout(2000, () => conn.readLine());
 * ```
 */
export function* withTimeout<T>(ms: number, body: () => Operation<T>, error?: unknown): Operation<T> {
  requireDuration("withTimeout()", "ms", ms);
  requireFunction("withTimeout()", "body", body);
  const race = new BodyRace<T>();
  let timeout: unknown = undefined;
  try {
    return yield* withTaskGroup<T>(function* (group) {
      const bodyTask = requireTask("withTimeout()");
      group.spawnBg(
        function* () {
          yield* sleep(ms);
          race.timeoutFired(bodyTask);
          timeout = error === undefined ? new TimeoutError(`the operation timed out after ${ms} ms`) : error;
          throw timeout;
        },
        { noWait: true },
      );
      return race.finished(yield* callBody("withTimeout()", body));
    });
  } catch (thrown) {
    if (thrown === timeout && race.bodyWon) return race.value as T;
    throw thrown;
  }
}

/**
 * Like {@link withTimeout}, but a timeout gives `undefined` instead of an
 * error. As there, a body whose operation had already completed when the
 * timeout fired wins.
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
  const race = new BodyRace<T>();
  const result = yield* withTaskGroup<T | undefined>(function* (group) {
    const bodyTask = requireTask("withTimeoutOpt()");
    group.spawnBg(
      function* () {
        yield* sleep(ms);
        race.timeoutFired(bodyTask);
        group.returnImmediately(undefined);
      },
      { noWait: true },
    );
    return race.finished(yield* callBody("withTimeoutOpt()", body));
  });
  return race.bodyWon ? race.value : result;
}

/**
 * The outcome of a body racing its timeout. When the timeout fires, the body
 * may already hold its result: its read or `get` was completed (the task woken
 * with the bytes or the item) earlier in the same round, and it returns before
 * it ever sees the cancellation. Dropping that value would lose what the body
 * consumed, so in that case the body wins. A body that was not already woken
 * when the timeout fired loses, even if it catches the cancellation and
 * returns a value, and so does a body inside `protectFromCancel` (the timeout
 * waits for it and still wins, as upstream).
 */
class BodyRace<T> {
  value: T | undefined = undefined;
  #returned = false;
  #handedOff = false;

  timeoutFired(bodyTask: Coroutine): void {
    const flags = bodyTask.flags;
    this.#handedOff = (flags & Flag.READY) !== 0 && (flags & Flag.SHIELDED) === 0;
  }

  finished(value: T): T {
    this.value = value;
    this.#returned = true;
    return value;
  }

  /** True when the timeout fired but the body's value must be returned instead. */
  get bodyWon(): boolean {
    return this.#returned && this.#handedOff;
  }
}
