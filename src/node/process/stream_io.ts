/**
 * `StreamReader` and `StreamWriter`: weft's `Reader` and `Writer` over one
 * Node stream (a child's pipe, or this process's stdio), through the shared
 * `ReadPort`/`WritePort` bridge.
 */
import type { Readable, Writable } from "node:stream";
import type { Operation } from "../../core/operation.ts";
import { ReaderBase } from "../../io/reader.ts";
import { WriterBase, keepsHandedOver } from "../../io/writer.ts";
import { ReadPort, WritePort } from "../stream_port.ts";
import { osError } from "../os_error.ts";

/** How a {@link StreamReader} gets and lets go of its stream. */
export interface StreamReaderSource {
  /** Called on the first read (again if that read was cancelled here), so that an unread stream is never touched. */
  open(): Operation<Readable>;
  /** Called once, by the first `close()`, whether or not the stream was opened. */
  release(): void;
  /**
   * Hold the event loop only while a read is waiting (for this process's
   * stdin: a program that read some input and finished must still exit).
   */
  refOnlyWhileReading?: boolean;
}

interface Refable {
  ref?(): void;
  unref?(): void;
}

/**
 * A {@link Reader} over a Node `Readable`: a child process's `stdout` or
 * `stderr`, or this process's `stdin`. Bytes wait in the stream (and the
 * kernel) until a task reads them, so a slow reader slows the writer down
 * instead of filling memory. `close()` stops reading and lets the stream go.
 *
 * @example
 * ```ts
 * const proc = yield* spawnProcess("ls", ["-1"], { stdout: "pipe" });
 * for (let line; (line = yield* proc.stdout.readLine()) !== undefined; ) console.log(line);
 * ```
 */
export class StreamReader extends ReaderBase {
  readonly #name: string;
  readonly #source: StreamReaderSource;
  #stream: Readable | null = null;
  #port: ReadPort | null = null;
  #closed = false;

  /** `name` is how errors refer to this reader, e.g. `"Process.stdout"`. */
  constructor(name: string, source: StreamReaderSource) {
    super();
    this.#name = name;
    this.#source = source;
  }

  /** True once this reader was closed. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** The next bytes from the stream; `undefined` at its end. */
  protected *readChunk(): Operation<Uint8Array | undefined> {
    let port = this.#port;
    if (port === null) {
      const stream = yield* this.#source.open();
      this.#stream = stream;
      port = this.#port = new ReadPort(stream);
      if (this.#source.refOnlyWhileReading) (stream as Refable).unref?.();
    }
    const refable = this.#source.refOnlyWhileReading ? (this.#stream as Refable) : null;
    refable?.ref?.();
    try {
      return yield* port.read();
    } catch (error) {
      throw osError(`${this.#name}.read()`, error);
    } finally {
      refable?.unref?.();
    }
  }

  /** Stops reading; later reads throw `WeftUsageError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.release();
  }
}

/** How a {@link StreamWriter} gets and lets go of its stream. */
export interface StreamWriterSource {
  /** Called on the first write. */
  open(): Writable;
  /** Called once, by the first `close()`, whether or not the stream was opened (a child's stdin must end even if nothing was written). */
  release(): void;
}

/**
 * A {@link Writer} over a Node `Writable`: a child process's `stdin`, or this
 * process's `stdout`/`stderr`. A write returns once the stream has taken the
 * bytes and its buffer is below its high-water mark, so a fast writer waits
 * for a slow reader. `close()` of a child's stdin ends it (the child reads end
 * of stream once the queued bytes are through).
 *
 * @example
 * ```ts
 * const proc = yield* spawnProcess("sort", [], { stdin: "pipe", stdout: "pipe" });
 * yield* proc.stdin.write("b\na\n");
 * proc.stdin.close();
 * const sorted = (yield* proc.stdout.readAll()).text(); // "a\nb\n"
 * ```
 */
export class StreamWriter extends WriterBase {
  readonly #name: string;
  readonly #source: StreamWriterSource;
  #stream: Writable | null = null;
  #port: WritePort | null = null;
  #closed = false;

  /** @internal It keeps bytes handed over to it (see `writeTransferred`) and gives them back when done. */
  get [keepsHandedOver](): true {
    return true;
  }

  /** `name` is how errors refer to this writer, e.g. `"Process.stdin"`. */
  constructor(name: string, source: StreamWriterSource) {
    super();
    this.#name = name;
    this.#source = source;
  }

  /** A cancelled write's bytes stay queued in the stream and are still written (see `Writer.cancelledWrite`). */
  get cancelledWrite(): "queued" {
    return "queued";
  }

  /** True once this writer was closed. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Writes `bytes` to the stream and waits until it has taken them. */
  protected *writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void> {
    let port = this.#port;
    if (port === null) {
      this.#stream = this.#source.open();
      port = this.#port = new WritePort(this.#stream);
    }
    try {
      yield* port.write(bytes, giveBack);
    } catch (error) {
      throw osError(`${this.#name}.write()`, error);
    }
  }

  /** Closes the writer; later writes throw `WeftUsageError`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.release();
  }
}
