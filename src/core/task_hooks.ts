/**
 * Lifecycle hooks, for the rare code that must react when a task is
 * cancelled or ends (an AbortSignal tied to the task, the child processes it
 * owns). Kept in a side table and flagged on the record, so tasks without
 * hooks pay one bit test.
 *
 * A hook belongs to a task or to one of its timeout scopes (`withTimeout`
 * runs its body in the caller's task, in a scope): a scope's hooks hear the
 * scope's deadline and the task's cancellation, and end with the scope, as
 * they would if the body ran as a task of its own.
 */
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { Flag, type Coroutine } from "./coroutine.ts";
import type { CancelScope } from "./cancel_scope.ts";

export interface TaskHook {
  /** The owner was cancelled (called once, at the first cancel). */
  cancelled(): void;
  /** The owner ended: the task by value or by error, or the scope's body. */
  ended(): void;
}

/** A task, or a timeout scope inside one. */
export type HookOwner = Coroutine | CancelScope;

interface HookList {
  hooks: TaskHook[];
  cancelled: boolean;
}

const lists = new WeakMap<HookOwner, HookList>();

/** Attaches `hook` to `task` itself, whatever scope it runs in. */
export function addTaskHook(task: Coroutine, hook: TaskHook): void {
  addHook(task, task, hook);
}

/**
 * Attaches `hook` to what the running code of `task` belongs to: its
 * innermost timeout scope, or the task. Returns that owner.
 */
export function addScopeHook(task: Coroutine, hook: TaskHook): HookOwner {
  const owner = currentHookOwner(task);
  addHook(task, owner, hook);
  return owner;
}

/** The owner `addScopeHook` would attach to now. */
export function currentHookOwner(task: Coroutine): HookOwner {
  return task.scope ?? task;
}

function addHook(task: Coroutine, owner: HookOwner, hook: TaskHook): void {
  const list = lists.get(owner);
  if (list === undefined) lists.set(owner, { hooks: [hook], cancelled: false });
  else list.hooks.push(hook);
  task.flags |= Flag.HOOKED;
}

/**
 * Tells of a cancellation: the task's own (`upTo` null: the task and every
 * scope it is in), or a scope's deadline (that scope and the scopes inside it).
 */
export function runCancelHooks(task: Coroutine, upTo: CancelScope | null): void {
  for (let scope = task.scope; scope !== null; scope = scope.parent) {
    cancelOwner(scope);
    if (scope === upTo) return;
  }
  cancelOwner(task);
}

function cancelOwner(owner: HookOwner): void {
  const list = lists.get(owner);
  if (list === undefined || list.cancelled) return;
  list.cancelled = true;
  for (const hook of list.hooks) hook.cancelled();
}

/** Tells the hooks of `owner` (a task that ended, or a scope whose body ended) that it has ended. */
export function runEndHooks(owner: HookOwner): void {
  const list = lists.get(owner);
  if (list === undefined) return;
  lists.delete(owner);
  for (const hook of list.hooks) hook.ended();
}

/** Detaches `hook` from `owner`, if it is attached: for hooks that outlive their use (a subscription ended early). */
export function removeHook(owner: HookOwner, hook: TaskHook): void {
  const list = lists.get(owner);
  if (list === undefined) return;
  const i = list.hooks.indexOf(hook);
  if (i >= 0) list.hooks.splice(i, 1);
}
