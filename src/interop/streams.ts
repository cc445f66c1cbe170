/**
 * Web `ReadableStream` adapters, with back-pressure through a bounded queue.
 */
import { callBody } from "../core/cancel.ts";
import { Cancelled } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { run } from "../drivers/event_loop.ts";
import { withTaskGroup } from "../group/task_group.ts";
import { Queue, QueueClosed } from "../sync/queue.ts";
import { until } from "./call.ts";

interface WebStreams {
  ReadableStream?: typeof ReadableStream;
}

function requireCapacity(api: string, capacity: unknown): number {
  if (capacity === undefined) return 16;
  if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`${api}: capacity must be an integer >= 1, got ${describe(capacity)}`);
  }
  return capacity;
}

/**
 * Options for {@link toReadableStream}.
 *
 * @example
 * ```ts
 * const queue = new Queue<number>();
 * const options: ToReadableStreamOptions = { highWaterMark: 4 };
 * const stream = toReadableStream(queue, options);
 * queue.close();
 * console.log((yield* call(() => stream.getReader().read())).done); // prints true
 * ```
 */
export interface ToReadableStreamOptions {
  /** How many chunks the stream buffers ahead of its reader (default 1). */
  highWaterMark?: number;
}

/**
 * A web `ReadableStream` whose chunks are taken from `queue`. The stream pulls
 * only when its reader wants more (back-pressure: the queue fills and its
 * producers wait, if it is a `blocking` queue). It closes when the queue is
 * closed and drained, and errors if the queue was closed with another error
 * than `QueueClosed`. Cancelling the stream closes the queue.
 *
 * @example
 * ```ts
 * const lines = new Queue<string>({ kind: "blocking", capacity: 64 });
 * yield* lines.put("hello\n");
 * yield* lines.put("world\n");
 * lines.close();
 * const response = new Response(toReadableStream(lines).pipeThrough(new TextEncoderStream()));
 * console.log(yield* call(() => response.text())); // prints hello and world, one a line
 * ```
 */
export function toReadableStream<T>(queue: Queue<T>, options?: ToReadableStreamOptions): ReadableStream<T> {
  if (!(queue instanceof Queue)) throw new TypeError(`toReadableStream(): queue must be a Queue, got ${describe(queue)}`);
  const Stream = (globalThis as WebStreams).ReadableStream;
  if (Stream === undefined) throw new TypeError("toReadableStream(): this host has no ReadableStream");
  const highWaterMark = options?.highWaterMark ?? 1;
  if (typeof highWaterMark !== "number" || !(highWaterMark >= 0)) {
    throw new RangeError(`toReadableStream(): highWaterMark must be a number >= 0, got ${describe(highWaterMark)}`);
  }
  return new Stream<T>(
    {
      async pull(controller) {
        try {
          const item = queue.size > 0 ? (queue.tryGet() as T) : await run(() => queue.get());
          controller.enqueue(item);
        } catch (error) {
          if (error instanceof QueueClosed) controller.close();
          else controller.error(error);
        }
      },
      cancel(reason) {
        if (!queue.closed) queue.close(reason === undefined ? undefined : reason);
      },
    },
    { highWaterMark },
  );
}

/**
 * Reads a web `ReadableStream` into a bounded queue and runs `body` with that
 * queue, as a task group: a reader task moves chunks into the queue (it stops
 * reading while the queue is full, which is the back-pressure), and closes
 * the queue when the stream ends (or with the stream's error). When `body`
 * returns, the reader is cancelled and the stream's reader cancelled and
 * released; the value of `body` is returned.
 *
 * @example
 * ```ts
 * const source = new ReadableStream<Uint8Array>({
 *   start(controller) {
 *     controller.enqueue(new Uint8Array(3));
 *     controller.enqueue(new Uint8Array(4));
 *     controller.close();
 *   },
 * });
 * const total = yield* fromReadableStream(source, function* (chunks) {
 *   let n = 0;
 *   try { for (;;) n += (yield* chunks.get()).length; } catch (e) { if (!(e instanceof QueueClosed)) throw e; }
 *   return n;
 * });
 * console.log(total); // prints 7
 * ```
 */
export function* fromReadableStream<T, R>(
  stream: ReadableStream<T>,
  body: (chunks: Queue<T>) => Operation<R>,
  options?: { capacity?: number },
): Operation<R> {
  if (typeof (stream as { getReader?: unknown } | null)?.getReader !== "function") {
    throw new TypeError(`fromReadableStream(): stream must be a ReadableStream, got ${describe(stream)}`);
  }
  requireFunction("fromReadableStream()", "body", body);
  const capacity = requireCapacity("fromReadableStream()", options?.capacity);
  const chunks = new Queue<T>({ kind: "blocking", capacity });
  return yield* withTaskGroup<R>(function* (group) {
    group.startSoon(
      function* () {
        const reader = stream.getReader();
        let ended = false;
        try {
          for (;;) {
            const result = yield* until(reader.read());
            if (result.done) {
              ended = true;
              chunks.close();
              return;
            }
            yield* chunks.put(result.value);
          }
        } catch (error) {
          if (error instanceof Cancelled) throw error; // the body is done: stop reading
          if (error instanceof QueueClosed) return; // the body closed the queue: stop reading
          // The stream failed: readers see its error once the buffered chunks are read.
          chunks.close(error);
        } finally {
          if (!ended) {
            // Tell the source to stop. Not waited for: a source that never
            // settles its cancel() must not hold the group open.
            try {
              reader.cancel().catch(() => {});
            } catch {
              // already released or errored: nothing to stop
            }
          }
          try {
            reader.releaseLock();
          } catch {
            // a host that refuses to release with a read pending: the stream is cancelled anyway
          }
        }
      },
      { daemon: true },
    );
    return yield* callBody("fromReadableStream()", () => body(chunks));
  });
}
