/**
 * `action(executor)`: the one adapter between weft and callback APIs.
 */
import { Cancelled } from "./errors.ts";
import { requireFunction, type Operation } from "./operation.ts";
import { park } from "./pause.ts";
import { requireTask } from "./scheduler.ts";

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

/**
 * Suspends the task until the executor calls `resolve` or `reject`, like the
 * `Promise` constructor but without a promise and cancellable: the cleanup
 * function the executor returns runs exactly once, when the operation
 * completes, fails, or is cancelled (then `Cancelled` is thrown at the call).
 *
 * `resolve`/`reject` may be called from any host callback, synchronously from
 * the executor, or never; calls after the first are ignored. If the operation
 * settled before a cancellation reached the task, the settlement wins and the
 * task learns of the cancellation at its next suspension point.
 *
 * @example
 * ```ts
 * function delay(ms: number): Operation<void> {
 *   return action((resolve) => {
 *     const id = setTimeout(resolve, ms);
 *     return () => clearTimeout(id);
 *   });
 * }
 * ```
 */
export function* action<T>(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => (() => void) | void): Operation<T> {
  requireFunction("action()", "executor", executor, "a function (resolve, reject) => cleanup");
  const task = requireTask("action()");
  if (task.cancelDue) throw new Cancelled();
  let state = PENDING;
  let outcome: unknown;
  let parked = false;
  const settle = (next: number, value: unknown): void => {
    if (state !== PENDING) return;
    state = next;
    outcome = value;
    if (parked) task.scheduler.wake(task);
  };
  const cleanup = executor(
    (value) => settle(RESOLVED, value),
    (error) => settle(REJECTED, error),
  );
  if (cleanup !== undefined && typeof cleanup !== "function") {
    throw new TypeError("action(): the executor must return a cleanup function or nothing");
  }
  try {
    if (state === PENDING) {
      parked = true;
      task.scheduler.external++;
      try {
        while (state === PENDING) yield* park();
      } catch (error) {
        // Settled in the same round as the cancellation: the settlement wins.
        if (state === PENDING) {
          state = REJECTED;
          throw error;
        }
      } finally {
        parked = false;
        task.scheduler.external--;
      }
    }
  } finally {
    if (cleanup !== undefined) cleanup();
  }
  if (state === REJECTED) throw outcome;
  return outcome as T;
}
