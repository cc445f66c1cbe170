/**
 * `Writer`: the writing half of every weft stream, and the pieces that
 * implement it on top of one primitive, `writeChunk`.
 */
import "./dispose_symbol.ts";
import { Cancelled, WeftUsageError } from "../core/errors.ts";
import { Delegation } from "../core/delegation.ts";
import { rawWriteEnd, rawWriteStart } from "./direct.ts";
import { DONE_VOID, asOperation, type Operation } from "../core/operation.ts";
import { current } from "../core/scheduler.ts";
import type { Reader } from "./reader.ts";

/**
 * A sink of bytes. Only one task may write to a writer at a time: a second
 * concurrent write throws `WeftUsageError` (write from one task and fan in
 * with a `Queue`).
 */
export interface Writer {
  /** Writes all of `data` (a string is written as UTF-8). Returns when the sink has accepted it. */
  write(data: string | Uint8Array): Operation<void>;
  /** Copies `reader` to this writer until its end of stream; returns the number of bytes copied. */
  writeReader(reader: Reader): Operation<number>;
  /**
   * What a `write` that was cancelled while it waited did with its bytes, for
   * code that layers a protocol over any writer and must neither lose nor
   * repeat bytes (compression, TLS). A write called by a task that was
   * already cancelled takes nothing, whatever this says.
   *
   * - `"queued"`: the bytes were accepted and will still be delivered
   *   (sockets, stdio, process pipes, files, TLS and compression writers).
   * - `"dropped"`: none of them was taken (a rendezvous `pipe()`, a
   *   `BufferedWriter`); the caller still owns them and may write them again.
   *
   * Absent (a writer that does not say) counts as `"queued"`. A wrapper that
   * forwards writes to another writer should forward this property too.
   *
   * @example
   * ```ts
   * const [, writer] = pipe();
   * console.log(writer.cancelledWrite); // prints "dropped"
   * ```
   */
  readonly cancelledWrite?: "queued" | "dropped";
}

/** True when a `write` to `writer` that was cancelled while it waited took none of its bytes (see {@link Writer.cancelledWrite}). */
export function dropsCancelledWrites(writer: Writer): boolean {
  return writer.cancelledWrite === "dropped";
}

/**
 * The key of a writer's transferring write (internal: not exported from the
 * package). `writer[writeTransferred](bytes, giveBack)` writes `bytes` as
 * `write` does, but the caller hands them over: it does not change them
 * until the sink calls `giveBack`, which a sink does once it no longer needs
 * them (a sink that copied them, or keeps them for good, never calls it). A
 * sink that keeps the bytes it is given until they are sent (a socket's or a
 * process pipe's queue) then keeps these instead of a copy.
 *
 * `BufferedWriter` hands a full buffer over this way and goes on in a spare
 * one that was given back, so a large piece is copied once on its way out
 * (into the buffer) instead of twice, and no buffer is allocated per piece.
 */
export const writeTransferred: unique symbol = Symbol("weft.writeTransferred");

/** Called by a sink, at most once, when it no longer needs bytes that were handed over to it (see {@link writeTransferred}). */
export type GiveBack = () => void;

/**
 * The {@link GiveBack} of bytes made for one write, which the caller never
 * wants back (a frame, a message head): a sink may keep them for good, and
 * need not call it.
 */
export const NO_RETURN: GiveBack = () => {};

/**
 * The key of the flag by which a sink says it keeps handed-over bytes (and
 * gives them back): a `WriterBase` or `DuplexBase` subclass whose
 * `writeChunk` honours `giveBack` sets `[keepsHandedOver]` to true (internal,
 * as {@link writeTransferred}). Any other sink is given copies as before: a
 * sink that ignored `giveBack` would never give a buffer back, and the
 * `BufferedWriter` in front of it would need a new buffer for every flush.
 */
export const keepsHandedOver: unique symbol = Symbol("weft.keepsHandedOver");

/** A {@link Writer} with a transferring write (see {@link writeTransferred}). */
export interface TransferringWriter extends Writer {
  readonly [keepsHandedOver]: true;
  [writeTransferred](bytes: Uint8Array, giveBack: GiveBack): Operation<void>;
}

