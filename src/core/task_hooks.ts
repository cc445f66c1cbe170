/**
 * Lifecycle hooks on a task, for the rare code that must react when a task is
 * cancelled or ends (an AbortSignal tied to the task). Kept in a side table
 * and flagged on the record, so tasks without hooks pay one bit test.
 */
// oxlint-disable-next-line import/no-cycle -- the known core cycle (coroutine, task, scheduler, task_hooks); these bindings are used only inside functions, never while the modules load
import { Flag, type Coroutine } from "./coroutine.ts";

export interface TaskHook {
  /** The task was cancelled (called once, at the first cancel). */
  cancelled(): void;
  /** The task ended, by value or by error. */
  ended(): void;
}

const hooks = new WeakMap<Coroutine, TaskHook[]>();

/** Attaches `hook` to `task`. */
export function addTaskHook(task: Coroutine, hook: TaskHook): void {
  const list = hooks.get(task);
  if (list === undefined) hooks.set(task, [hook]);
  else list.push(hook);
  task.flags |= Flag.HOOKED;
}

/** Detaches `hook` from `task` (a subscription closed before its task ended). */
export function removeTaskHook(task: Coroutine, hook: TaskHook): void {
  const list = hooks.get(task);
  if (list === undefined) return;
  const index = list.indexOf(hook);
  if (index >= 0) list.splice(index, 1);
}

export function runCancelHooks(task: Coroutine): void {
  const list = hooks.get(task);
  if (list !== undefined) for (const hook of list) hook.cancelled();
}

export function runEndHooks(task: Coroutine): void {
  const list = hooks.get(task);
  if (list === undefined) return;
  hooks.delete(task);
  for (const hook of list) hook.ended();
}
