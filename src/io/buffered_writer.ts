/**
 * `BufferedWriter`: gathers small writes into one buffer and passes them on
 * to another writer in large pieces (docs/semantics.md, «IO»).
 */
import { Cancelled } from "../core/errors.ts";
import "./dispose_symbol.ts";
import { FINISHED, describe, type Operation } from "../core/operation.ts";
import { current } from "../core/scheduler.ts";
import type { Reader } from "./reader.ts";
import { dropsCancelledWrites, takesTransfers, WriteGate, writeTransferred, type Writer } from "./writer.ts";

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
 * Cancellation follows the wrapped writer (`cancelledWrite`). If `write`
 * returns, all of `data` was accepted (buffered or passed on). If it throws
 * `writer`'s error, or `Cancelled` over a writer that drops a cancelled
 * write's bytes (an in-memory pipe), none of `data` was accepted and the bytes
 * buffered before the call are still buffered, except those that were passed
 * on before the failure. If it throws `Cancelled` over a writer that keeps a
 * cancelled write's bytes queued (a socket), all of `data` was accepted: what
 * was passed on is queued there, and the rest stays here for the next write
 * or flush, so nothing is lost or sent twice. `flush()` follows the same rule
 * for the buffer.
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
  /** Replaced by a spare or a fresh one when a flush hands it over to the wrapped writer (`#flush`). */
  #buffer: Uint8Array;
  /** Buffers handed over and given back by the wrapped writer, for the next hand-over (at most {@link MAX_SPARES}). */
  readonly #spares: Uint8Array[] = [];
  #length = 0;
  /** Bytes a cancelled write accepted that did not fit the buffer; they go out before it. */
  #overflow: Uint8Array | undefined = undefined;
  /** Set by `#passOn` when a cancelled write to the wrapped writer took its bytes anyway. */
  #taken = false;
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
    return this.#length + (this.#overflow?.length ?? 0);
  }

  /**
   * What a cancelled `write` did with its bytes: the wrapped writer's answer
   * (see the class's notes on cancellation, and `Writer.cancelledWrite`).
   */
  get cancelledWrite(): "queued" | "dropped" {
    return dropsCancelledWrites(this.#writer) ? "dropped" : "queued";
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
   * left the buffer, unless the wrapped writer queued a cancelled write's
   * bytes: those are gone from the buffer (they will reach it).
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
    return this.#gate.run("flush()", () => this.#flushAll());
  }

  *#flushAll(): Operation<void> {
    try {
      yield* this.#flush();
    } finally {
      this.#taken = false;
    }
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
    this.#spares.length = 0;
  }

  /** Closes this writer, as `close()` (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Sends the overflow, then the buffer; each stays here until the wrapped writer took it. */
  *#flush(): Operation<void> {
    // What a cancelled pass-on left queued in the writer (`#taken`) is gone from here too.
    const overflow = this.#overflow;
    if (overflow !== undefined) {
      try {
        // Never changed once made (`#keep` builds a new one), so it can be handed over.
        yield* this.#passOn(overflow, overflow);
      } catch (error) {
        if (this.#taken) this.#overflow = undefined;
        throw error;
      }
      this.#overflow = undefined;
    }
    const length = this.#length;
    if (length > 0) {
      const buffer = this.#buffer;
      // At least half full, the buffer is handed over and writing goes on in a spare one: a sink that queues what it
      // is given (a socket) keeps the buffer itself instead of a copy, and gives it back once it is sent. Emptier, a
      // copy costs less than holding a whole buffer out.
      const handOver = length >= buffer.length >>> 1 && takesTransfers(this.#writer);
      // Swapped before the write: the writer may give the buffer back before the write returns.
      if (handOver) this.#buffer = this.#nextBuffer();
      try {
        yield* this.#passOn(buffer.subarray(0, length), handOver ? buffer : null);
      } catch (error) {
        if (this.#taken) this.#length = 0;
        // The writer may hold on to the buffer even when it did not take the bytes (it failed after queueing them):
        // what is still buffered is in the next buffer.
        if (handOver) copyInto(this.#buffer, buffer, this.#length);
        throw error;
      }
      this.#length = 0;
    }
  }

  /**
   * Writes `bytes` to the wrapped writer. When that write is cancelled after
   * it started and the wrapped writer keeps such bytes queued, they were
   * taken: `#taken` is set for the caller to account for them.
   */
  *#passOn(bytes: Uint8Array, lent: Uint8Array | null = null): Operation<void> {
    // Cancelled before the write starts: it would take nothing, whatever the writer.
    if (current !== null && current.cancelDue) throw new Cancelled();
    const writer = this.#writer;
    try {
      if (lent !== null && takesTransfers(writer)) yield* writer[writeTransferred](bytes, () => this.#giveBack(lent));
      else yield* writer.write(bytes);
    } catch (error) {
      if (error instanceof Cancelled && !dropsCancelledWrites(this.#writer)) this.#taken = true;
      throw error;
    }
  }

  /** The buffer to go on in after a hand-over: a spare, or a new one. */
  #nextBuffer(): Uint8Array {
    return this.#spares.pop() ?? new Uint8Array(this.#buffer.length);
  }

  /** Called by the wrapped writer when it is done with an array `#passOn` lent it: a whole buffer becomes a spare. */
  #giveBack(lent: Uint8Array): void {
    const spares = this.#spares;
    // Checked, not trusted: a buffer in use or already a spare must never be handed out a second time.
    if (lent.length !== this.#buffer.length || lent === this.#buffer || spares.includes(lent)) return;
    if (spares.length < MAX_SPARES && !this.#closed) spares.push(lent);
  }

  /** A write that fits the buffer is copied there, with no generator; a larger one goes through `#writeOver`. */
  #writeChunk(bytes: Uint8Array): Operation<void> {
    const before = this.#length;
    if (bytes.length <= this.#buffer.length - before && this.#overflow === undefined) {
      this.#buffer.set(bytes, before);
      this.#length = before + bytes.length;
      return FINISHED;
    }
    return this.#writeOver(bytes);
  }

  *#writeOver(bytes: Uint8Array): Operation<void> {
    const buffer = this.#buffer;
    const before = this.#length;
    const free = buffer.length - before;
    // A write smaller than the buffer tops it up (and passes it on);
    // a larger one goes straight to the writer after what is here.
    const small = bytes.length < buffer.length;
    let rest = bytes;
    if (small) {
      const head = Math.min(free, bytes.length);
      buffer.set(bytes.subarray(0, head), before);
      this.#length = before + head;
      rest = bytes.subarray(head);
    }
    let restSent = false;
    try {
      yield* this.#flush();
      if (small) {
        // Into the buffer the flush left: it may be a fresh one, the old one handed over.
        this.#buffer.set(rest);
        this.#length = rest.length;
      } else {
        restSent = true;
        yield* this.#passOn(bytes);
      }
    } catch (error) {
      if (this.#taken) {
        // Cancelled, and the wrapped writer queued what it was given: this
        // write then accepts all of `bytes` (as that writer would have), and
        // keeps what did not go out yet, in order.
        this.#taken = false;
        this.#keep(restSent ? undefined : rest);
      } else if (small) {
        // Nothing was accepted: take the top-up back out.
        this.#length = before;
      }
      throw error;
    }
  }

  /** After a cancelled but queued pass-on: keeps the buffered bytes and `rest`, in order, for the next flush. */
  #keep(rest: Uint8Array | undefined): void {
    const buffered = this.#buffer.subarray(0, this.#length);
    const restLength = rest === undefined ? 0 : rest.length;
    const pending = new Uint8Array((this.#overflow?.length ?? 0) + buffered.length + restLength);
    let at = 0;
    if (this.#overflow !== undefined) {
      pending.set(this.#overflow);
      at = this.#overflow.length;
    }
    pending.set(buffered, at);
    if (rest !== undefined) pending.set(rest, at + buffered.length);
    this.#length = 0;
    if (pending.length <= this.#buffer.length) {
      this.#buffer.set(pending);
      this.#length = pending.length;
      this.#overflow = undefined;
    } else {
      this.#overflow = pending;
    }
  }
}

/**
 * How many given-back buffers a `BufferedWriter` keeps. A socket holds one
 * handed-over buffer at a time while the writer waits for it to drain, so one
 * spare covers the steady state; the second covers a sink that gives back late.
 */
const MAX_SPARES = 2;

/** Copies the first `length` bytes of `from` into `to`. */
function copyInto(to: Uint8Array, from: Uint8Array, length: number): void {
  if (length > 0) to.set(length === from.length ? from : from.subarray(0, length));
}
