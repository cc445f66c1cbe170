/**
 * A weft `Reader` over a web `ReadableStream` of bytes (a fetch response's
 * body), read directly: no task of its own, so it can outlive the task that
 * made it. A read the task gave up (cancelled) leaves the platform's read
 * pending here; the next read takes its result, so no chunk is lost.
 */
import { action } from "../core/action.ts";
import { describe, type Operation } from "../core/operation.ts";
import { ReaderBase } from "../io/reader.ts";

type ReadResult = { done: true; value?: unknown } | { done: false; value: unknown };

/** The part of a `ReadableStreamDefaultReader` used here. */
interface StreamReader {
  read(): Promise<ReadResult>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** The part of a `ReadableStream` used here. */
export interface ByteStreamLike {
  getReader(): StreamReader;
}

/** The state of one platform read, shared by the reads that wait for it. */
interface PendingRead {
  state: "pending" | "done" | "failed";
  result: ReadResult | undefined;
  error: unknown;
  wake: (() => void) | null;
}

/**
 * The body of a {@link WebResponse}: a weft `Reader` that reads the
 * platform's stream as it is read (back-pressure: nothing is read ahead).
 * `close()` cancels the stream, which stops the download.
 */
export class StreamBodyReader extends ReaderBase {
  #reader: StreamReader | null;
  #pending: PendingRead | null = null;
  #closed = false;
  #ended = false;
  readonly #onEnd: () => void;

  /** @internal `stream` null: an empty body. `onEnd` runs once, at the end of the body or when it is closed. */
  constructor(stream: ByteStreamLike | null, onEnd: () => void) {
    super();
    this.#onEnd = onEnd;
    this.#reader = stream === null ? null : stream.getReader();
    if (this.#reader === null) this.#finish();
  }

  protected *readChunk(): Operation<Uint8Array | undefined> {
    for (;;) {
      const reader = this.#reader;
      if (reader === null) return undefined;
      const pending = (this.#pending ??= start(reader));
      if (pending.state === "pending") {
        yield* action<void>((resolve) => {
          if (pending.state !== "pending") {
            resolve();
            return;
          }
          pending.wake = resolve;
          return () => {
            pending.wake = null;
          };
        });
      }
      // Settled: from here on nothing suspends, so a cancellation cannot lose the chunk.
      this.#pending = null;
      if (pending.state === "failed") {
        this.#finish();
        throw pending.error;
      }
      const result = pending.result!;
      if (result.done) {
        this.#finish();
        return undefined;
      }
      const chunk = result.value;
      if (!(chunk instanceof Uint8Array)) {
        this.close();
        throw new TypeError(`the response body gave a chunk that is not a Uint8Array: ${describe(chunk)}`);
      }
      if (chunk.length > 0) return chunk;
    }
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** True once the body was read to its end (or failed). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Stops reading: the rest of the body is cancelled (the download stops). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const reader = this.#reader;
    if (reader !== null && !this.#ended) {
      this.#reader = null;
      try {
        reader.cancel().catch(() => {});
        reader.releaseLock();
      } catch {
        // a host that refuses to release with a read pending: the stream is cancelled anyway
      }
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    const reader = this.#reader;
    this.#reader = null;
    if (reader !== null) {
      try {
        reader.releaseLock();
      } catch {
        // nothing to release
      }
    }
    this.#onEnd();
  }
}

function start(reader: StreamReader): PendingRead {
  const pending: PendingRead = { state: "pending", result: undefined, error: undefined, wake: null };
  reader.read().then(
    (result) => {
      pending.state = "done";
      pending.result = result;
      pending.wake?.();
    },
    (error: unknown) => {
      pending.state = "failed";
      pending.error = error;
      pending.wake?.();
    },
  );
  return pending;
}
