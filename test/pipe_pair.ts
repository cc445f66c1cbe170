/**
 * Two in-memory pipes joined into a duplex pair, for tests that run a
 * connection (an HTTP server's, a WebSocket's) under virtual time: what one
 * end writes the other reads. Portable: it runs on every host.
 */
import type { Operation } from "../src/index.ts";
import { DuplexBase, pipe, type PipeReader, type PipeWriter } from "../src/io.ts";

/** One end of a {@link duplexPair}: reads one pipe, writes the other. */
export class PipeEnd extends DuplexBase {
  readonly #reader: PipeReader;
  readonly #writer: PipeWriter;
  #closed = false;
  /** What an HTTP server reports as the peer's address. */
  readonly remoteAddress = "pipe";

  constructor(reader: PipeReader, writer: PipeWriter) {
    super();
    this.#reader = reader;
    this.#writer = writer;
  }

  /** A pipe drops the bytes of a write cancelled while it waited. */
  get cancelledWrite(): "dropped" {
    return "dropped";
  }

  protected *readChunk(): Operation<Uint8Array | undefined> {
    return yield* this.#reader.readSome();
  }

  protected writeChunk(bytes: Uint8Array): Operation<void> {
    return this.#writer.write(bytes);
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ends what this end writes (the other end reads end of stream). */
  shutdownWrite(): void {
    this.#writer.close();
  }

  /** Closes both directions. */
  close(): void {
    this.#closed = true;
    this.#reader.close();
    this.#writer.close();
  }
}

/** Two joined ends: what one writes the other reads. */
export function duplexPair(): [PipeEnd, PipeEnd] {
  const [aRead, bWrite] = pipe();
  const [bRead, aWrite] = pipe();
  return [new PipeEnd(aRead, aWrite), new PipeEnd(bRead, bWrite)];
}
