/**
 * The virtual-time driver: a clock that stands still while tasks run and
 * jumps straight to the next deadline whenever no task is ready, so a test of
 * `sleep(3_600_000)` finishes at once and always in the same order.
 */
import { Flag } from "../core/coroutine.ts";
import { DeadlockError } from "../core/errors.ts";
import { requireDuration, requireFunction, type Operation } from "../core/operation.ts";
import { Scheduler, type SchedulerDriver } from "../core/scheduler.ts";
import type { Task } from "../core/task.ts";
import { reportDeadlock } from "./deadlock.ts";
import { createHost, type PumpResult } from "./host_pump.ts";
import { macrotask } from "./macrotask.ts";

/** Rounds run before the driver lets the host (and its promises) have a turn. */
const ROUNDS_PER_TURN = 10_000;

/**
 * Runs `body` on a virtual clock that starts at 0 and jumps to the next timer
 * deadline whenever no task is ready; `now()` and every timer follow it.
 * Promises and host callbacks (`action`) still work, in real time. If tasks
 * are blocked with no timer set and no host operation pending, the run is
 * deadlocked: the report is printed (see `setDeadlockHandler`) and the promise
 * rejects with `DeadlockError`.
 *
 * @example
 * ```ts
 * import { runVirtual } from "weftjs/testing";
 * import { sleep, now } from "weftjs";
 *
 * const elapsed = await runVirtual(function* () {
 *   yield* sleep(3_600_000); // an hour, in no time
 *   return now();
 * });
 * console.log(elapsed); // prints 3600000
 * ```
 */
export function runVirtual<T>(body: () => Operation<T>): Promise<T> {
  requireFunction("runVirtual()", "body", body);
  let virtualNow = 0;
  let posted = false;
  const driver: SchedulerDriver = {
    requestRun: () => post(),
    timersChanged: () => post(),
    idle: () => {},
  };
  const scheduler = new Scheduler(() => virtualNow, driver);
  const postStep = macrotask(() => step());
  let settle: ((ok: boolean, value: unknown) => void) | null = null;
  const promise = new Promise<T>((resolve, reject) => {
    settle = (ok, value) => (ok ? resolve(value as T) : reject(value));
  });

  function post(): void {
    if (posted) return;
    posted = true;
    postStep();
  }

  function step(): void {
    posted = false;
    if (scheduler.draining) return;
    for (let turn = 0; turn < ROUNDS_PER_TURN; turn++) {
      scheduler.drain(Infinity, 1);
      if (scheduler.ring.size !== 0) continue;
      if (scheduler.live === 0) return;
      const next = scheduler.timers.nextDeadline();
      if (next === undefined) break;
      if (next > virtualNow) virtualNow = next;
    }
    if (scheduler.live === 0) return;
    if (scheduler.ring.size !== 0 || scheduler.timers.nextDeadline() !== undefined) {
      post();
      return;
    }
    // Blocked with no timer: only a pending host operation can still wake a task.
    if (scheduler.external === 0) {
      const report = reportDeadlock(scheduler);
      settle?.(false, new DeadlockError(report.blocked, report.locations));
      settle = null;
    }
  }

  scheduler.spawnRoot(body, (task) => {
    settle?.(task.state === Flag.DONE, task.result);
    settle = null;
  });
  return promise;
}

/**
 * A virtual clock you move by hand, for tests that look between steps. Tasks
 * spawned on it run only inside `runUntilIdle()` and `advance()`, which are
 * synchronous: work waiting on a promise (`call`, `until`) continues after the
 * host's promise jobs have run, at a later call.
 *
 * @example
 * ```ts
 * const clock = createVirtualClock();
 * const task = clock.spawn(function* () { yield* sleep(1000); return "rang"; });
 * clock.advance(999);
 * console.log(task.done); // prints false
 * clock.advance(1);
 * console.log(task.tryWait()); // prints rang
 * ```
 */
export interface VirtualClock {
  /** The virtual time in ms (starts at `start`, 0 by default). */
  now(): number;
  /** Queues `body` as a task on this clock's scheduler. */
  spawn<T>(body: () => Operation<T>): Task<T>;
  /**
   * Runs every ready task and every due timer, without moving time; reports
   * what is left (`blocked` tasks, the `nextDeadline`).
   */
  runUntilIdle(): PumpResult;
  /**
   * Moves time forward by `ms`, stopping at each timer deadline on the way to
   * fire it and run what it wakes, in deadline order; reports what is left.
   */
  advance(ms: number): PumpResult;
}

/**
 * Options for {@link createVirtualClock}.
 *
 * @example
 * ```ts
 * const options: VirtualClockOptions = { start: 1_000 };
 * console.log(createVirtualClock(options).now()); // prints 1000
 * ```
 */
export interface VirtualClockOptions {
  /** The time the clock starts at, in ms (default 0). */
  start?: number;
}

/**
 * Creates a {@link VirtualClock}.
 *
 * @example
 * ```ts
 * const clock = createVirtualClock({ start: 500 });
 * const task = clock.spawn(function* () { yield* sleep(100); return now(); });
 * clock.advance(100);
 * console.log(task.tryWait()); // prints 600
 * ```
 */
export function createVirtualClock(options?: VirtualClockOptions): VirtualClock {
  const start = options?.start ?? 0;
  if (typeof start !== "number" || !Number.isFinite(start)) {
    throw new RangeError(`createVirtualClock(): start must be a finite number, got ${String(start)}`);
  }
  let time = start;
  const host = createHost({ now: () => time });
  const pump = () => host.pump();
  return {
    now: () => time,
    spawn: (body) => host.spawn(body),
    runUntilIdle: pump,
    advance(ms: number): PumpResult {
      requireDuration("VirtualClock.advance()", "ms", ms);
      const target = time + ms;
      for (;;) {
        const { nextDeadline } = pump();
        if (nextDeadline === undefined || nextDeadline > target) break;
        if (nextDeadline > time) time = nextDeadline;
      }
      time = target;
      return pump();
    },
  };
}
