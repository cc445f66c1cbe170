/**
 * `useAbortSignal()`: an AbortSignal that follows the current task.
 */
import { Cancelled } from "../core/errors.ts";
import { requireTask } from "../core/scheduler.ts";
import { addTaskHook } from "../core/task_hooks.ts";
import { Flag, type Coroutine } from "../core/coroutine.ts";

const controllers = new WeakMap<Coroutine, AbortController>();

/**
 * An `AbortSignal` tied to the current task: it aborts when the task is
 * cancelled (with the `Cancelled` error as its reason) and when the task ends,
 * so nothing started with it outlives the task. Each task has one; calling
 * again returns the same signal.
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
  let controller = controllers.get(task);
  if (controller === undefined) {
    const created = new AbortController();
    controller = created;
    controllers.set(task, created);
    if ((task.flags & Flag.CANCELLED) !== 0) created.abort(new Cancelled());
    addTaskHook(task, {
      cancelled: () => created.abort(new Cancelled()),
      ended: () => {
        controllers.delete(task);
        created.abort(new Cancelled("the task this signal belongs to has ended"));
      },
    });
  }
  return controller.signal;
}
