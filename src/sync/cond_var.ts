/**
 * `CondVar`: a condition variable without a mutex or a counter
 * (docs/semantics.md, «CondVar»).
 */
import { Cancelled } from "../core/errors.ts";
import { DONE_VOID, SUSPENDED_RESULT, SuspensionPoint, asOperation, type Operation } from "../core/operation.ts";
import { WaiterList, type WaiterRecord, newWaiterRecord } from "../core/waiters.ts";
import { current, requireTask } from "../core/scheduler.ts";

class WaitOp extends SuspensionPoint<void> {
  constructor(private readonly sleepers: WaiterList<WaiterRecord>) {
    super();
  }

  next(value?: unknown): IteratorResult<unknown, void> {
    if (value !== undefined) {
      // RESUME: signalled (signal() took the record off the list).
      const task = current!;
      this.sleepers.recycle(task.waitRecord as WaiterRecord);
      task.waitRecord = undefined;
      return DONE_VOID;
    }
    const task = current ?? requireTask("CondVar.wait()");
    // wait() always suspends, so it always honours a due cancellation.
    if (task.cancelDue) throw new Cancelled();
    task.waitRecord = this.sleepers.enqueue(task, newWaiterRecord);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    const task = current!;
    const sleeper = task.waitRecord as WaiterRecord;
    task.waitRecord = undefined;
    // Signalled in the same round as the cancellation: the signal was consumed, keep it.
    if (this.sleepers.keepsHandOff(sleeper)) return DONE_VOID;
    throw error;
  }
}

/**
 * A condition variable: tasks `wait` until another task `signal`s (the oldest
 * waiter wakes) or `broadcast`s (all of them wake, in arrival order). There is
 * no counter: a signal with nobody waiting is lost, so waiters re-check their
 * condition in a loop. A waiter that was signalled in the same round as its
 * cancellation returns normally and the signal is not passed on.
 *
 * @example
 * ```ts
 * const changed = new CondVar();
 * let ready = false;
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     // consumer
 *     while (!ready) yield* changed.wait();
 *     console.log("ready"); // prints ready
 *   });
 *   group.startSoon(function* () {
 *     // producer
 *     yield* sleep(5);
 *     ready = true;
 *     changed.broadcast();
 *   });
 * });
 * ```
 */
export class CondVar {
  readonly #sleepers = new WaiterList<WaiterRecord>();
  readonly #wait = asOperation(new WaitOp(this.#sleepers));

  /** Waits for a `signal` or `broadcast`. Throws `Cancelled` if the task is cancelled. */
  wait(): Operation<void> {
    return this.#wait;
  }

  /** Wakes the task that has waited longest, if any. */
  signal(): void {
    this.#sleepers.wakeFirst(true);
  }

  /** Wakes every waiting task, in the order they started waiting. */
  broadcast(): void {
    const sleepers = this.#sleepers;
    while (sleepers.wakeFirst(true) !== null) {}
  }
}
