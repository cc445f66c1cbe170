/**
 * Shielding and looking at cancellation: `protectFromCancel`,
 * `withCancellationHandler`, `isBeingCancelled`, `checkCancellation`,
 * `isCancellationError`.
 */
import { Flag } from "./coroutine.ts";
import { Cancelled } from "./errors.ts";
import { describe, isOperation, requireFunction, type Operation } from "./operation.ts";
import { current, requireTask } from "./scheduler.ts";

/** Calls `body` and checks that it returned an Operation. */
export function callBody<T>(api: string, body: () => Operation<T>): Operation<T> {
  const op = body();
  if (!isOperation(op)) {
    throw new TypeError(`${api}: body must return an Operation (write it as a function* generator), got ${describe(op)}`);
  }
  return op;
}

/**
 * Runs `body` with cancellation held back: while it runs, cancelling the task
 * does not interrupt it, and its suspension points do not throw `Cancelled`.
 * A cancellation that arrived meanwhile is thrown at the task's next
 * unprotected suspension point. Nesting is allowed and changes nothing.
 *
 * Use it for cleanup that must finish (flushing, closing a connection
 * gracefully); note that a timeout cannot cut protected work short.
 *
 * @example
 * ```ts
 * const [reader, writer] = pipe();
 * yield* withTaskGroup(function* (group) {
 *   const server = group.spawn(function* () {
 *     try {
 *       yield* sleep(60_000); // serving, until cancelled
 *     } finally {
 *       // In a cancelled task every suspension point throws at once; shielded, the goodbye is sent.
 *       yield* protectFromCancel(() => writer.write("goodbye\n"));
 *     }
 *   });
 *   yield* sleep(10);
 *   server.cancel();
 *   console.log(yield* reader.readLine()); // prints goodbye
 * });
 * ```
 */
export function* protectFromCancel<T>(body: () => Operation<T>): Operation<T> {
  requireFunction("protectFromCancel()", "body", body);
  const task = requireTask("protectFromCancel()");
  if ((task.flags & Flag.SHIELDED) !== 0) return yield* callBody("protectFromCancel()", body);
  task.flags |= Flag.SHIELDED;
  try {
    return yield* callBody("protectFromCancel()", body);
  } finally {
    task.flags &= Flag.NOT_SHIELDED;
  }
}

/**
 * Runs `body`; if it throws `Cancelled`, runs `handler` and then rethrows. The
 * handler runs in the cancelled task, so its own suspension points throw at
 * once unless it wraps them in {@link protectFromCancel}. An error thrown by
 * the handler replaces the `Cancelled`.
 *
 * @example
 * ```ts
 * const log: string[] = [];
 * yield* withTimeoutOpt(20, () =>
 *   withCancellationHandler(
 *     function* () {
 *       log.push("downloading");
 *       yield* sleep(1000);
 *     },
 *     function* () {
 *       yield* protectFromCancel(function* () {
 *         yield* sleep(1); // e.g. remove the partial file
 *         log.push("partial file removed");
 *       });
 *     },
 *   ),
 * );
 * console.log(log); // prints [ 'downloading', 'partial file removed' ]
 * ```
 */
export function* withCancellationHandler<T>(body: () => Operation<T>, handler: () => Operation<void>): Operation<T> {
  requireFunction("withCancellationHandler()", "body", body);
  requireFunction("withCancellationHandler()", "handler", handler);
  try {
    return yield* callBody("withCancellationHandler()", body);
  } catch (error) {
    if (error instanceof Cancelled) yield* callBody("withCancellationHandler()", handler);
    throw error;
  }
}

/**
 * True when the current task has been cancelled and is not inside
 * {@link protectFromCancel}; false outside any task.
 *
 * @example
 * ```ts
 * yield* withTaskGroup(function* (group) {
 *   const worker = group.spawn(function* () {
 *     let rounds = 0;
 *     while (!isBeingCancelled()) {
 *       rounds++; // some synchronous work
 *       yield* pause();
 *     }
 *     return rounds;
 *   });
 *   yield* sleep(5);
 *   worker.cancel();
 * });
 * console.log("the worker saw its cancellation and stopped"); // prints that
 * ```
 */
export function isBeingCancelled(): boolean {
  const task = current;
  return task !== null && task.cancelDue;
}

/**
 * Throws `Cancelled` if {@link isBeingCancelled}. Use it in long synchronous
 * stretches and before starting work that cannot be interrupted.
 *
 * @example
 * ```ts
 * const chunks = [[1, 2], [3, 4], [5, 6]];
 * let sum = 0;
 * for (const chunk of chunks) {
 *   checkCancellation(); // throws Cancelled here if this task is being cancelled
 *   for (const n of chunk) sum += n;
 * }
 * console.log(sum); // prints 21
 * ```
 */
export function checkCancellation(): void {
  if (isBeingCancelled()) throw new Cancelled();
}

/**
 * True when `error` is weft's cancellation error.
 *
 * @example
 * ```ts
 * function* work(): Operation<void> {
 *   yield* sleep(1000);
 * }
 * const outcome = yield* withTimeoutOpt(10, function* () {
 *   try {
 *     yield* work();
 *   } catch (e) {
 *     if (!isCancellationError(e)) console.error("work failed:", e);
 *     throw e; // a cancellation is passed on, never swallowed
 *   }
 * });
 * console.log(outcome); // prints undefined (the timeout cancelled the work)
 * ```
 */
export function isCancellationError(error: unknown): boolean {
  return error instanceof Cancelled;
}
