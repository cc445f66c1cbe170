/**
 * `sleep(ms)` and `now()`.
 */
import { hostClock } from "./clock.ts";
import type { Coroutine } from "./coroutine.ts";
import { Cancelled, WeftUsageError } from "./errors.ts";
import { DONE_VOID, RESUME, SUSPENDED_RESULT, asOperation, requireDuration, type Operation } from "./operation.ts";
import { current, requireTask } from "./scheduler.ts";
import { TimerEntry } from "./timer_heap.ts";

/** One sleep: both the operation the task delegates to and its timer entry. */
class SleepOp extends TimerEntry {
  private task: Coroutine | null = null;
  private used = false;

  constructor(private readonly ms: number) {
    super();
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(value?: unknown): IteratorResult<unknown, void> {
    if (value === RESUME) return DONE_VOID;
    const task = current ?? requireTask("sleep()");
    if (this.used) throw new WeftUsageError("sleep(): an operation object runs once; call sleep() again for another sleep");
    if (task.cancelDue) throw new Cancelled();
    this.used = true;
    this.task = task;
    const scheduler = task.scheduler;
    scheduler.addTimer(this, scheduler.clock() + this.ms);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    const task = this.task;
    if (task !== null) task.scheduler.removeTimer(this);
    throw error;
  }

  return(value: void): IteratorResult<unknown, void> {
    const task = this.task;
    if (task !== null) task.scheduler.removeTimer(this);
    return { done: true, value };
  }

  fire(): void {
    const task = this.task!;
    task.scheduler.wake(task);
  }
}

/**
 * Suspends the task for `ms` milliseconds (at least). `sleep(0)` still
 * suspends: the task resumes after the current round, once the scheduler has
 * looked at its timers. Throws `Cancelled` if the task is or becomes
 * cancelled, and `RangeError` for a negative or non-finite duration.
 *
 * @example
 * ```ts
 * yield* sleep(250);
 * ```
 */
export function sleep(ms: number): Operation<void> {
  requireDuration("sleep()", "ms", ms);
  return asOperation(new SleepOp(ms) as never);
}

/**
 * The scheduler's clock in milliseconds: the host's monotonic clock, the
 * embedder's clock under `weft/host`, the virtual clock under `weft/testing`.
 * Only differences between two readings mean anything.
 *
 * @example
 * ```ts
 * const start = now();
 * yield* sleep(100);
 * console.log(now() - start >= 100); // true
 * ```
 */
export function now(): number {
  const task = current;
  return task !== null ? task.scheduler.clock() : hostClock();
}
