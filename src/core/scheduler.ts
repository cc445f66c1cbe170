/**
 * The scheduler: a ready ring of coroutines run in rounds, a timer heap, and
 * the `current` task. The behaviour it promises is in docs/semantics.md
 * («Rounds», «Wake-ups», «Pause», «Cancellation»); this note says how it is
 * built and why.
 *
 * Rounds. A task is a generator; running it means calling `next()` until it
 * yields at a suspension point or returns. The ring holds the tasks that are
 * ready, in wake order. A round takes the ring's length when it begins and
 * resumes exactly that many tasks, so whatever they wake or spawn lands behind
 * them and waits for the next round. That one rule gives fairness (two tasks
 * that wake each other take turns) and bounds a round, so the driver can
 * always get control back between rounds: no task can starve the host by
 * re-waking itself.
 *
 * Precise wake-ups. A task is queued only when it is parked and not already
 * queued (the READY flag), so it sits in the ring at most once and is never
 * resumed for nothing: when it runs again, what it waited for happened or it
 * was cancelled. The primitives rely on this (a semaphore waiter that wakes
 * holds its permit). It also makes `live - ring.size` the exact number of parked tasks,
 * which is what deadlock detection needs. Cancelling only sets a sticky flag
 * and wakes the task unless it is shielded; the round resumes a cancelled task
 * through `throw`, so the error surfaces at the suspension point it parked in.
 *
 * The fast pause. `pause()` in a task that is alone in the ring would park it
 * and at once resume it as the next round's only task. It skips that switch
 * instead, but only a batch of times in a row (FAST_PAUSE_BATCH): the batch
 * ends with a real switch, so a task pausing in a loop still hands the driver
 * its chance to read the clock, fire timers and give the host a turn.
 *
 * Clock batching. Reading the clock costs about as much as two task switches,
 * so `runRounds` reads it once per batch of steps rather than per switch, and
 * sizes the batch so that a batch takes about CHECK_TARGET_US: it halves when
 * a batch ran long and doubles when it ran short. Due timers are fired when
 * the clock is read, so they fire at most about that late; with no timers and
 * no time slice the clock is never read at all.
 *
 * The driver contract. The scheduler knows nothing of any host. A driver
 * (event loop, host pump, virtual time) gives it a clock and implements
 * `SchedulerDriver`: `requestRun` when a task became ready while no drain was
 * running (asked at most once until the driver runs; told when a host IO
 * callback woke the task, see {@link Scheduler.wake}), `timersChanged` when
 * the earliest deadline may have moved outside a drain, and `idle` when the
 * last live task ended. In return the driver calls `drain` (rounds with
 * `draining` set, so wake-ups during them do not call back into the driver),
 * and decides what to do between drains: sleep until the next deadline, yield
 * to the host, or advance virtual time.
 */
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { Coroutine, Flag, type CancelPropagator, type ChildOwner } from "./coroutine.ts";
import { captureLocation, debugEnabled } from "./debug.ts";
import { Cancelled, sharedCancelled, WeftUsageError } from "./errors.ts";
import { describe, hasNativeGeneratorMethods, isOperation, nativeNext, nativeThrow, RESUME, SUSPEND, type Operation } from "./operation.ts";
import { Ring } from "./ring.ts";
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { runCancelHooks, runEndHooks } from "./task_hooks.ts";
import { TimerHeap, type TimerEntry } from "./timer_heap.ts";

/** What a driver does for its scheduler. */
export interface SchedulerDriver {
  /**
   * A task became ready while no drain was running: arrange to drain soon.
   * `fromIo`: it was woken by a host callback that delivers IO to it, with
   * no task running (see {@link Scheduler.wake}), so the driver may drain
   * now, inside that callback, if its policy allows.
   */
  requestRun(fromIo: boolean): void;
  /** A timer was added or the earliest deadline may have moved, outside a drain. */
  timersChanged(): void;
  /** The last live task ended. */
  idle(): void;
}

/** Called when a root task (one spawned outside any group) ends. */
export type RootListener = (task: Coroutine) => void;

