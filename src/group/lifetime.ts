/**
 * How long something made by running code lives (a `Broadcast` subscription,
 * an `on` subscription): as long as that code's owner — the timeout body it
 * runs in, else its task — except in a task group's body, which ends before
 * the tasks it starts: there it lasts until the whole group has ended, so the
 * group's tasks can use it (docs/semantics.md, «Broadcast»).
 */
import { Flag, type Coroutine } from "../core/coroutine.ts";
import { addScopeHook, removeHook, type TaskHook } from "../core/task_hooks.ts";
import type { Group } from "./task_group.ts";

/**
 * Calls `end` when the running code of `task` ends (see above). Returns a
 * function that unties it, for a subscription that ended early.
 */
export function tieToOwner(task: Coroutine, end: () => void): () => void {
  if ((task.flags & Flag.GROUP_BODY) !== 0 && task.scope === null) {
    let tied = true;
    (task.owner as Group<unknown>).addDefer(function* () {
      if (tied) end();
    });
    return () => {
      tied = false;
    };
  }
  const hook: TaskHook = { cancelled: () => {}, ended: end };
  const owner = addScopeHook(task, hook);
  return () => removeHook(owner, hook);
}
