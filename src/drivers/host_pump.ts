/**
 * The host-pump driver, for hosts with no event loop (an embedded engine, a
 * custom IO runtime): the host calls `pump()`, which runs only the work that is
 * ready now and returns.
 */
import { hostClock } from "../core/clock.ts";
import { WeftUsageError } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { Scheduler, type SchedulerDriver } from "../core/scheduler.ts";
import type { Task } from "../core/task.ts";

/**
 * Options for {@link createHost}.
 *
 * @example
 * ```ts
 * let wakes = 0;
 * const host = createHost({ now: () => performance.now(), onWake: () => { wakes++; } }); // a real host would schedule a pump
 * const task = host.spawn(function* () { return "ready"; });
 * host.pump();
 * console.log(task.tryWait()); // prints ready
 * ```
 */
export interface HostOptions {
  /** The host's clock in milliseconds (monotonic). Defaults to `performance.now()` or `Date.now()`. */
  now?: () => number;
  /**
   * Called when a task becomes ready, or a timer is set, outside a pump (a host
   * callback resolved an `action`, released a semaphore, spawned a task): the
   * host should call `pump()` again soon. Called at most once between pumps.
   * It must not call `pump()` itself synchronously.
   */
  onWake?: () => void;
}

/**
 * Options for {@link Host.pump}.
 *
 * @example
 * ```ts
 * const host = createHost();
 * const task = host.spawn(function* () {
 *   for (let i = 0; i < 1000; i++) yield* pause();
 *   return "done";
 * });
 * while (!task.done) host.pump({ maxRounds: 100 }); // bounded work per host frame
 * console.log(task.tryWait()); // prints done
 * ```
 */
export interface PumpOptions {
  /** Stop after this many scheduling rounds even if tasks are still ready (default: no limit). */
  maxRounds?: number;
}

/**
 * What {@link Host.pump} reports when it returns.
 *
 * @example
 * ```ts
 * let clock = 0;
 * const host = createHost({ now: () => clock });
 * const task = host.spawn(function* () { yield* sleep(50); return "rang"; });
 * const { blocked, nextDeadline } = host.pump();
 * console.log(blocked, nextDeadline); // prints 1 50
 * clock = nextDeadline!; // the host sleeps until the deadline
 * host.pump();
 * console.log(task.tryWait()); // prints rang
 * ```
 */
export interface PumpResult {
  /** Live tasks that are waiting for something (a timer, another task, the host). */
  blocked: number;
  /** The earliest timer deadline on the host's clock, or `undefined` if no timer is set. */
  nextDeadline: number | undefined;
  /** Tasks still ready to run: 0 unless `maxRounds` stopped the pump. */
  ready: number;
}

/**
 * A weft scheduler driven by its host.
 *
 * @example
 * ```ts
 * const host = createHost();
 * const task = host.spawn(function* () { yield* sleep(1); return "ok"; });
 * while (!task.done) host.pump();
 * console.log(task.tryWait()); // prints ok
 * ```
 */
export interface Host {
  /** Queues `body` as a new task; it starts at the next `pump()`. */
  spawn<T>(body: () => Operation<T>): Task<T>;
  /**
   * Runs every ready task and every due timer, round after round, and returns
   * as soon as nothing is immediately ready, even if tasks are blocked: it
   * never waits and never spins.
   */
  pump(options?: PumpOptions): PumpResult;
  /** The host clock this scheduler runs on. */
  now(): number;
  /** Live tasks (ready or blocked). */
  readonly live: number;
}

class PumpDriver implements SchedulerDriver {
  pumping = false;
  /** onWake was called since the last pump began. */
  woken = false;
  constructor(private readonly onWake: (() => void) | undefined) {}
  requestRun(): void {
    this.wake();
  }
  timersChanged(): void {
    this.wake();
  }
  idle(): void {}
  private wake(): void {
    if (this.pumping || this.woken) return;
    this.woken = true;
    if (this.onWake !== undefined) this.onWake();
  }
}

/**
 * Creates a scheduler for a host with no event loop.
 *
 * The contract: call `pump()`; it returns `{ blocked, nextDeadline }` when
 * nothing is immediately ready. Call it again when `onWake` fires, and when
 * the host clock reaches `nextDeadline`. With no ready task, no timer and no
 * pending host work, blocked tasks will never run again: the host decides
 * what that means (weft reports no deadlock here).
 *
 * @example
 * ```ts
 * import { createHost } from "weftjs/host";
 * import { sleep } from "weftjs";
 *
 * let clock = 0; // the embedder's clock
 * const host = createHost({ now: () => clock, onWake: () => {} });
 * const task = host.spawn(function* () { yield* sleep(5); return "done"; });
 * for (;;) {
 *   const { nextDeadline } = host.pump();
 *   if (task.done) break;
 *   clock = nextDeadline!; // a real host waits until then, or until onWake is called
 * }
 * console.log(task.tryWait(), clock); // prints done 5
 * ```
 */
export function createHost(options?: HostOptions): Host {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`createHost(): options must be an object, got ${describe(options)}`);
  }
  const now = options?.now ?? hostClock;
  if (typeof now !== "function") throw new TypeError(`createHost(): options.now must be a function, got ${describe(now)}`);
  const onWake = options?.onWake;
  if (onWake !== undefined && typeof onWake !== "function") {
    throw new TypeError(`createHost(): options.onWake must be a function, got ${describe(onWake)}`);
  }
  const driver = new PumpDriver(onWake);
  const scheduler = new Scheduler(() => now(), driver);
  return {
    spawn<T>(body: () => Operation<T>): Task<T> {
      requireFunction("Host.spawn()", "body", body);
      return scheduler.spawnRoot(body, null) as unknown as Task<T>;
    },
    pump(pumpOptions?: PumpOptions): PumpResult {
      const maxRounds = pumpOptions?.maxRounds ?? Infinity;
      if (maxRounds !== Infinity && (typeof maxRounds !== "number" || !Number.isInteger(maxRounds) || maxRounds < 1)) {
        throw new RangeError(`Host.pump(): maxRounds must be an integer >= 1, got ${describe(maxRounds)}`);
      }
      if (driver.pumping) throw new WeftUsageError("Host.pump(): already pumping (pump() was called from inside a task or from onWake)");
      driver.pumping = true;
      driver.woken = false;
      try {
        scheduler.drain(Infinity, maxRounds);
      } finally {
        driver.pumping = false;
      }
      return {
        blocked: scheduler.blockedCount(),
        nextDeadline: scheduler.timers.nextDeadline(),
        ready: scheduler.ring.size,
      };
    },
    now: () => now(),
    get live() {
      return scheduler.live;
    },
  };
}