const enum Tuning {
  /**
   * How many times in a row `pause()` may skip the switch when it is the only
   * ready task. Every batch ends with a real switch, so the driver still reads
   * its clock, fires due timers and honours its time slice.
   */
  FAST_PAUSE_BATCH = 32,
  /**
   * Reading the clock costs about as much as two task switches, so a drain
   * reads it once per batch of steps, sized so that a batch takes about
   * CHECK_TARGET_US microseconds. Due timers are therefore fired at most about
   * that late.
   */
  CHECK_TARGET_US = 100,
  MAX_STEPS_PER_CHECK = 4096,
}

const CHECK_TARGET_MS = Tuning.CHECK_TARGET_US / 1000;

/** The task whose code is running now, or null between tasks. */
export let current: Coroutine | null = null;

/**
 * The running task's cooperative budget (see `budget.ts`): operations it
 * completed at once since the scheduler resumed it. One counter serves every
 * task, as one task runs at a time and a resume sets it back to 0: that is
 * a per-task budget without a field on every task or a load of `current` on
 * every operation. (A scheduler pumped from inside another one's task, as a
 * host embedding weft in weft might, shares the counter: the outer task then
 * goes on with what the inner tasks left of it, which only moves its next
 * forced yield.)
 */
let spent = 0;
/**
 * How many may be spent before an operation that could complete at once
 * yields first: `BUDGET` of budget.ts (written out: this module loads first),
 * Infinity while the budget is off.
 */
let budgetLimit = 128;

/**
 * Spends one unit of the running task's budget; true when it was already
 * spent, so the operation, if it can complete at once, must yield first.
 * False outside a task (an operation driven by hand has no budget).
 */
export function overBudget(): boolean {
  return ++spent > budgetLimit && current !== null;
}

/** Sets the running task's budget as spent `n` units (after a forced yield, the operation that yielded). */
export function setSpent(n: number): void {
  spent = n;
}

/** Sets the budget per turn (Infinity: off). */
export function setBudgetLimit(limit: number): void {
  budgetLimit = limit;
}

/** The running task; throws a WeftUsageError naming `api` outside any task. */
export function requireTask(api: string): Coroutine {
  const task = current;
  if (task === null) {
    throw new WeftUsageError(`${api} must run inside a weft task: use it with yield* in a function* body started by run() or a task group`);
  }
  return task;
}

export class Scheduler {
  readonly ring: Ring<Coroutine> = new Ring<Coroutine>(64);
  readonly timers: TimerHeap = new TimerHeap();
  readonly clock: () => number;
  /** Live (spawned and not ended) tasks. */
  live = 0;
  /** Operations waiting on the outside world (`action`, `call`, `until`). */
  external = 0;
  /** True while a driver is running rounds. */
  draining = false;
  /** True once the driver was asked to run and has not run yet. */
  runRequested = false;
  /** Root tasks, with who to tell when each ends. */
  readonly roots: Map<Coroutine, RootListener | null> = new Map();
  fastPauses = Tuning.FAST_PAUSE_BATCH;
  /** How many steps run between two clock readings; adapts to the work. */
  private stepsPerCheck = 64;
  driver: SchedulerDriver;

  constructor(clock: () => number, driver: SchedulerDriver) {
    this.clock = clock;
    this.driver = driver;
  }

  // ── spawning ──────────────────────────────────────────────────────────────

  /**
   * Creates a task that starts in a later round. It is shielded until it
   * starts, so a task cancelled before it ran still starts and meets the
   * cancellation at its first suspension point (docs/semantics.md, «Shielding»).
   * It inherits the context values of the running task (docs/semantics.md, «Context»).
   */
  spawn(body: () => Operation<unknown>, flags: number, owner: ChildOwner | null, loc?: string): Coroutine {
    if (loc === undefined && debugEnabled) loc = captureLocation();
    // A child sees the contexts of the task that spawned it, as they are now.
    const parent = current;
    const task = new Coroutine(this, body, flags | Flag.SHIELDED | Flag.READY, owner, loc, parent !== null ? parent.context : null);
    this.live++;
    this.ring.push(task);
    if (!this.draining && !this.runRequested) this.requestRun();
    return task;
  }

