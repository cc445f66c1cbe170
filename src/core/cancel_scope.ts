/**
 * Timeout scopes: a deadline on a stretch of one task's code (the body of
 * `withTimeout`), instead of a task of its own. See docs/semantics.md,
 * «Timeouts».
 *
 * A scope is its own timer-heap entry, so a timeout that does not fire costs
 * one small object and one heap insertion and removal: no group, no sleeper
 * task, no error. When the deadline passes, the task is cancelled for as long
 * as it stays in the scope: `CANCELLED` is set (not `TASK_CANCELLED`), and
 * the cancellation is delivered exactly as a task's own (woken at its
 * suspension point, passed on to the group it waits for, held back by
 * `protectFromCancel`). When the body leaves the scope the bit is cleared,
 * unless the task itself was cancelled meanwhile or an enclosing scope's
 * deadline has passed too. The scope's hooks (an AbortSignal from
 * `useAbortSignal`, child processes spawned in the body) hear the deadline
 * and end with the scope, as they would with a body task.
 */
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { Flag, type Coroutine } from "./coroutine.ts";
import type { Operation } from "./operation.ts";
import { runCancelHooks, runEndHooks } from "./task_hooks.ts";

const enum ScopeState {
  ARMED,
  /** The deadline passed; the cancellation is delivered in its turn of the round. */
  DUE,
  /** The body is being cancelled. */
  FIRED,
  /** The body left the scope. */
  EXITED,
}

export class CancelScope {
  /** The timer heap's slot for this entry (see `timer_heap.ts`); -1 when not armed. */
  timerKey: unknown = -1;
  state = ScopeState.ARMED;

  constructor(
    readonly task: Coroutine,
    readonly parent: CancelScope | null,
  ) {}

  /** The deadline cancelled the body (its cancellation was delivered). */
  get fired(): boolean {
    return this.state === ScopeState.FIRED;
  }

  /**
   * The deadline passed. The cancellation takes its turn in the round like
   * the tasks woken at the same time before it (a producer whose sleep ended
   * at that instant hands its item over first), through a small task made
   * only now: a timeout that never fires never makes it.
   */
  fire(): void {
    this.timerKey = -1;
    this.state = ScopeState.DUE;
    this.task.scheduler.spawn(() => deliver(this), 0, null);
  }

  /** Cancels the task for as long as it runs in this scope, unless the body has left it meanwhile. */
  cancelBody(): void {
    if (this.state !== ScopeState.DUE) return;
    this.state = ScopeState.FIRED;
    const task = this.task;
    const before = task.flags;
    task.flags = before | Flag.CANCELLED;
    task.scheduler.interrupt(task, before);
    if ((before & Flag.HOOKED) !== 0) runCancelHooks(task, this);
  }
}

function* deliver(scope: CancelScope): Operation<void> {
  scope.cancelBody();
}

/** Enters a scope whose deadline is `ms` from now, as the task's innermost. */
export function enterScope(task: Coroutine, ms: number): CancelScope {
  const scope = new CancelScope(task, task.scope);
  task.scope = scope;
  const scheduler = task.scheduler;
  scheduler.addTimer(scope, scheduler.clock() + ms, true);
  return scope;
}

/**
 * True when the task is cancelled by something other than `scope`: the task
 * itself, or an enclosing scope whose deadline passed. Then that cancellation,
 * not this scope's timeout, is the body's outcome.
 */
export function cancelledBeyond(scope: CancelScope): boolean {
  if ((scope.task.flags & Flag.TASK_CANCELLED) !== 0) return true;
  for (let outer = scope.parent; outer !== null; outer = outer.parent) if (outer.fired) return true;
  return false;
}

/** Leaves `scope` (the innermost): disarms it, lifts its cancellation, ends its hooks. */
export function exitScope(scope: CancelScope): void {
  const task = scope.task;
  if (scope.state === ScopeState.FIRED) {
    if (!cancelledBeyond(scope)) task.flags &= Flag.NOT_CANCELLED;
  } else if (scope.state === ScopeState.ARMED) {
    task.scheduler.removeTimer(scope);
  }
  scope.state = ScopeState.EXITED;
  task.scope = scope.parent;
  if ((task.flags & Flag.HOOKED) !== 0) runEndHooks(scope);
}
