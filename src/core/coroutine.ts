/**
 * The coroutine record: one small object of fixed shape per task. Its state,
 * readiness, cancellation, shielding and group options are bits of `flags`, so
 * a spawn allocates one object and the JIT sees one shape.
 */
import type { CancelScope } from "./cancel_scope.ts";
import type { Operation } from "./operation.ts";
import type { Scheduler } from "./scheduler.ts";
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { taskWait, type Task } from "./task.ts";

/**
 * The bits of `Coroutine.flags`. A `const enum`, so the compiler writes the
 * numbers into the hot paths instead of module-variable loads.
 */
export const enum Flag {
  // State, in the low two bits.
  SUSPENDED = 0,
  RUNNING = 1,
  DONE = 2,
  // oxlint-disable-next-line typescript/no-duplicate-enum-values -- STATE_MASK repeats 3: the mask covers the state bits, so it equals the highest state
  FAILED = 3,
  STATE_MASK = 3,
  /** Queued in the ready ring. */
  READY = 1 << 2,
  /** Cancelled; sticky, never cleared. */
  CANCELLED = 1 << 3,
  /** Cancellation is not delivered while set. */
  SHIELDED = 1 << 4,
  /** The body has been called and `gen` holds its generator. */
  STARTED = 1 << 5,
  /** A group child the group does not wait for. */
  DAEMON = 1 << 6,
  /** A group child whose failure does not fail the group. */
  ALLOW_FAILURE = 1 << 7,
  /** The body of a task group: its value becomes the group's result. */
  GROUP_BODY = 1 << 8,
  /** Spawned outside any group (by `run`, a host, a Lazy): tracked as a root. */
  ROOT = 1 << 9,
  /** Has a lifecycle hook (see `task_hooks.ts`), told of cancellation and end. */
  HOOKED = 1 << 10,
  /**
   * Parked in `withTaskGroup` waiting for its group, whose `waitRecord` is a
   * {@link CancelPropagator}: a cancel reaches the group's tasks at once.
   */
  GROUP_WAIT = 1 << 11,
  /**
   * The task itself was cancelled (sticky). `CANCELLED` is set too; it can
   * also be set by a timeout scope alone, and is cleared when that scope
   * ends unless this bit (or an enclosing fired scope) keeps it.
   */
  TASK_CANCELLED = 1 << 12,
  /**
   * `gen` is a native generator whose `next` and `throw` are the built-in ones,
   * so the scheduler calls those directly (see `nativeNext` in operation.ts).
   */
  NATIVE_GEN = 1 << 13,
  /** Both bits: "cancelled and not shielded" means cancellation is due. */
  CANCEL_DUE_MASK = CANCELLED | SHIELDED,
  NOT_STATE = ~STATE_MASK,
  NOT_READY = ~READY,
  NOT_SHIELDED = ~SHIELDED,
  NOT_CANCELLED = ~CANCELLED,
}

/**
 * A task group its parent is parked on: cancelling the parent cancels the
 * group's tasks in the same call, so a hand-off later in the round passes
 * over them (it would otherwise reach a task whose caller is already
 * cancelled).
 */
export interface CancelPropagator {
  parentCancelled(): void;
}

/** One value set by `Context.with`: a link of a task's context chain. */
export interface ContextFrame {
  readonly key: object;
  readonly value: unknown;
  readonly parent: ContextFrame | null;
}

/** Who gets told when a child task ends (a task group). */
export interface ChildOwner {
  childDone(child: Coroutine): void;
}

let nextId = 1;
// Ids, spawn locations and wait operations are rare needs: kept off the record
// so that a spawn allocates as little as possible.
const ids = new WeakMap<Coroutine, number>();
const locations = new WeakMap<Coroutine, string>();

export class Coroutine implements Task<unknown> {
  flags: number;
  readonly scheduler: Scheduler;
  /**
   * Before start: the body function. While it runs: the generator driving the
   * task. Once it has ended: the value it returned or the error it failed
   * with (see `result`), so that the record needs no field of its own for it.
   */
  gen: unknown;
  /** The group the task belongs to, if any. */
  owner: ChildOwner | null;
  prevSibling: Coroutine | null = null;
  nextSibling: Coroutine | null = null;
  /** Tasks waiting for this one to end: one slot that becomes a list for two or more. */
  waiters: Coroutine | Coroutine[] | null = null;
  /** State of the suspension the task is parked in (a waiter record, a group, a timer). */
  waitRecord: unknown = undefined;
  /** The innermost timeout scope the task is running in (see `cancel_scope.ts`). */
  scope: CancelScope | null = null;
  /**
   * The task's context values (`createContext`): an immutable chain shared
   * with the task that spawned it, copied by pointer at spawn, so a spawn
   * allocates nothing for contexts; null while no value was ever set.
   */
  context: ContextFrame | null;

  constructor(
    scheduler: Scheduler,
    body: () => Operation<unknown>,
    flags: number,
    owner: ChildOwner | null,
    loc: string | undefined,
    context: ContextFrame | null,
  ) {
    this.flags = flags;
    this.scheduler = scheduler;
    this.gen = body;
    this.owner = owner;
    this.context = context;
    if (loc !== undefined) locations.set(this, loc);
  }

  /**
   * A task in `sleep` is its own timer entry (no entry object per sleep), and
   * keeps its timer key in `waitRecord`, which no other wait uses meanwhile.
   */
  get timerKey(): unknown {
    return this.waitRecord;
  }

  set timerKey(key: unknown) {
    this.waitRecord = key;
  }

  /** Its `sleep` is over: the timer heap calls this when the deadline passes. */
  fire(): void {
    this.waitRecord = undefined;
    this.scheduler.wake(this);
  }

  /** The value the task returned or the error it failed with: read only once it has ended. */
  get result(): unknown {
    return this.gen;
  }

  /** A number that identifies the task in reports, given on first use. */
  get id(): number {
    let id = ids.get(this);
    if (id === undefined) ids.set(this, (id = nextId++));
    return id;
  }

  /** Where the task was spawned, if debug mode was on then. */
  get loc(): string | undefined {
    return locations.get(this);
  }

  wait(): Operation<unknown> {
    return taskWait(this);
  }

  tryWait(): unknown {
    const state = this.flags & Flag.STATE_MASK;
    if (state === Flag.DONE) return this.result;
    if (state === Flag.FAILED) throw this.result;
    return undefined;
  }

  cancel(): void {
    this.scheduler.cancel(this);
  }

  get done(): boolean {
    return (this.flags & Flag.STATE_MASK) >= Flag.DONE;
  }

  get state(): number {
    return this.flags & Flag.STATE_MASK;
  }

  /** Whether cancellation should be thrown at the task's next suspension. */
  get cancelDue(): boolean {
    return (this.flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED;
  }

  /** A label for reports: the spawn location in debug mode, else the id. */
  describe(): string {
    return this.loc !== undefined ? `task #${this.id} spawned ${this.loc}` : `task #${this.id} (set WEFT_DEBUG=1 for spawn locations)`;
  }
}
