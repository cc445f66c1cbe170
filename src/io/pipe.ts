/**
 * `pipe()`: an in-memory byte stream between tasks, with back-pressure.
 *
 * Like moonbitlang/async's pipe (docs/semantics.md, «IO») it is a rendezvous: nothing is
 * buffered between the ends, and a write waits until the reader has taken its
 * bytes. Unlike moonbitlang/async's, the reader takes a write's bytes all at once (the
 * part it did not ask for waits in the reader's own buffer), so every write is
 * all or nothing: it returns once all its bytes were taken, or throws having
 * delivered none of them.
 */
import type { Coroutine } from "../core/coroutine.ts";
import { Cancelled } from "../core/errors.ts";
import type { Operation } from "../core/operation.ts";
import { park } from "../core/pause.ts";
import { requireTask } from "../core/scheduler.ts";
import { copyBytes } from "./data.ts";
import { PipeClosed } from "./errors.ts";
import { ReaderBase } from "./reader.ts";
import { WriterBase } from "./writer.ts";

/**
 * The shared state of the two ends. At most one reader and one writer wait at
 * a time (the bases enforce it), so each side is a single slot.
 */
export class PipeState {
  /** The parked reader, until bytes or the end reach it. */
  reader: Coroutine | null = null;
  /** Bytes handed to the parked reader (already copied). */
  handed: Uint8Array | undefined = undefined;
  /** The parked writer and the bytes it offers, until a reader takes them or the pipe closes. */
  writer: Coroutine | null = null;
  offered: Uint8Array | undefined = undefined;
  taken = false;
  readClosed = false;
  writeClosed = false;
  /** What reads throw after the buffered bytes once the write end failed (`undefined`: a clean end). */
  writeError: unknown = undefined;

  /** The next write's bytes (a copy), or `undefined` at end of stream. Takes nothing if it throws. */
  *take(api: string): Operation<Uint8Array | undefined> {
    const task = requireTask(api);
    if (task.cancelDue) throw new Cancelled();
    const offered = this.offered;
    if (offered !== undefined) {
      const writer = this.writer!;
      this.offered = undefined;
      this.writer = null;
      this.taken = true;
      writer.scheduler.wake(writer);
      return copyBytes(offered);
    }
    if (this.writeClosed) return this.end();
    this.reader = task;
    try {
      while (this.reader === task) yield* park();
    } catch (error) {
      // Bytes handed over, or a close, in the same round as the cancellation
      // win over it: the read returns them (or the end, or the write end's error).
      if (this.reader === task) {
        this.reader = null;
        throw error;
      }
    }
    const handed = this.handed;
    if (handed !== undefined) {
      this.handed = undefined;
      return handed;
    }
    return this.end();
  }

  /** Waits until a reader took all of `bytes` (non-empty); delivers none of them if it throws. */
  *give(api: string, bytes: Uint8Array): Operation<void> {
    const task = requireTask(api);
    if (task.cancelDue) throw new Cancelled();
    if (this.readClosed) throw new PipeClosed(`${api}: the read end of the pipe is closed`);
    const reader = this.reader;
    if (reader !== null) {
      this.handed = copyBytes(bytes);
      this.reader = null;
      reader.scheduler.wake(reader);
      return;
    }
    this.writer = task;
    this.offered = bytes;
    this.taken = false;
    try {
      while (this.writer === task) yield* park();
    } catch (error) {
      // Taken in the same round as the cancellation: the write succeeded.
      if (this.taken) return;
      if (this.writer === task) {
        this.writer = null;
        this.offered = undefined;
      }
      throw error;
    }
    if (this.taken) return;
    throw this.readClosed
      ? new PipeClosed(`${api}: the read end of the pipe was closed before the bytes were read`)
      : new PipeClosed(`${api}: the write end of the pipe was closed while this write waited`);
  }

  /** Closes the read end: a waiting and every later write throws `PipeClosed`; a waiting read sees end of stream. */
  closeRead(): void {
    if (this.readClosed) return;
    this.readClosed = true;
    this.releaseWriter();
    this.releaseReader();
  }

  /** Closes the write end: reads see end of stream (or `error`) after the bytes already taken. */
  closeWrite(error?: unknown): void {
    if (this.writeClosed) return;
    this.writeClosed = true;
    this.writeError = error;
    this.releaseWriter();
    this.releaseReader();
  }

  private end(): undefined {
    if (this.writeError !== undefined) throw this.writeError;
    return undefined;
  }

