/**
 * `BufferedWriter`: gathers small writes into one buffer and passes them on
 * to another writer in large pieces (docs/semantics.md, «IO»).
 */
import { describe, type Operation } from "../core/operation.ts";
import type { Reader } from "./reader.ts";
import { WriteGate, type Writer } from "./writer.ts";

/**
 * A {@link Writer} that copies what is written into a buffer of `size` bytes
 * and writes the buffer to `writer` when it is full, or on {@link flush}.
 * A write larger than the whole buffer goes straight to `writer` after what
 * is buffered (bytes always reach `writer` in the order they were written).
 *
 * Nothing is written on `close()`: it cannot wait, so call `flush()` before
 * it; `buffered` then tells what was left behind. `close()` does not close `writer` either, so
 * the same writer can be wrapped again or used directly after a flush.
 *
 * Cancellation: each `write` is all or nothing towards its caller, as long as
 * `writer`'s own writes are (an in-memory pipe's are). If `write` returns,
 * all of `data` was accepted (buffered or passed on); if it throws
 * (`Cancelled`, or `writer`'s error), none of `data` was accepted and the
 * bytes buffered before the call are still buffered, except those that were
 * passed on before the failure. `flush()` keeps the buffer when it throws.
 *
 * @example
 * ```ts
 * const rows = [{ id: 1, name: "ada" }, { id: 2, name: "alan" }];
 * const [received, conn] = pipe(); // a pipe stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   const text = group.spawn(function* () { return (yield* received.readAll()).text(); });
 *   const out = new BufferedWriter(conn, 16 * 1024);
 *   for (const row of rows) yield* out.write(`${row.id},${row.name}\n`); // few, large writes to conn
 *   yield* out.flush();
 *   conn.close();
 *   console.log(yield* text.wait()); // prints 1,ada and 2,alan, one a line
 * });
 * ```
 */
export class BufferedWriter implements Writer {
  readonly #writer: Writer;
  readonly #buffer: Uint8Array;
  #length = 0;
  #closed = false;
  readonly #gate = new WriteGate(
    () => this.#closed,
    (bytes) => this.#writeChunk(bytes),
  );

  /**
   * Creates a buffered writer in front of `writer`.
   *
   * @param writer where the buffered bytes go
   * @param size the buffer's size in bytes: writes gather there until it is full
   */
  constructor(writer: Writer, size = 1024) {
    if (writer === null || typeof writer !== "object" || typeof (writer as Partial<Writer>).write !== "function") {
      throw new TypeError(`BufferedWriter: writer must be a Writer, got ${describe(writer)}`);
    }
    if (typeof size !== "number" || !Number.isInteger(size)) {
      throw new TypeError(`BufferedWriter: size must be an integer, got ${describe(size)}`);
    }
    if (size < 1) throw new RangeError(`BufferedWriter: size must be at least 1, got ${size}`);
    this.#writer = writer;
    this.#buffer = new Uint8Array(size);
  }

  /** The buffer's size in bytes. */
  get size(): number {
    return this.#buffer.length;
  }

  /** Bytes written and not yet passed on to the wrapped writer. */
  get buffered(): number {
    return this.#length;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes `data` (a string as UTF-8) into the buffer, passing full buffers on.
   *
   * @example
   * ```ts
   * const [received, conn] = pipe();
   * yield* withTaskGroup(function* (group) {
   *   const text = group.spawn(function* () { return (yield* received.readAll()).text(); });
   *   const out = new BufferedWriter(conn);
   *   yield* out.write("GET / HTTP/1.1\r\n"); // buffered, not yet on conn
   *   yield* out.write("Host: 127.0.0.1\r\n\r\n");
   *   yield* out.flush();
   *   conn.close();
   *   console.log(JSON.stringify(yield* text.wait())); // prints "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
   * });
   * ```
   */
  write(data: string | Uint8Array): Operation<void> {
    return this.#gate.write(data);
  }

  /**
   * Copies `reader` into this writer until its end of stream; returns the
   * number of bytes copied. The last part stays buffered until a flush.
   *
   * @example
   * ```ts
   * const file = new MemoryReader("the contents of a file\n");
   * const [received, conn] = pipe();
   * yield* withTaskGroup(function* (group) {
   *   const text = group.spawn(function* () { return (yield* received.readAll()).text(); });
   *   const out = new BufferedWriter(conn);
   *   yield* out.writeReader(file);
   *   yield* out.flush();
   *   conn.close();
   *   console.log(yield* text.wait()); // prints the contents of a file
   * });
   * ```
   */
  writeReader(reader: Reader): Operation<number> {
    return this.#gate.writeReader(reader);
  }

  /**
   * Writes the buffered bytes to the wrapped writer. If it throws, nothing
   * left the buffer (with a wrapped writer whose writes are all or nothing).
   *
   * @example
   * ```ts
   * const [peer, conn] = pipe();
   * const out = new BufferedWriter(conn);
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(function* () {
   *     yield* out.write("pong\n");
   *     yield* out.flush(); // the peer gets the reply now
   *   });
   *   console.log(yield* peer.readLine()); // prints pong
   * });
   * ```
   */
  flush(): Operation<void> {
    return this.#gate.run("flush()", () => this.#flush());
  }

  /**
   * Closes this writer: later writes and flushes throw `WeftUsageError`.
   * Bytes still buffered are never written (flush first); `buffered` keeps
   * counting them, so a test can check that nothing was left behind. The
   * wrapped writer stays open. Idempotent.
   *
   * It does not throw when bytes are left: `close()` also runs while a
   * cancelled task unwinds (`using`), where an error would replace the
   * cancellation.
   *
   * @example
   * ```ts
   * const [peer, conn] = pipe();
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(function* () {
   *     using out = new BufferedWriter(conn);
   *     yield* out.write("reply\n");
   *     yield* out.flush(); // without it, leaving the block would drop the reply
   *   });
   *   console.log(yield* peer.readLine()); // prints reply
   * });
   * ```
   */
  close(): void {
    this.#closed = true;
  }

  /** Closes this writer, as `close()` (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  *#flush(): Operation<void> {
    if (this.#length === 0) return;
    yield* this.#writer.write(this.#buffer.subarray(0, this.#length));
    this.#length = 0;
  }

  *#writeChunk(bytes: Uint8Array): Operation<void> {
    const buffer = this.#buffer;
    const free = buffer.length - this.#length;
    if (bytes.length <= free) {
      buffer.set(bytes, this.#length);
      this.#length += bytes.length;
      return;
    }
    if (bytes.length < buffer.length) {
      // Top the buffer up and pass it on; if that fails, take the top-up back
      // out, so the call has accepted nothing.
      const before = this.#length;
      buffer.set(bytes.subarray(0, free), before);
      this.#length = buffer.length;
      try {
        yield* this.#flush();
      } catch (error) {
        this.#length = before;
        throw error;
      }
      buffer.set(bytes.subarray(free));
      this.#length = bytes.length - free;
      return;
    }
    // At least a whole buffer: copying it would only cost time.
    yield* this.#flush();
    yield* this.#writer.write(bytes);
  }
}
