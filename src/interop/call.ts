/**
 * `call` and `until`: a task waits for a promise, cancellably.
 */
import { action } from "../core/action.ts";
import { Cancelled } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

/** Waits for `promise`; on cancellation runs `onAbandon` and throws at once. */
function settle<T>(api: string, start: () => PromiseLike<T>, onAbandon: (() => void) | null): Operation<T> {
  return action<T>((resolve, reject) => {
    let settled = false;
    const promise = start();
    if (!isPromiseLike(promise)) {
      throw new TypeError(`${api}: expected a promise (a thenable), got ${describe(promise)}`);
    }
    // Handlers are attached at once, so an abandoned promise's rejection is
    // always handled: it is never reported as unhandled.
    Promise.resolve(promise).then(
      (value) => {
        settled = true;
        resolve(value);
      },
      (error) => {
        settled = true;
        reject(error);
      },
    );
    return () => {
      if (!settled && onAbandon !== null) onAbandon();
    };
  });
}

/**
 * Calls `fn` with an `AbortSignal` and waits for the promise it returns. If
 * the task is cancelled first, the signal aborts (once, with the `Cancelled`
 * error as its reason) and the task resumes with `Cancelled` at once, without
 * waiting for the promise. A promise that settled before the cancellation
 * reached the task wins: its value is returned (or its error thrown), and the
 * task meets the cancellation at its next suspension point.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((_req, res) => res.end("hello from 127.0.0.1"));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * try {
 *   const { port } = server.address() as { port: number };
 *   // One call around the request and the body read: cancelling the task aborts both.
 *   const body = yield* call(async (signal) => {
 *     const response = await fetch(`http://127.0.0.1:${port}/`, { signal });
 *     return response.text();
 *   });
 *   console.log(body); // prints hello from 127.0.0.1
 * } finally {
 *   server.closeAllConnections();
 *   server.close();
 * }
 * ```
 */
export function* call<T>(fn: (signal: AbortSignal) => PromiseLike<T>): Operation<T> {
  requireFunction("call()", "fn", fn, "a function (signal) => promise");
  const controller = new AbortController();
  return yield* settle(
    "call()",
    () => fn(controller.signal),
    () => controller.abort(new Cancelled("the task waiting for this promise was cancelled")),
  );
}

/**
 * Waits for `promise`. If the task is cancelled first it resumes with
 * `Cancelled` at once; the promise's later outcome is ignored, and its
 * rejection is never reported as unhandled. Use {@link call} when the work
 * can be told to stop.
 *
 * @example
 * ```ts
 * const { join } = yield* until(import("node:path"));
 * console.log(join("a", "b")); // prints a/b
 * ```
 */
export function* until<T>(promise: PromiseLike<T>): Operation<T> {
  if (!isPromiseLike(promise)) throw new TypeError(`until(): promise must be a promise (a thenable), got ${describe(promise)}`);
  return yield* settle("until()", () => promise, null);
}
