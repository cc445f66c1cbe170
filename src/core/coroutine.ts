/**
 * The coroutine record: one small object of fixed shape per task. Its state,
 * readiness, cancellation, shielding and group options are bits of `flags`, so
 * a spawn allocates one object and the JIT sees one shape.
 */
import type { Operation } from "./operation.ts";
import type { Scheduler } from "./scheduler.ts";
import { taskWait, type Task } from "./task.ts";

// ── state (low two bits) ────────────────────────────────────────────────────
export const SUSPENDED = 0;
export const RUNNING = 1;
export const DONE = 2;
export const FAILED = 3;
export const STATE_MASK = 3;

// ── flags ───────────────────────────────────────────────────────────────────
/** Queued in the ready ring. */
export const READY = 1 << 2;
/** Cancelled; sticky, never cleared. */
export const CANCELLED = 1 << 3;
/** Cancellation is not delivered while set. */
export const SHIELDED = 1 << 4;
/** The body has been called and `gen` holds its generator. */
export const STARTED = 1 << 5;
/** A group child the group does not wait for. */
export const NO_WAIT = 1 << 6;
/** A group child whose failure does not fail the group. */
export const ALLOW_FAILURE = 1 << 7;
/** The body of a task group: its value becomes the group's result. */
export const GROUP_BODY = 1 << 8;
/** Spawned outside any group (by `run`, a host, a Lazy): tracked as a root. */
export const ROOT = 1 << 9;

/** Both bits: "cancelled and not shielded", i.e. cancellation is due. */
export const CANCEL_DUE_MASK = CANCELLED | SHIELDED;

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
  /** Before start: the body function. After: the generator driving the task. */
  gen: Iterator<unknown, unknown, unknown> | (() => Operation<unknown>) | null;
  /** The value the task returned or the error it failed with. */
  result: unknown = undefined;
  /** The group the task belongs to, if any. */
  owner: ChildOwner | null;
  prevSibling: Coroutine | null = null;
  nextSibling: Coroutine | null = null;
  /** Tasks waiting for this one to end: one slot that becomes a list for two or more. */
  waiters: Coroutine | Coroutine[] | null = null;
  /** State of the suspension the task is parked in (a waiter record, a group, a timer). */
  waitRecord: unknown = undefined;

  constructor(
    scheduler: Scheduler,
    body: () => Operation<unknown>,
    flags: number,
    owner: ChildOwner | null,
    loc: string | undefined,
  ) {
    this.flags = flags;
    this.scheduler = scheduler;
    this.gen = body;
    this.owner = owner;
    if (loc !== undefined) locations.set(this, loc);
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
    const state = this.flags & STATE_MASK;
    if (state === DONE) return this.result;
    if (state === FAILED) throw this.result;
    return undefined;
  }

  cancel(): void {
    this.scheduler.cancel(this);
  }

  get done(): boolean {
    return (this.flags & STATE_MASK) >= DONE;
  }

  get state(): number {
    return this.flags & STATE_MASK;
  }

  /** Whether cancellation should be thrown at the task's next suspension. */
  get cancelDue(): boolean {
    return (this.flags & CANCEL_DUE_MASK) === CANCELLED;
  }

  /** A label for reports: the spawn location in debug mode, else the id. */
  describe(): string {
    return this.loc !== undefined ? `task #${this.id} spawned ${this.loc}` : `task #${this.id} (set WEFT_DEBUG=1 for spawn locations)`;
  }
}