  /**
   * Spawns a task outside any group; `listener` hears when it ends. `loc` is
   * the spawn location to report, when the caller captured it itself.
   */
  spawnRoot(body: () => Operation<unknown>, listener: RootListener | null, loc?: string): Coroutine {
    const task = this.spawn(body, Flag.ROOT, null, loc);
    this.roots.set(task, listener);
    return task;
  }

  // ── waking and cancelling ───────────────────────────────────────────────────

  /**
   * Queues a parked task for the next round; a no-op for any other task.
   * `fromIo`: the caller is a host callback that hands the task IO (a
   * socket's `data`), so the driver may run the task before the callback
   * returns (see `SchedulerDriver.requestRun`), as a plain Node server
   * answers in the callback that brought the request, instead of after the
   * host's queued ticks. Only for callbacks whose caller tolerates arbitrary
   * work inside them, as every listener of a Node stream's events may do it.
   * Not while a task of any scheduler runs (it wrote to the stream itself):
   * no drain runs nested inside a task.
   */
  wake(task: Coroutine, fromIo = false): void {
    if ((task.flags & (Flag.READY | Flag.STATE_MASK)) !== Flag.SUSPENDED) return;
    task.flags |= Flag.READY;
    this.ring.push(task);
    if (!this.draining && !this.runRequested) this.requestRun(fromIo && current === null);
  }

  /**
   * Cancels a task: sets the sticky flag and, unless shielded, wakes it so the
   * error is thrown at its suspension point in a later round. A running task is
   * not queued: its next unshielded suspension point throws at once. A task
   * parked in `withTaskGroup` passes the cancellation on to the group's tasks
   * now, not when it next runs.
   */
  cancel(task: Coroutine): void {
    const flags = task.flags;
    task.flags = flags | Flag.CANCELLED | Flag.TASK_CANCELLED;
    this.interrupt(task, flags);
    if ((flags & (Flag.HOOKED | Flag.TASK_CANCELLED)) === Flag.HOOKED) runCancelHooks(task, null);
  }

  /**
   * Delivers a cancellation just set on `task` (whose flags were `before`):
   * unless it is shielded, wakes it, and if it was not cancelled already,
   * passes the cancellation on to the group it is parked in. Also used by a timeout
   * scope whose deadline passed (see `cancel_scope.ts`).
   */
  interrupt(task: Coroutine, before: number): void {
    // Shielded: delivered at the next suspension point once the shield is lifted.
    if ((before & Flag.SHIELDED) !== 0) return;
    this.wake(task);
    if ((before & (Flag.GROUP_WAIT | Flag.CANCELLED)) === Flag.GROUP_WAIT) {
      (task.waitRecord as CancelPropagator).parentCancelled();
    }
  }

  private requestRun(fromIo = false): void {
    this.runRequested = true;
    this.driver.requestRun(fromIo);
  }

  // ── timers ──────────────────────────────────────────────────────────────────

  /** Arms `entry` (a fresh entry, never one still in the heap) for `deadline`; `late`: see `TimerHeap.add`. */
  addTimer(entry: TimerEntry, deadline: number, late = false): void {
    this.timers.add(entry, deadline, late);
    if (!this.draining) this.driver.timersChanged();
  }

  removeTimer(entry: TimerEntry): void {
    this.timers.remove(entry);
  }

  // ── running ───────────────────────────────────────────────────────────────

  /**
   * What every driver does when it gets its turn: runs rounds (see
   * `runRounds`) with `draining` set, so wake-ups and new timers during them
   * do not call back into the driver. Returns false, running nothing, when a
   * drain is already under way (a driver re-entered from inside a task).
   */
  drain(sliceMs: number, maxRounds: number): boolean {
    if (this.draining) return false;
    this.draining = true;
    this.runRequested = false;
    try {
      this.runRounds(sliceMs, maxRounds);
    } finally {
      this.draining = false;
    }
    return true;
  }