/** True when `writer` keeps handed-over bytes (see {@link keepsHandedOver}). */
export function takesTransfers(writer: Writer): writer is TransferringWriter {
  return (writer as Partial<TransferringWriter>)[keepsHandedOver] === true;
}

/**
 * Writes handed-over `bytes` to any writer: through its transferring write
 * if it has one; otherwise with `write`, after which the writer no longer
 * needs them (it copied what it keeps) and they are given back.
 */
export function writeHandedOver(writer: Writer, bytes: Uint8Array, giveBack: GiveBack): Operation<void> {
  if (takesTransfers(writer)) return writer[writeTransferred](bytes, giveBack);
  return giveBack === NO_RETURN ? writer.write(bytes) : writeThenGiveBack(writer, bytes, giveBack);
}

function* writeThenGiveBack(writer: Writer, bytes: Uint8Array, giveBack: GiveBack): Operation<void> {
  try {
    yield* writer.write(bytes);
  } finally {
    giveBack();
  }
}

const utf8 = new TextEncoder();

/** Converts what `write` accepts to bytes, with a TypeError naming the argument otherwise. */
export function toBytes(api: string, data: unknown): Uint8Array {
  if (typeof data === "string") return utf8.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new TypeError(`${api}: data must be a string or a Uint8Array, got ${data === null ? "null" : typeof data}`);
}

/**
 * The shared body of `write` and `writeReader` for a sink that supplies
 * `writeChunk`; keeps the one-writer-at-a-time rule.
 */
export class WriteGate {
  #writing = false;

  constructor(
    private readonly isClosed: () => boolean,
    private readonly writeChunk: (bytes: Uint8Array, giveBack: GiveBack | null) => Operation<void>,
  ) {}

