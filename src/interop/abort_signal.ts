/**
 * `useAbortSignal()`: an AbortSignal that follows the current task.
 */
import { Cancelled } from "../core/errors.ts";
import { requireTask } from "../core/scheduler.ts";
import { addScopeHook, currentHookOwner, type HookOwner } from "../core/task_hooks.ts";
import { Flag } from "../core/coroutine.ts";

const controllers = new WeakMap<HookOwner, AbortController>();

/**
 * An `AbortSignal` tied to the current task: it aborts when the task is
 * cancelled (with the `Cancelled` error as its reason) and when the task ends,
 * so nothing started with it outlives the task. Each task has one; calling
 * again returns the same signal. Inside the body of a `withTimeout` (or
 * `withTimeoutOpt`) the signal belongs to that body instead: it also aborts
 * when the timeout fires, and when the body ends.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((_req, res) => res.end("hello"));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * try {
 *   const { port } = server.address() as { port: number };
 *   const signal = useAbortSignal(); // aborts if this task is cancelled: the request and the body read stop
 *   const response = yield* until(fetch(`http://127.0.0.1:${port}/`, { signal }));
 *   console.log(yield* until(response.text())); // prints hello
 * } finally {
 *   server.closeAllConnections();
 *   server.close();
 * }
 * ```
 */
export function useAbortSignal(): AbortSignal {
  const task = requireTask("useAbortSignal()");
  let controller = controllers.get(currentHookOwner(task));
  if (controller === undefined) {
    const created = new AbortController();
    controller = created;
    if ((task.flags & Flag.CANCELLED) !== 0) created.abort(new Cancelled());
    const owner = addScopeHook(task, {
      cancelled: () => created.abort(new Cancelled()),
      ended: () => {
        controllers.delete(owner);
        created.abort(new Cancelled("the task (or timeout body) this signal belongs to has ended"));
      },
    });
    controllers.set(owner, created);
  }
  return controller.signal;
}
