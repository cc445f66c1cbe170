/**
 * `each(source, body)`: a task iterates any iterable or async iterable.
 */
import { callBody } from "../core/cancel.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { until } from "./call.ts";

/**
 * A source of items a task waits for with weft operations (a
 * `Broadcast` subscription, an `interval`): `each` takes one item at a time
 * with `nextItem()`, and stops when it returns `{ done: true }`. Waiting
 * in `nextItem` is an ordinary cancellable suspension point, so it works
 * under every driver, virtual time included.
 *
 * @example
 * ```ts
 * let n = 0;
 * const countdown: ItemSource<number> = {
 *   *nextItem() {
 *     yield* sleep(1);
 *     return n < 3 ? { done: false, value: ++n } : { done: true, value: undefined };
 *   },
 * };
 * yield* each(countdown, function* (i) { console.log(i); }); // prints 1, 2, 3
 * ```
 */
export interface ItemSource<T> {
  /** Waits for the next item; `{ done: true }` ends the iteration. */
  nextItem(): Operation<IteratorResult<T, unknown>>;
}

function isItemSource(value: unknown): value is ItemSource<unknown> {
  return typeof (value as { nextItem?: unknown } | null)?.nextItem === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";
}

interface NodeReadableLike {
  destroy(): void;
  pipe(...args: unknown[]): unknown;
  readonly destroyed: boolean;
}

function isNodeReadable(value: unknown): value is NodeReadableLike {
  const v = value as Partial<NodeReadableLike> | null;
  return typeof v?.destroy === "function" && typeof v.pipe === "function" && typeof v.destroyed === "boolean";
}

function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof (value as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] === "function";
}

/**
 * Runs `body` for each item of `source`, in order, one at a time: an array,
 * any iterable, any async iterable (a Node stream, a web `ReadableStream`,
 * an async generator), or an {@link ItemSource} (a `Broadcast`
 * subscription, an `interval`). Waiting for the next item of an async source is
 * cancellable. When the loop ends early, because `body` threw or the task was
 * cancelled, the iterator's `return()` is called so the source can release
 * what it holds (for an async source it is called, not waited for: a source
 * stuck in a read must not block the cancellation), and a Node stream is
 * destroyed.
 *
 * @example
 * ```ts
 * const response = new Response("some bytes from a server");
 * let received = 0;
 * yield* each(response.body!, function* (chunk) {
 *   received += chunk.length;
 *   yield* pause();
 * });
 * console.log(received); // prints 24
 * ```
 */
export function* each<T>(source: ItemSource<T> | AsyncIterable<T> | Iterable<T>, body: (item: T) => Operation<void>): Operation<void> {
  requireFunction("each()", "body", body, "a function (item) => Operation (a function* generator)");
  if (isItemSource(source)) {
    for (;;) {
      const result = yield* source.nextItem();
      if (result.done === true) return;
      yield* callBody("each()", () => body(result.value as T));
    }
  }
  if (isAsyncIterable(source)) {
    const iterator = source[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const result = yield* until(iterator.next());
        if (result.done === true) {
          finished = true;
          return;
        }
        yield* callBody("each()", () => body(result.value));
      }
    } finally {
      if (!finished) {
        if (typeof iterator.return === "function") {
          try {
            Promise.resolve(iterator.return()).catch(() => {});
          } catch {
            // A source whose return() throws has nothing more to release.
          }
        }
        // A Node stream's iterator holds return() back while a read is
        // pending, which may be forever: destroy the stream itself.
        if (isNodeReadable(source)) source.destroy();
      }
    }
  }
  if (isIterable(source)) {
    // for...of calls return() itself when the body throws (Cancelled included).
    for (const item of source) yield* callBody("each()", () => body(item));
    return;
  }
  throw new TypeError(`each(): source must be an iterable, an async iterable or an ItemSource, got ${describe(source)}`);
}
