/**
 * `sleep(ms)` and `now()`.
 *
 * A sleeping task costs no object of its own: the task record is the timer
 * entry, and the iterator its body delegates to while it sleeps is one shared
 * object (the task it serves is always `current` when the scheduler calls it).
 * The object `sleep()` returns only carries the duration to the `yield*`.
 */
import { hostClock } from "./clock.ts";
import type { Coroutine } from "./coroutine.ts";
import { Cancelled, WeftUsageError } from "./errors.ts";
import { DONE_VOID, RESUME, SUSPENDED_RESULT, asOperation, requireDuration, type Operation } from "./operation.ts";
import { current, requireTask } from "./scheduler.ts";

/** Parks the current task until `ms` from now, the task itself as the timer entry. */
function startSleep(ms: number): IteratorResult<unknown, void> {
  const task = current ?? requireTask("sleep()");
  if (task.cancelDue) throw new Cancelled();
  const scheduler = task.scheduler;
  scheduler.addTimer(task, scheduler.clock() + ms);
  return SUSPENDED_RESULT;
}

/** Cancelled or closed while asleep: the deadline no longer concerns the task. */
function stopSleep(): void {
  const task: Coroutine | null = current;
  if (task === null) return;
  task.scheduler.removeTimer(task);
  task.waitRecord = undefined;
}

/** The iterator every sleeping body delegates to; `yield*` hands it the duration through `pendingMs`. */
const sleeping = {
  next(value?: unknown): IteratorResult<unknown, void> {
    if (value === RESUME) return DONE_VOID;
    const ms = pendingMs;
    pendingMs = -1;
    if (ms < 0) throw new WeftUsageError("sleep(): resume a sleep only through yield* sleep(ms)");
    return startSleep(ms);
  },
  throw(error: unknown): IteratorResult<unknown, void> {
    stopSleep();
    throw error;
  },
  return(value: void): IteratorResult<unknown, void> {
    stopSleep();
    return { done: true, value };
  },
  [Symbol.iterator]() {
    return this;
  },
};

/** Set by `SleepOp[Symbol.iterator]` and taken by the `next()` that `yield*` calls right after it. */
let pendingMs = -1;

/** What `sleep()` returns: the duration, until `yield*` takes it (once). */
class SleepOp {
  constructor(private ms: number) {}

  [Symbol.iterator](): typeof sleeping {
    this.take();
    return sleeping;
  }

  private take(): number {
    const ms = this.ms;
    if (ms < 0) throw new WeftUsageError("sleep(): an operation object runs once; call sleep() again for another sleep");
    this.ms = -1;
    pendingMs = ms;
    return ms;
  }

  // Driven by hand rather than by yield*: the same steps, on this object.
  next(value?: unknown): IteratorResult<unknown, void> {
    if (value === RESUME) return DONE_VOID;
    return startSleep(this.take());
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    return sleeping.throw(error);
  }

  return(value: void): IteratorResult<unknown, void> {
    return sleeping.return(value);
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
