/**
 * `toAsyncIterable(queue)`: plain async code reads a weft queue with `for await`.
 */
import { run } from "../drivers/event_loop.ts";
import { Queue, QueueClosed } from "../sync/queue.ts";
import { describe } from "../core/operation.ts";

/**
 * An async iterable over `queue`, for `for await` in plain async code. Items
 * that are already buffered are taken at once; otherwise each step waits with
 * a small `run`. It ends when the queue is closed and drained; if `close` was
 * given an error other than `QueueClosed`, the loop throws it. Breaking out of
 * the loop leaves the queue as it is.
 *
 * @example
 * ```ts
 * const events = new Queue<string>();
 * events.tryPut("opened");
 * events.tryPut("closed");
 * events.close();
 * const seen = yield* call(async () => {
 *   const all: string[] = [];
 *   for await (const event of toAsyncIterable(events)) all.push(event);
 *   return all;
 * });
 * console.log(seen); // prints [ 'opened', 'closed' ]
 * ```
 */
export function toAsyncIterable<T>(queue: Queue<T>): AsyncIterable<T> {
  if (!(queue instanceof Queue)) throw new TypeError(`toAsyncIterable(): queue must be a Queue, got ${describe(queue)}`);
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let ended = false;
      const end = (): IteratorResult<T> => {
        ended = true;
        return { done: true, value: undefined };
      };
      return {
        async next(): Promise<IteratorResult<T>> {
          if (ended) return { done: true, value: undefined };
          try {
            if (queue.size > 0) return { done: false, value: queue.tryGet() as T };
            return { done: false, value: await run(() => queue.get()) };
          } catch (error) {
            if (error instanceof QueueClosed) return end();
            ended = true;
            throw error;
          }
        },
        async return(): Promise<IteratorResult<T>> {
          return end();
        },
      };
    },
  };
}
