/**
 * How the fs functions run one callback-style call of Node's `fs` from a task.
 *
 * Node's fs work runs in libuv's thread pool and cannot be interrupted. Two
 * policies follow:
 * - a call that only looks (stat, readdir, realpath) is abandoned when the
 *   task is cancelled: the task resumes with `Cancelled` at once and the
 *   result, when it comes, is dropped;
 * - a call that changes something (mkdir, rename, rm) runs to completion even
 *   if the task is cancelled meanwhile, so that "threw Cancelled" always means
 *   "did nothing": it refuses to start in a cancelled task, and a cancellation
 *   that arrives while it runs is thrown at the task's next suspension point.
 */
import { action } from "../../core/action.ts";
import { checkCancellation, protectFromCancel } from "../../core/cancel.ts";
import type { Operation } from "../../core/operation.ts";
import { osError } from "./os_error.ts";

/** Node's completion callback. */
export type Done<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

/** Runs a looking call; abandoned (result dropped) if the task is cancelled. */
export function fsLook<T>(api: string, start: (done: Done<T>) => void): Operation<T> {
  return action<T>((resolve, reject) => {
    start((error, value) => (error ? reject(osError(api, error)) : resolve(value)));
  });
}

/**
 * Runs `body` to completion once started, for work whose effect cannot be
 * taken back: it refuses to start in a cancelled task (then nothing was
 * done), and a cancellation that arrives meanwhile is thrown at the task's
 * next suspension point.
 */
export function* completeOnceStarted<T>(body: () => Operation<T>): Operation<T> {
  checkCancellation();
  return yield* protectFromCancel(body);
}

/** Runs a changing call to completion; refuses to start in a cancelled task. */
export function fsChange<T>(api: string, start: (done: Done<T>) => void): Operation<T> {
  return completeOnceStarted(() => fsLook(api, start));
}
