/**
 * `Semaphore`: counted permits, strict FIFO, direct hand-off
 * (docs/semantics.md, «Semaphore»).
 */
import { BUDGET_YIELD, overBudget, yieldForBudget } from "../core/budget.ts";
import { Cancelled, WeftUsageError } from "../core/errors.ts";
import { DONE_VOID, SUSPENDED_RESULT, SuspensionPoint, asOperation, describe, type Operation } from "../core/operation.ts";
import { WaiterList, type WaiterRecord, newWaiterRecord } from "../core/waiters.ts";
import { current, requireTask } from "../core/scheduler.ts";

class AcquireOp extends SuspensionPoint<void> {
  constructor(
    private readonly semaphore: Semaphore,
    private readonly waiters: WaiterList<WaiterRecord>,
  ) {
    super();
  }

  next(value?: unknown): IteratorResult<unknown, void> {
    if (value !== undefined) {
      // RESUME: the permit was handed over, or back from a forced yield.
      const task = current!;
      const waiter = task.waitRecord as WaiterRecord | typeof BUDGET_YIELD;
      task.waitRecord = undefined;
      if (waiter === BUDGET_YIELD) return this.next(undefined); // the acquire has not run yet: run it now
      if (!waiter.handed) throw new WeftUsageError("Semaphore.acquire(): resumed without a permit (internal error)");
      this.waiters.recycle(waiter); // release() took it off the list
      return DONE_VOID;
    }
    // A free permit is taken at once, unless the task's budget is spent: it
    // then yields first (docs/semantics.md, «Cooperative budget»).
    if (overBudget() && this.semaphore.available > 0) return yieldForBudget(current!);
    if (takePermit(this.semaphore)) return DONE_VOID;
    const task = current ?? requireTask("Semaphore.acquire()");
    if (task.cancelDue) throw new Cancelled();
    task.waitRecord = this.waiters.enqueue(task, newWaiterRecord);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    const task = current!;
    const waiter = task.waitRecord as WaiterRecord | typeof BUDGET_YIELD;
    task.waitRecord = undefined;
    // Cancelled in a forced yield: the acquire never ran, so no permit is held.
    if (waiter === BUDGET_YIELD) throw error;
    // The permit was handed over in the same round as the cancellation: keep it.
    if (this.waiters.keepsHandOff(waiter)) return DONE_VOID;
    throw error;
  }
}

let takePermit: (semaphore: Semaphore) => boolean;

/**
 * A counting semaphore with `size` permits, `initial` of them free at the
 * start. Waiters are served strictly in arrival order and a released permit
 * goes straight to the first of them, so nobody can barge in. A cancelled
 * `acquire` never holds a permit, unless the permit reached it first: then it
 * returns normally, holding it.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(2);
 * let running = 0;
 * let most = 0;
 * function* download(url: string): Operation<void> {
 *   most = Math.max(most, ++running);
 *   yield* sleep(5);
 *   running--;
 * }
 * yield* withTaskGroup(function* (group) {
 *   for (const url of ["a", "b", "c", "d", "e"]) {
 *     group.startSoon(function* () {
 *       yield* slots.acquire();
 *       try { yield* download(url); } finally { slots.release(); }
 *     });
 *   }
 * });
 * console.log(most); // prints 2
 * ```
 */
export class Semaphore {
  readonly #size: number;
  #value: number;
  readonly #waiters = new WaiterList<WaiterRecord>();
  readonly #acquire: Operation<void>;

  static {
    takePermit = (s) => {
      if (s.#value > 0) {
        s.#value--;
        return true;
      }
      return false;
    };
  }

  /**
   * Creates a semaphore of `size` permits, `initial` of them free.
   *
   * @param size the number of permits, an integer >= 1
   * @param initial how many are free at the start, an integer in [0, size]
   */
  constructor(size: number, initial: number = size) {
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
      throw new RangeError(`new Semaphore(): size must be an integer >= 1, got ${describe(size)}`);
    }
    if (typeof initial !== "number" || !Number.isInteger(initial) || initial < 0 || initial > size) {
      throw new RangeError(`new Semaphore(): initial must be an integer in [0, ${size}], got ${describe(initial)}`);
    }
    this.#size = size;
    this.#value = initial;
    this.#acquire = asOperation(new AcquireOp(this, this.#waiters));
  }

  /** The number of free permits. */
  get available(): number {
    return this.#value;
  }

  /** Waits for a permit (at once if one is free and nobody waits). */
  acquire(): Operation<void> {
    return this.#acquire;
  }

  /** Takes a permit if one is free now; never waits. */
  tryAcquire(): boolean {
    return takePermit(this);
  }

  /**
   * Gives a permit back: to the first waiter if there is one, otherwise to the
   * pool. Throws `WeftUsageError` if every permit is already free.
   */
  release(): void {
    if (this.#waiters.wakeFirst(true) !== null) return;
    if (this.#value >= this.#size) {
      throw new WeftUsageError(`Semaphore.release(): released more times than acquired (all ${this.#size} permits are free)`);
    }
    this.#value++;
  }
}
