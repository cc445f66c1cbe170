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
 * try {
 *   yield* serve(conn);
 * } finally {
 *   yield* protectFromCancel(() => conn.sendGoodbye());
 * }
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
 * yield* withCancellationHandler(
 *   () => download(url),
 *   function* () { yield* protectFromCancel(() => removePartialFile()); },
 * );
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
 * while (!isBeingCancelled()) doSomeSynchronousWork();
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
 * for (const chunk of chunks) {
 *   checkCancellation();
 *   crunch(chunk);
 * }
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
 * try { yield* work(); } catch (e) { if (!isCancellationError(e)) log(e); throw e; }
 * ```
 */
export function isCancellationError(error: unknown): boolean {
  return error instanceof Cancelled;
}