  /**
   * Runs rounds until nothing is ready, `sliceMs` has passed, or `maxRounds`
   * rounds have run. Due timers are fired before the first round, between
   * rounds (once per batch of steps), and after the last one, so ready tasks
   * and expired timers are both served without reading the clock per switch.
   * With an infinite slice and no timers the clock is never read.
   */
  runRounds(sliceMs: number, maxRounds: number): void {
    const ring = this.ring;
    const timers = this.timers;
    const clock = this.clock;
    const timed = sliceMs !== Infinity;
    let start = 0;
    let lastCheck = -1;
    if (timed || timers.size !== 0) {
      start = lastCheck = clock();
      if (timers.size !== 0) timers.fireDue(start);
    }
    let stepsPerCheck = this.stepsPerCheck;
    let steps = 0;
    let rounds = 0;
    while (ring.size !== 0 && rounds < maxRounds) {
      steps += this.runRound();
      rounds++;
      if (steps < stepsPerCheck && ring.size !== 0) continue;
      steps = 0;
      if (!timed && timers.size === 0) continue;
      const t = clock();
      if (lastCheck >= 0) {
        const elapsed = t - lastCheck;
        if (elapsed > 2 * CHECK_TARGET_MS) {
          if (stepsPerCheck > 1) stepsPerCheck >>= 1;
        } else if (elapsed < CHECK_TARGET_MS / 2 && stepsPerCheck < Tuning.MAX_STEPS_PER_CHECK) {
          stepsPerCheck <<= 1;
        }
      } else {
        start = t;
      }
      lastCheck = t;
      if (timers.size !== 0) timers.fireDue(t);
      if (timed && t - start >= sliceMs) break;
    }
    this.stepsPerCheck = stepsPerCheck;
  }

  /**
   * Runs one round: the tasks that were ready when it began, in wake order.
   * Returns how many entries it took from the ring.
   */
  runRound(): number {
    const ring = this.ring;
    const n = ring.size;
    this.fastPauses = Tuning.FAST_PAUSE_BATCH;
    const previous = current;
    // The resume is written out here rather than called: this loop is the
    // whole cost of a task switch, and keeping it in one function keeps the
    // JIT's result the same whatever ran first.
    for (let i = 0; i < n; i++) {
      const task = ring.shift();
      const flags = task.flags;
      if ((flags & Flag.STATE_MASK) !== Flag.SUSPENDED) {
        // Cannot happen while wake-ups are precise; if that ever broke, this
        // keeps an ended task's generator from being resumed a second time.
        task.flags = flags & Flag.NOT_READY;
        continue;
      }
      task.flags = (flags & Flag.NOT_READY & Flag.NOT_STATE) | Flag.RUNNING;
      spent = 0; // a fresh cooperative budget each turn (budget.ts)
      current = task;
      let result: IteratorResult<unknown, unknown>;
      try {
        if ((flags & Flag.STARTED) !== 0 && (flags & Flag.CANCEL_DUE_MASK) !== Flag.CANCELLED) {
          result =
            (flags & Flag.NATIVE_GEN) !== 0
              ? nativeNext.call(task.gen as Iterator<unknown, unknown, unknown>, RESUME)
              : (task.gen as Iterator<unknown, unknown, unknown>).next(RESUME);
        } else {
          result = resumeSpecially(task, flags);
        }
        if (result.value !== SUSPEND && result.done !== true) result = rejectBareYields(task, result);
      } catch (error) {
        current = previous;
        this.finish(task, Flag.FAILED, error);
        continue;
      }
      current = previous;
      if (result.done === true) this.finish(task, Flag.DONE, result.value);
      else task.flags = (task.flags & Flag.NOT_STATE) | Flag.SUSPENDED;
    }
    return n;
  }

  /** Whether `pause()` may skip the switch: see Tuning.FAST_PAUSE_BATCH. */
  fastPause(): boolean {
    if (this.ring.size !== 0) return false;
    return --this.fastPauses > 0;
  }

  private finish(task: Coroutine, state: number, value: unknown): void {
    task.flags = (task.flags & Flag.NOT_STATE) | state;
    // The generator is done with: its slot keeps the outcome (see `Coroutine.result`).
    task.gen = value;
    task.waitRecord = undefined;
    this.live--;
    const waiters = task.waiters;
    // The waits complete now, before the group hears of the end: a
    // cancellation that the group's reaction sends to a waiter comes second.
    if (waiters !== null) {
      if (Array.isArray(waiters)) for (const w of waiters) markWaitCompleted(w);
      else markWaitCompleted(waiters);
    }
    const owner = task.owner;
    if (owner !== null) owner.childDone(task);
    if (waiters !== null) {
      task.waiters = null;
      if (Array.isArray(waiters)) for (const w of waiters) w.scheduler.wake(w);
      else waiters.scheduler.wake(waiters);
    }
    if ((task.flags & Flag.HOOKED) !== 0) runEndHooks(task);
    if ((task.flags & Flag.ROOT) !== 0) {
      const listener = this.roots.get(task);
      this.roots.delete(task);
      if (listener) listener(task);
    }
    if (this.live === 0) this.driver.idle();
  }

