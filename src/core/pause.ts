/**
 * `pause()` and the generic park used by suspension points that register
 * themselves somewhere and wait to be woken.
 */
import { Flag } from "./coroutine.ts";
import { Cancelled } from "./errors.ts";
import { DONE_VOID, RESUME, SUSPENDED_RESULT, SuspensionPoint, asOperation, type Operation } from "./operation.ts";
import { current, requireTask } from "./scheduler.ts";

class PauseOp extends SuspensionPoint<void> {
  next(value?: unknown): IteratorResult<unknown, void> {
    if (value !== undefined) return DONE_VOID; // RESUME
    const task = current ?? requireTask("pause()");
    if ((task.flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED) throw new Cancelled();
    const scheduler = task.scheduler;
    // Alone in the ring, the next round would hold only this task: skip the
    // switch, a batch at a time, so the driver still gets its turn.
    if (scheduler.fastPause()) return DONE_VOID;
    task.flags |= Flag.READY;
    scheduler.ring.push(task);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    throw error;
  }
}

class ParkOp extends SuspensionPoint<void> {
  next(value?: unknown): IteratorResult<unknown, void> {
    if (value === RESUME) return DONE_VOID;
    const task = current ?? requireTask("a weft operation");
    if ((task.flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED) throw new Cancelled();
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    throw error;
  }
}

const PAUSE = asOperation(new PauseOp());
const PARK = asOperation(new ParkOp());

/**
 * Yields to the other ready tasks: the task runs again in the next scheduling
 * round. Throws `Cancelled` if the task is being cancelled.
 *
 * @example
 * ```ts
 * const items = Array.from({ length: 10_000 }, (_, i) => i);
 * let total = 0;
 * for (const [i, item] of items.entries()) {
 *   total += item;
 *   if (i % 1000 === 999) yield* pause(); // let the other tasks and the host's IO run
 * }
 * console.log(total); // prints 49995000
 * ```
 */
export function pause(): Operation<void> {
  return PAUSE;
}

/**
 * Parks the current task until something wakes it. Throws `Cancelled` at once
 * if cancellation is due, and when the task is cancelled while parked. The
 * caller must have registered the task somewhere that will wake it.
 */
export function park(): Operation<void> {
  return PARK;
}
