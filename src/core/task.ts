/**
 * `Task<X>`: the handle of a spawned task, and the operation that waits for it.
 */
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { Flag, type Coroutine } from "./coroutine.ts";
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks, budget); these bindings are used only inside functions, never while the modules load
import { BUDGET_YIELD, overBudget, yieldForBudget } from "./budget.ts";
import { Cancelled, WeftUsageError } from "./errors.ts";
import { RESUME, SUSPENDED_RESULT, SuspensionPoint, asOperation, type Operation } from "./operation.ts";
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { requireTask, current, WAIT_COMPLETED } from "./scheduler.ts";

/**
 * A handle on a spawned task.
 *
 * @example
 * ```ts
 * yield* withTaskGroup(function* (group) {
 *   const task = group.spawn(function* () { yield* sleep(10); return 42; });
 *   task.done;              // false: it has not run yet
 *   const v = yield* task.wait();   // 42
 * });
 * ```
 */
export interface Task<X> {
  /**
   * Waits until the task has ended and returns its value, or throws its error
   * (`Cancelled` if it ended by cancellation). Cancelling the waiter does not
   * cancel the task. A task cannot wait for itself (`WeftUsageError`).
   */
  wait(): Operation<X>;
  /** The value if the task has ended, `undefined` while it runs; throws its error if it failed. */
  tryWait(): X | undefined;
  /** Cancels the task: `Cancelled` is thrown at its current or next suspension point. */
  cancel(): void;
  /** True once the task has ended, by value or by error. */
  readonly done: boolean;
}

/** The reusable `wait()` operation of one task; the waiter's state is on the waiter. */
export class TaskWaitOp extends SuspensionPoint<unknown> {
  constructor(private readonly target: Coroutine) {
    super();
  }

  next(value?: unknown): IteratorResult<unknown, unknown> {
    const target = this.target;
    if (value !== RESUME) {
      const waiter = requireTask("Task.wait()");
      if (waiter === target) throw new WeftUsageError("Task.wait(): a task cannot wait for itself");
      // Fast paths: an ended task answers at once, without a cancellation check (docs/semantics.md, «Tasks»),
      // unless the waiter's budget is spent: it then yields first (docs/semantics.md, «Cooperative budget»).
      const state = target.flags & Flag.STATE_MASK;
      if (state >= Flag.DONE && overBudget()) return yieldForBudget(waiter);
      if (state === Flag.DONE) return { done: true, value: target.result };
      if (state === Flag.FAILED) throw target.result;
      if (waiter.cancelDue) throw new Cancelled();
      addWaiter(target, waiter);
      return SUSPENDED_RESULT;
    }
    const waiter = current!;
    if (waiter.waitRecord === BUDGET_YIELD) {
      // Back from a forced yield: the wait has not run yet; run it now.
      waiter.waitRecord = undefined;
      return this.next(undefined);
    }
    waiter.waitRecord = undefined;
    const state = target.flags & Flag.STATE_MASK;
    if (state === Flag.DONE) return { done: true, value: target.result };
    if (state === Flag.FAILED) throw target.result;
    // Wake-ups are precise, so this cannot happen; park again rather than lie.
    addWaiter(target, waiter);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, unknown> {
    const target = this.target;
    const waiter = current!;
    if (waiter.waitRecord === BUDGET_YIELD) {
      // Cancelled in a forced yield: the wait never ran.
      waiter.waitRecord = undefined;
      throw error;
    }
    if (waiter.waitRecord === WAIT_COMPLETED) {
      // The task ended before the cancellation reached this waiter: the wait
      // completed, and its outcome stands.
      waiter.waitRecord = undefined;
      if ((target.flags & Flag.STATE_MASK) === Flag.DONE) return { done: true, value: target.result };
      throw target.result;
    }
    removeWaiter(target, waiter);
    throw error;
  }
}

function addWaiter(target: Coroutine, waiter: Coroutine): void {
  const w = target.waiters;
  if (w === null) target.waiters = waiter;
  else if (Array.isArray(w)) w.push(waiter);
  else target.waiters = [w, waiter];
}

function removeWaiter(target: Coroutine, waiter: Coroutine): void {
  const w = target.waiters;
  if (w === waiter) target.waiters = null;
  else if (Array.isArray(w)) {
    const i = w.indexOf(waiter);
    if (i >= 0) w.splice(i, 1);
  }
}

const waitOps = new WeakMap<Coroutine, Operation<unknown>>();

export function taskWait(task: Coroutine): Operation<unknown> {
  let op = waitOps.get(task);
  if (op === undefined) waitOps.set(task, (op = asOperation(new TaskWaitOp(task))));
  return op;
}