  // ── reports ───────────────────────────────────────────────────────────────

  /**
   * Live tasks that are parked (not queued to run). Wake-ups are precise, so
   * the ring holds only parked live tasks, each once.
   */
  blockedCount(): number {
    return this.live - this.ring.size;
  }
}

/**
 * Marks a task parked in `Task.wait()` on a task that just ended, so that a
 * cancellation arriving before it runs cannot undo a wait that completed (see
 * `TaskWaitOp.throw`). One whose cancellation came first is left unmarked:
 * it throws `Cancelled`, its wait had no effect.
 */
function markWaitCompleted(waiter: Coroutine): void {
  if (!waiter.cancelDue) waiter.waitRecord = WAIT_COMPLETED;
}

/** The `waitRecord` of a task whose `Task.wait()` completed. */
export const WAIT_COMPLETED: unique symbol = Symbol("weft.waitCompleted");

/** Resumes a task that has not started yet, or whose cancellation is due. */
function resumeSpecially(task: Coroutine, flags: number): IteratorResult<unknown, unknown> {
  if ((flags & Flag.STARTED) === 0) {
    // Starting lifts the spawn-time shield (docs/semantics.md, «Shielding»).
    task.flags = (task.flags & Flag.NOT_SHIELDED) | Flag.STARTED;
    const gen = startBody(task);
    return (task.flags & Flag.NATIVE_GEN) !== 0 ? nativeNext.call(gen, undefined) : gen.next(undefined);
  }
  const gen = task.gen as Iterator<unknown, unknown, unknown>;
  return (flags & Flag.NATIVE_GEN) !== 0 ? nativeThrow.call(gen, cancellationFor(task)) : gen.throw!(cancellationFor(task));
}

/**
 * The `Cancelled` thrown into `task` at its suspension point. Outside debug
 * mode it is the shared one (see `sharedCancelled`): making an `Error` per
 * task was the largest cost of cancelling many. In debug mode each is fresh,
 * names the task (and where it was spawned) and has a stack.
 */
function cancellationFor(task: Coroutine): Cancelled {
  if (!debugEnabled) return sharedCancelled();
  return new Cancelled(`${task.describe()} was cancelled`);
}

/** A task yielded something other than SUSPEND: a bare `yield`. Tell it, at that yield. */
function rejectBareYields(task: Coroutine, result: IteratorResult<unknown, unknown>): IteratorResult<unknown, unknown> {
  const gen = task.gen as Iterator<unknown, unknown, unknown>;
  while (result.done !== true && result.value !== SUSPEND) {
    result = gen.throw!(
      new WeftUsageError(
        `a weft task yielded ${describe(result.value)} with a bare \`yield\`: suspend with \`yield*\` on a weft operation (yield* pause(), yield* sleep(ms), …)`,
      ),
    );
  }
  return result;
}

function startBody(task: Coroutine): Iterator<unknown, unknown, unknown> {
  const body = task.gen as () => unknown;
  const gen = body();
  if (typeof gen === "object" && gen !== null && hasNativeGeneratorMethods(gen as Operation<unknown>)) {
    task.gen = gen as Operation<unknown>;
    task.flags |= Flag.NATIVE_GEN;
    return gen as Operation<unknown>;
  }
  if (!isOperation(gen)) {
    task.gen = null;
    const hint =
      typeof (gen as { then?: unknown } | null)?.then === "function"
        ? " (an async function? weft bodies are function* generators: use yield* call(() => promise) to wait for a promise)"
        : "";
    throw new TypeError(`a task body must return an Operation (write it as a function* generator), got ${describe(gen)}${hint}`);
  }
  task.gen = gen;
  return gen;
}
