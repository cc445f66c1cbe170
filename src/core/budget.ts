/**
 * The cooperative budget (docs/semantics.md, «Cooperative budget»).
 *
 * An operation that finds what it needs at once (an item in a queue, a free
 * permit, bytes already buffered) returns without suspending. A task fed by a
 * full buffer could therefore run for ever without giving its siblings a
 * turn. So every such operation spends one unit of the running task's budget
 * (a counter in `scheduler.ts`, set back to 0 each time the scheduler resumes
 * a task: one task runs at a time, so one counter serves them all),
 * and once BUDGET units are spent, the next operation that could complete at
 * once yields first: the task goes to the back of the ready ring, like
 * `pause()`, and the operation runs only when the task is resumed, with a
 * fresh budget. Cancellation can arrive at that yield like at any suspension
 * point, and the operation then had no effect.
 *
 * The hot path is a counter increment and a compare: `overBudget()`.
 * The yield itself is a park with the `BUDGET_YIELD` marker in the task's
 * `waitRecord`, so a hand-written suspension point tells it from its own
 * wait when it is resumed (it then runs its operation afresh) or cancelled
 * (it then only clears the marker). Operations written as generators use the
 * shared `budgetYield()` operation instead.
 */
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks, budget); these bindings are used only inside functions, never while the modules load
import { Flag, type Coroutine } from "./coroutine.ts";
import { DONE_VOID, RESUME, SUSPENDED_RESULT, SuspensionPoint, asOperation, type Operation } from "./operation.ts";
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks, budget); these bindings are used only inside functions, never while the modules load
import { current, overBudget, setBudgetLimit, setSpent } from "./scheduler.ts";

export { overBudget };

/**
 * How many operations that complete at once a task may run in one turn before
 * the next one yields first. Tokio's budget is 128 too: large enough that the
 * yields cost nothing measurable (one switch per 128 operations), small
 * enough that a sibling waits at most 128 operations of a busy task.
 */
export const BUDGET = 128;

let enabled = true;

/**
 * The `waitRecord` of a task parked in a forced yield: its operation has not
 * run yet, so it has nothing to undo if it is cancelled.
 */
export const BUDGET_YIELD: unique symbol = Symbol("weft.budgetYield");

/**
 * Turns the budget on or off, for the benchmark's with/without comparison and
 * for tests. Internal: not exported from any entry point. Off, operations that
 * can complete at once never yield (the behaviour before the budget existed).
 */
export function setBudgetEnabled(on: boolean): void {
  enabled = on;
  setBudgetLimit(on ? BUDGET : Infinity);
}

/** Whether the budget is on. */
export function budgetEnabled(): boolean {
  return enabled;
}

/**
 * The forced yield, for a hand-written suspension point's first `next()`:
 * parks `task` at the back of the ready ring with the BUDGET_YIELD marker.
 * When resumed normally the suspension point clears the marker and runs its
 * operation afresh; when resumed by a cancellation, it clears the marker and
 * rethrows, having done nothing.
 */
export function yieldForBudget(task: Coroutine): IteratorResult<unknown, never> {
  task.waitRecord = BUDGET_YIELD;
  task.flags |= Flag.READY;
  task.scheduler.ring.push(task);
  return SUSPENDED_RESULT;
}

/** The forced yield as an operation, for operations written as generators. */
class BudgetYieldOp extends SuspensionPoint<void> {
  next(value?: unknown): IteratorResult<unknown, void> {
    if (value === RESUME) {
      const task = current!;
      task.waitRecord = undefined;
      // The operation that yielded runs now: it is the first spent from the
      // fresh budget, as when a hand-written one runs afresh.
      setSpent(1);
      return DONE_VOID;
    }
    return yieldForBudget(current!);
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    current!.waitRecord = undefined;
    throw error;
  }
}

const BUDGET_YIELD_OP = asOperation(new BudgetYieldOp());

/**
 * The forced yield for a generator operation: `if (overBudget() &&
 * canCompleteNow) yield* budgetYield();` before the operation takes effect.
 * Only for a running task (`overBudget` is false outside one).
 */
export function budgetYield(): Operation<void> {
  return BUDGET_YIELD_OP;
}