  private releaseWriter(): void {
    const writer = this.writer;
    if (writer === null) return;
    this.writer = null;
    this.offered = undefined;
    writer.scheduler.wake(writer);
  }

  private releaseReader(): void {
    const reader = this.reader;
    if (reader === null) return;
    this.reader = null;
    reader.scheduler.wake(reader);
  }
}

/**
 * The read end of a {@link pipe}: a {@link Reader}. `close()` (idempotent)
 * makes the writer's waiting and later writes throw `PipeClosed`; reading a
 * closed read end throws `WeftUsageError`, and a read that was waiting when
 * another task closed it sees end of stream.
 *
 * @example
 * ```ts
 * const [reader, writer] = pipe();
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => writer.write("a line\n"));
 *   using r = reader; // closed when the block is left
 *   const line = yield* r.readLine();
 *   console.log(line); // prints a line
 * });
 * ```
 */
export class PipeReader extends ReaderBase {
  readonly #pipe: PipeState;

  /** @internal Use {@link pipe}. */
  constructor(state: PipeState) {
    super();
    this.#pipe = state;
  }

  /** Takes the bytes the writer is offering, waiting for a write. */
  protected readChunk(): Operation<Uint8Array | undefined> {
    return this.#pipe.take("read()");
  }

  /** True once this reader was closed. */
  protected get isClosed(): boolean {
    return this.#pipe.readClosed;
  }

  /** True once this end was closed. */
  get closed(): boolean {
    return this.#pipe.readClosed;
  }

  /** Closes the read end: the writer's pending and later writes throw `PipeClosed`. */
  close(): void {
    this.#pipe.closeRead();
  }
}

/**
 * The write end of a {@link pipe}: a {@link Writer} whose `write` returns once
 * the reader has taken all the bytes (back-pressure), or throws having
 * delivered none of them: `Cancelled` if the task was cancelled first,
 * `PipeClosed` if the read end is or gets closed. `close()` (idempotent) ends
 * the stream: reads return the bytes already taken, then end of stream.
 *
 * @example
 * ```ts
 * const [reader, writer] = pipe();
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using w = writer; // the reader sees end of stream when this task is done
 *     yield* w.write("hello\n");
 *   });
 *   console.log((yield* reader.readAll()).text()); // prints hello
 * });
 * ```
 */
export class PipeWriter extends WriterBase {
  readonly #pipe: PipeState;

  /** @internal Use {@link pipe}. */
  constructor(state: PipeState) {
    super();
    this.#pipe = state;
  }

  /** Offers `bytes` to the reader and waits until it has taken them all. */
  protected writeChunk(bytes: Uint8Array): Operation<void> {
    return this.#pipe.give("write()", bytes);
  }

  /** True once this writer was closed. */
  protected get isClosed(): boolean {
    return this.#pipe.writeClosed;
  }

  /** True once this end was closed. */
  get closed(): boolean {
    return this.#pipe.writeClosed;
  }

  /** A cancelled write delivered none of its bytes: the reader had not taken them (see {@link Writer.cancelledWrite}). */
  get cancelledWrite(): "dropped" {
    return "dropped";
  }

  /** Closes the write end: the reader sees end of stream after the bytes already taken. */
  close(): void {
    this.#pipe.closeWrite();
  }
}

/**
 * Creates an in-memory pipe: what is written to the writer is read from the
 * reader, in order. There is no buffer in between: a write waits until the
 * reader has taken its bytes, so a fast producer runs at the reader's pace.
 * One task may read and one may write at a time (a second concurrent reader
 * or writer gets `WeftUsageError`). Both directions are cancellation-safe: a
 * cancelled read took nothing, and a cancelled write delivered nothing (if
 * the reader took the bytes in the same round as the cancellation, the write
 * succeeds and the cancellation is delivered at the next suspension point).
 *
 * @example
 * ```ts
 * const [reader, writer] = pipe();
 * const text = yield* withTaskGroup<string>(function* (group) {
 *   group.startSoon(function* () {
 *     using w = writer;
 *     yield* w.write("hello, ");
 *     yield* w.write("pipe");
 *   });
 *   return (yield* reader.readAll()).text(); // "hello, pipe"
 * });
 * ```
 */
export function pipe(): [PipeReader, PipeWriter] {
  const state = new PipeState();
  return [new PipeReader(state), new PipeWriter(state)];
}
