/**
 * `MemoryReader`: a {@link Reader} over bytes that are already in memory, or
 * produced by a task of a group through a {@link pipe}.
 */
import { callBody } from "../core/cancel.ts";
import { Cancelled } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import type { Task } from "../core/task.ts";
import type { TaskGroup } from "../group/task_group.ts";
import { copyBytes } from "./data.ts";
import { PipeClosed, ReaderClosed } from "./errors.ts";
import { PipeState, PipeWriter } from "./pipe.ts";
import { ReaderBase } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** What a {@link MemoryReader} reads: text (as UTF-8), bytes, or a sequence of either, read in order. */
export type MemoryData = string | Uint8Array | Iterable<string | Uint8Array>;

const utf8 = new TextEncoder();

function chunkOf(item: unknown): Uint8Array {
  if (typeof item === "string") return utf8.encode(item);
  // A copy: what was read must not change when the caller reuses its array.
  if (item instanceof Uint8Array) return copyBytes(item);
  throw new TypeError(`MemoryReader: data must yield strings or Uint8Arrays, got ${describe(item)}`);
}

/**
 * A {@link Reader} over in-memory data: a string (read as UTF-8), a
 * `Uint8Array` (copied when the reader is made), or an iterable of strings and
 * arrays (each item copied when it is reached; an iterable is consumed
 * lazily, and a generator is finished early by `close()`). Reads never
 * suspend; end of stream comes after the last item. `close()` is idempotent.
 *
 * For data produced over time by weft code, see {@link MemoryReader.from}.
 *
 * @example
 * ```ts
 * const input = new MemoryReader("first line\r\nsecond line\n");
 * console.log(yield* input.readLine()); // prints first line
 * console.log(yield* input.readLine()); // prints second line
 * console.log(yield* input.readLine()); // prints undefined
 * ```
 */
export class MemoryReader extends ReaderBase {
  #iterator: Iterator<unknown> | null;
  #pipe: PipeState | null = null;
  #producer: Task<void> | null = null;
  #closed = false;

  /**
   * Creates a reader over `data`.
   *
   * @param data the text, bytes or sequence of them to read
   */
  constructor(data: MemoryData) {
    super();
    if (typeof data === "string" || data instanceof Uint8Array) {
      this.#iterator = [chunkOf(data)][Symbol.iterator]();
    } else if (data !== null && typeof data === "object" && typeof (data as Iterable<unknown>)[Symbol.iterator] === "function") {
      this.#iterator = (data as Iterable<unknown>)[Symbol.iterator]();
    } else {
      throw new TypeError(`MemoryReader: data must be a string, a Uint8Array or an iterable of them, got ${describe(data)}`);
    }
  }

  /**
   * A reader of what `body` writes, with `body` running as a task of `group`
   * (weft has no implicit scope, so the group says where the producer lives
   * and guarantees it never outlives it). `body`'s writes wait until the
   * reader takes the bytes (an in-memory {@link pipe}); when `body` returns,
   * the reader reaches end of stream.
   *
   * - If `body` throws, reads throw the same error after the bytes already
   *   written, and the group fails with it too (first failure wins).
   * - `close()` cancels `body` if it is still running; a write it was waiting
   *   in throws `PipeClosed`, which ends the task quietly.
   * - The producer is a `daemon` task: once every other task of the group has
   *   ended it is cancelled, and a reader still reading then gets
   *   `ReaderClosed` after the bytes written so far (a truncated stream is
   *   never passed off as a complete one).
   *
   * @example
   * ```ts
   * const total = yield* withTaskGroup<number>(function* (group) {
   *   const numbers = MemoryReader.from(group, function* (w) {
   *     for (let i = 1; i <= 3; i++) yield* w.write(`${i}\n`);
   *   });
   *   let sum = 0;
   *   for (let line; (line = yield* numbers.readLine()) !== undefined; ) sum += Number(line);
   *   return sum; // 6
   * });
   * ```
   */
  static from(group: TaskGroup<unknown>, body: (writer: Writer) => Operation<void>): MemoryReader {
    if (group === null || typeof group !== "object" || typeof (group as Partial<TaskGroup<unknown>>).spawn !== "function") {
      throw new TypeError(`MemoryReader.from(): group must be a TaskGroup, got ${describe(group)}`);
    }
    requireFunction("MemoryReader.from()", "body", body, "a function* (writer) producing the data");
    const state = new PipeState();
    const writer = new PipeWriter(state);
    const reader = new MemoryReader([]);
    reader.#iterator = null;
    reader.#pipe = state;
    reader.#producer = group.spawn(
      function* memoryReaderProducer(): Operation<void> {
        try {
          yield* callBody("MemoryReader.from()", () => body(writer));
          state.closeWrite();
        } catch (error) {
          // The reader was closed: nobody wants the rest.
          if (error instanceof PipeClosed && state.readClosed) return;
          state.closeWrite(
            error instanceof Cancelled ? new ReaderClosed("MemoryReader: the producer was cancelled before it finished its data") : error,
          );
          throw error;
        }
      },
      { daemon: true },
    );
    return reader;
  }

  /** The next item of the data, copied; `undefined` after the last. */
  protected *readChunk(): Operation<Uint8Array | undefined> {
    if (this.#pipe !== null) return yield* this.#pipe.take("read()");
    const iterator = this.#iterator!;
    const next = iterator.next();
    if (next.done === true) return undefined;
    return chunkOf(next.value);
  }

  /** True once this reader was closed. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the reader: stops a producer (see {@link MemoryReader.from}) or finishes a generator. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pipe !== null) {
      this.#pipe.closeRead();
      this.#producer?.cancel();
    } else {
      this.#iterator?.return?.();
    }
  }
}
