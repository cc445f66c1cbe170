/**
 * The virtual-time driver: a clock that stands still while tasks run and
 * jumps straight to the next deadline whenever no task is ready, so a test of
 * `sleep(3_600_000)` finishes at once and always in the same order.
 */
import { Flag } from "../core/coroutine.ts";
import { DeadlockError } from "../core/errors.ts";
import { MAX_HOST_TIMER_MS } from "../core/clock.ts";
import { describe, requireDuration, requireFunction, type Operation } from "../core/operation.ts";
import { Scheduler, type SchedulerDriver } from "../core/scheduler.ts";
import type { Task } from "../core/task.ts";
import { reportDeadlock } from "./deadlock.ts";
import { createHost, type PumpResult } from "./host_pump.ts";
import { macrotask } from "./macrotask.ts";

/** Rounds run before the driver lets the host (and its promises) have a turn. */
const ROUNDS_PER_TURN = 10_000;

/**
 * How long, in real milliseconds, {@link runVirtual} lets a run sit idle
 * while a task waits on the host before it moves the clock anyway (see
 * {@link VirtualRunOptions.autojumpThreshold}).
 */
export const DEFAULT_AUTOJUMP_THRESHOLD_MS = 250;

/**
 * Options for {@link runVirtual}.
 *
 * @example
 * ```ts
 * const options: VirtualRunOptions = { autojumpThreshold: 0 }; // jump even while real work is pending
 * const at = yield* until(runVirtual(function* () {
 *   yield* sleep(5_000);
 *   return now();
 * }, options));
 * console.log(at); // prints 5000
 * ```
 */
export interface VirtualRunOptions {
  /**
   * While a task waits on the host (`call`, `until`, `action`, any IO), the
   * clock does not jump: virtual timers wait for the real operation. Once no
   * host callback has woken a task for this many real milliseconds, the clock
   * jumps to the next deadline anyway, so a timeout around real work that
   * hangs still fires (default {@link DEFAULT_AUTOJUMP_THRESHOLD_MS}, 250 ms;
   * 0 jumps at once, as if the work took no time; `Infinity` never jumps while
   * something is pending). With nothing pending on the host the clock always
   * jumps at once, whatever the threshold.
   */
  autojumpThreshold?: number;
}

/**
 * Runs `body` on a virtual clock that starts at 0 and jumps to the next timer
 * deadline whenever no task is ready; `now()` and every timer follow it.
 * Promises and host callbacks (`action`) still work, in real time: while a
 * task waits for one, the clock stands still until the host answers or has
 * been silent for `options.autojumpThreshold` real milliseconds (250 by
 * default), so real work that answers quickly beats a long virtual timeout.
 * If tasks are blocked with no timer set and no host operation pending, the
 * run is deadlocked: the report is printed (see `setDeadlockHandler`) and the
 * promise rejects with `DeadlockError`.
 *
 * @example
 * ```ts
 * const elapsed = yield* until(runVirtual(function* () {
 *   yield* sleep(3_600_000); // an hour, in no time
 *   return now();
 * }));
 * console.log(elapsed); // prints 3600000
 * const answer = yield* until(runVirtual(function* () {
 *   // A real promise that settles in a few real ms wins against a virtual minute.
 *   return yield* withTimeoutOpt(60_000, () => call(() => new Promise((resolve) => setTimeout(() => resolve("real"), 5))));
 * }));
 * console.log(answer); // prints real
 * ```
 */
export function runVirtual<T>(body: () => Operation<T>, options?: VirtualRunOptions): Promise<T> {
  requireFunction("runVirtual()", "body", body);
  const threshold = autojumpThresholdOf(options);
  let virtualNow = 0;
  let posted = false;
  /** Set when the host stayed silent for the threshold: the next step may jump once. */
  let jumpAllowed = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
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

  function stopIdleTimer(): void {
    if (idleTimer === undefined) return;
    clearTimeout(idleTimer);
    idleTimer = undefined;
  }

  /** The clock may move now: nothing waits on the host, or it has been silent long enough. */
  function mayJump(): boolean {
    return scheduler.external === 0 || threshold === 0 || jumpAllowed;
  }

  function step(): void {
    posted = false;
    // Any step is activity: the idle period starts again after it.
    stopIdleTimer();
    if (scheduler.draining) return;
    for (let turn = 0; turn < ROUNDS_PER_TURN; turn++) {
      scheduler.drain(Infinity, 1);
      if (scheduler.ring.size !== 0) continue;
      if (scheduler.live === 0) return;
      const next = scheduler.timers.nextDeadline();
      if (next === undefined || !mayJump()) break;
      jumpAllowed = false;
      if (next > virtualNow) virtualNow = next;
    }
    if (scheduler.live === 0) return;
    const next = scheduler.timers.nextDeadline();
    if (scheduler.ring.size !== 0 || (next !== undefined && mayJump())) {
      post();
      return;
    }
    if (next !== undefined) {
      // A task waits on the host: give it the threshold, in real time, to answer.
      if (threshold !== Infinity) {
        idleTimer = setTimeout(() => {
          idleTimer = undefined;
          // A host callback already asked for a step (a stalled host fires both at once): not idle.
          if (posted) return;
          jumpAllowed = true;
          post();
        }, threshold);
      }
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
    stopIdleTimer();
    settle?.(task.state === Flag.DONE, task.result);
    settle = null;
  });
  return promise;
}

function autojumpThresholdOf(options: VirtualRunOptions | undefined): number {
  if (options === undefined) return DEFAULT_AUTOJUMP_THRESHOLD_MS;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`runVirtual(): options must be an object, got ${describe(options)}`);
  }
  const threshold = options.autojumpThreshold;
  if (threshold === undefined) return DEFAULT_AUTOJUMP_THRESHOLD_MS;
  if (typeof threshold !== "number") {
    throw new TypeError(`runVirtual(): options.autojumpThreshold must be a number, got ${describe(threshold)}`);
  }
  if (threshold !== Infinity && (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_HOST_TIMER_MS)) {
    throw new RangeError(
      `runVirtual(): options.autojumpThreshold must be an integer number of milliseconds in [0, ${MAX_HOST_TIMER_MS}] or Infinity, got ${threshold}`,
    );
  }
  return threshold;
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