  /**
   * Writes `data` (checked when the operation runs). A hand-written
   * operation (`WriteGate.#Write`), not a generator: a write that completes
   * at once (a socket with room) runs no generator of the gate's, and one
   * that waits resumes through none.
   */
  write(data: string | Uint8Array): Operation<void> {
    return asOperation(new WriteGate.#Write(this, data, null));
  }

  /** Writes `bytes`, which the caller hands over until `giveBack` (see {@link writeTransferred}), as {@link WriteGate.write} does. */
  writeTransferred(bytes: Uint8Array, giveBack: GiveBack): Operation<void> {
    return asOperation(new WriteGate.#Write(this, bytes, giveBack));
  }

  /**
   * The sink's operation writing handed-over `bytes` (not empty), having
   * entered the gate for a write the caller runs itself (see `rawWrite`;
   * {@link WriteGate.leave} leaves it); null, entering nothing, when `write`
   * would throw (cancelled, closed, another write under way).
   */
  rawWrite(bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> | null {
    if ((current !== null && current.cancelDue) || this.#writing || this.isClosed()) return null;
    this.#writing = true;
    try {
      return this.writeChunk(bytes, giveBack);
    } catch (error) {
      this.#writing = false;
      throw error;
    }
  }

  /** Leaves the gate entered by {@link WriteGate.rawWrite}. */
  leave(): void {
    this.#writing = false;
  }

  /** Runs `body` as a write (the one-writer rule, the closed and cancellation checks): for `flush()` and the like. */
  *run<T>(api: string, body: () => Operation<T>): Operation<T> {
    this.#enter(api);
    try {
      return yield* body();
    } finally {
      this.#writing = false;
    }
  }

  *writeReader(reader: Reader): Operation<number> {
    if (reader === null || typeof reader !== "object" || typeof reader.readSome !== "function") {
      throw new TypeError("writeReader(): reader must be a Reader");
    }
    this.#enter("writeReader()");
    try {
      let copied = 0;
      for (;;) {
        const chunk = yield* reader.readSome();
        if (chunk === undefined) return copied;
        yield* this.writeChunk(chunk, null);
        copied += chunk.length;
      }
    } finally {
      this.#writing = false;
    }
  }

  #enter(api: string): void {
    // IO entry points check cancellation first (docs/semantics.md, «IO»), also for a write that would not suspend.
    if (current !== null && current.cancelDue) throw new Cancelled();
    if (this.isClosed()) throw new WeftUsageError(`${api}: the writer is closed`);
    if (this.#writing) {
      throw new WeftUsageError(`${api}: another task is already writing to this writer; write from one task and fan in with a Queue`);
    }
    this.#writing = true;
  }

  /**
   * `write(data)` as a {@link Delegation}: it converts and checks
   * `data` and keeps the one-writer rule as the generator did, then
   * delegates to the sink's `writeChunk` itself, as `yield*` would, and
   * leaves the gate however that ends. Declared in the class body to reach
   * its private state.
   */
  static readonly #Write = class Write extends Delegation<void> {
    /** What `data` is as bytes, once the write has started. */
    bytes: Uint8Array | null = null;

    constructor(
      readonly gate: WriteGate,
      readonly data: string | Uint8Array,
      readonly giveBack: GiveBack | null,
    ) {
      super();
    }

    protected start(): IteratorResult<unknown, void> {
      const gate = this.gate;
      const bytes = toBytes("write()", this.data);
      gate.#enter("write()");
      if (bytes.length === 0) {
        gate.#writing = false;
        return DONE_VOID;
      }
      this.bytes = bytes;
      return this.delegate();
    }

    protected open(): Operation<unknown> {
      return this.gate.writeChunk(this.bytes!, this.giveBack);
    }

    /** The sink's step: passed up while it waits; once it is done, the gate is left. */
    protected took(result: IteratorResult<unknown, unknown>): IteratorResult<unknown, void> {
      if (result.done !== true) return result as IteratorResult<unknown, never>;
      this.finish();
      return DONE_VOID;
    }

    protected finish(): void {
      this.inner = null;
      this.gate.#writing = false;
    }
  };
}

/**
 * Implements {@link Writer} for a concrete sink, which supplies
 * {@link WriterBase.writeChunk} and {@link WriterBase.close}.
 *
 * @example
 * ```ts
 * class Collect extends WriterBase {
 *   chunks: Uint8Array[] = [];
 *   #closed = false;
 *   protected *writeChunk(bytes: Uint8Array): Operation<void> { this.chunks.push(bytes.slice()); }
 *   protected get isClosed(): boolean { return this.#closed; }
 *   close(): void { this.#closed = true; }
 * }
 * ```
 */
export abstract class WriterBase implements Writer {
  readonly #gate = new WriteGate(
    () => this.isClosed,
    (bytes, giveBack) => this.writeChunk(bytes, giveBack),
  );

  /**
   * Writes all of `bytes` (never empty) and returns when the sink accepted
   * them. The caller may reuse `bytes` afterwards, so a sink that keeps them
   * must copy. `giveBack` is always null for a sink of your own; weft's
   * sockets and pipes use it to keep a `BufferedWriter`'s buffer instead of
   * a copy, and call it once they are done with the buffer.
   */
  protected abstract writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void>;

  /** True once the writer was closed; writes then throw `WeftUsageError`. */
  protected abstract get isClosed(): boolean;

  /** Closes the sink. */
  abstract close(): void;

  /** Closes the writer (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Writes all of `data` (a string as UTF-8); returns when the sink has accepted it. */
  write(data: string | Uint8Array): Operation<void> {
    return this.#gate.write(data);
  }

  /** Copies `reader` here until its end of stream; returns the number of bytes copied. */
  writeReader(reader: Reader): Operation<number> {
    return this.#gate.writeReader(reader);
  }

  /** @internal The transferring write (see {@link writeTransferred}). */
  [writeTransferred](bytes: Uint8Array, giveBack: GiveBack): Operation<void> {
    return this.#gate.writeTransferred(bytes, giveBack);
  }

  /** @internal The sink's own write of handed-over bytes, when a write would be just that (see `rawWrite`). */
  [rawWriteStart](bytes: Uint8Array, giveBack: GiveBack): Operation<unknown> | null {
    return this.#gate.rawWrite(bytes, takesTransfers(this) ? giveBack : null);
  }

  /** @internal Ends a raw write (see `endRawWrite`). */
  [rawWriteEnd](): void {
    this.#gate.leave();
  }
}
