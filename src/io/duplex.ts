/**
 * `DuplexBase`: a stream that is both a {@link Reader} and a {@link Writer}
 * (a TCP connection, a file), on top of `readChunk` and `writeChunk`.
 */
import type { Operation } from "../core/operation.ts";
import { ReaderBase, type Reader } from "./reader.ts";
import { rawWriteEnd, rawWriteStart } from "./direct.ts";
import { WriteGate, takesTransfers, writeTransferred, type GiveBack, type Writer } from "./writer.ts";

/**
 * Implements both {@link Reader} and {@link Writer}; reading and writing may
 * go on at the same time (one reading task and one writing task).
 *
 * @example
 * ```ts
 * class Loopback extends DuplexBase {
 *   #pending: Uint8Array[] = [];
 *   #closed = false;
 *   protected *readChunk(): Operation<Uint8Array | undefined> { return this.#pending.shift(); }
 *   protected *writeChunk(bytes: Uint8Array): Operation<void> { this.#pending.push(bytes.slice()); }
 *   protected get isClosed(): boolean { return this.#closed; }
 *   close(): void { this.#closed = true; }
 * }
 * const loop = new Loopback();
 * yield* loop.write("echo\n");
 * console.log(yield* loop.readLine()); // prints echo
 * ```
 */
export abstract class DuplexBase extends ReaderBase implements Writer {
  readonly #gate = new WriteGate(
    () => this.isWriteClosed,
    (bytes, giveBack) => this.writeChunk(bytes, giveBack),
  );

  /** As {@link WriterBase.writeChunk}. */
  protected abstract writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void>;

  /** True once writing is no longer possible (closed, or the write side shut down). */
  protected get isWriteClosed(): boolean {
    return this.isClosed;
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
