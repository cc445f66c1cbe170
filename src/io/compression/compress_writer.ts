/**
 * `gzipWriter`, `deflateWriter`, `brotliWriter`: a {@link Writer} that
 * compresses into another writer.
 */
import "../dispose_symbol.ts";
import { Cancelled, Unsupported, WeftUsageError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { current } from "../../core/scheduler.ts";
import type { Reader } from "../reader.ts";
import { dropsCancelledWrites, WriteGate, type Writer } from "../writer.ts";
import { type Codec, type Format, openCodec, requestedImplementation } from "./codec.ts";
import { WebCodec } from "./web_codec.ts";
import { waitForCodec } from "./wait_codec.ts";

/** Options of every compressing writer. */
export interface CompressWriterOptions {
  /**
   * Also close the underlying writer (it must have a `close()` method) when
   * this writer is closed, or when {@link CompressWriter.end} completed.
   * Default `false`: the underlying writer stays open, as with `BufferedWriter`.
   */
  readonly closeUnderlying?: boolean;
}

/** Options of {@link gzipWriter} and {@link deflateWriter}. */
export interface ZlibWriterOptions extends CompressWriterOptions {
  /** Compression level, 0 (none) to 9 (smallest), or -1 for zlib's default (6). */
  readonly level?: number;
}

/** Options of {@link brotliWriter}. */
export interface BrotliWriterOptions extends CompressWriterOptions {
  /** Brotli quality, 0 (fastest) to 11 (smallest); default 11, as node:zlib. */
  readonly quality?: number;
}

function requireWriter(api: string, writer: unknown, closeUnderlying: boolean): asserts writer is Writer {
  if (writer === null || typeof writer !== "object" || typeof (writer as Partial<Writer>).write !== "function") {
    throw new TypeError(`${api}: writer must be a Writer, got ${describe(writer)}`);
  }
  if (closeUnderlying && typeof (writer as { close?: unknown }).close !== "function") {
    throw new TypeError(`${api}: closeUnderlying needs a writer with a close() method`);
  }
}

function requireLevel(api: string, name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${api}: ${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) throw new RangeError(`${api}: ${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function requireBoolean(api: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new TypeError(`${api}: ${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * A {@link Writer} that compresses what is written and writes the
 * compressed bytes to an underlying writer. Made by {@link gzipWriter},
 * {@link deflateWriter} and {@link brotliWriter}.
 *
 * - `write` returns once the compressor has taken its bytes and the output
 *   it produced so far was written to the underlying writer (compressors
 *   hold data back, so that may be none of it yet). The compressor works on
 *   the latest write in the background: a later write waits for it, and an
 *   error it meets is thrown by the next `write`, `flush` or `end`.
 * - {@link flush} makes everything written so far decodable at once by the
 *   peer (a zlib sync flush; brotli's flush). Not on the Web
 *   `CompressionStream` fallback (browsers), where it throws `Unsupported`.
 * - {@link end} writes the rest and the trailer, and returns once they reached
 *   the underlying writer: only then is the compressed stream complete.
 * - `close()` (also `using`) frees the compressor at once. Without a completed
 *   `end()` the compressed stream is left incomplete on purpose (no trailer,
 *   held-back output dropped): a decoder reports it as truncated, it never
 *   looks like a complete, shorter stream. Use `end()` first.
 *
 * Cancellation: a cancelled `write` keeps its bytes: they are in the
 * compressor and reach the underlying writer with a later write, `flush` or
 * `end`. Compressed bytes whose write to the underlying writer was cancelled
 * are not lost nor sent twice: they stay queued here when the underlying
 * writer dropped them (a pipe: `cancelledWrite` is `"dropped"`), and count as
 * sent when it keeps them queued (sockets, stdio, process pipes). So this
 * writer's own `cancelledWrite` is `"queued"`. A cancelled `end()` can be
 * called again.
 *
 * @example
 * ```ts
 * const [compressed, sink] = pipe(); // stands in for a file or a socket
 * yield* withTaskGroup(function* (group) {
 *   const decoded = group.spawn(function* () { return (yield* gunzipReader(compressed).readAll()).text(); });
 *   {
 *     using gz = gzipWriter(sink, { level: 9 });
 *     yield* gz.write("hello, ");
 *     yield* gz.write("gzip\n");
 *     yield* gz.end(); // the trailer reached `sink`
 *   }
 *   sink.close();
 *   console.log(yield* decoded.wait()); // prints hello, gzip
 * });
 * ```
 */
export class CompressWriter implements Writer {
  readonly #api: string;
  readonly #codec: Codec;
  readonly #writer: Writer;
  readonly #closeUnderlying: boolean;
  /** Compressed bytes taken from the codec and not yet accepted by the underlying writer. */
  readonly #pending: Uint8Array[] = [];
  /** Writes handed to the codec and not yet consumed by it. */
  #inflight = 0;
  #ending = false;
  #ended = false;
  #closed = false;
  readonly #gate = new WriteGate(
    () => this.#closed,
    (bytes) => this.#writeChunk(bytes),
  );

  /** @internal Use {@link gzipWriter}, {@link deflateWriter} or {@link brotliWriter}. */
  constructor(api: string, format: Format, writer: Writer, options: ZlibWriterOptions & BrotliWriterOptions) {
    this.#api = api;
    this.#codec = openCodec(api, format, true, options, requestedImplementation(api, options));
    this.#writer = writer;
    this.#closeUnderlying = options.closeUnderlying === true;
  }

  /** A cancelled write's bytes are in the compressor and are still sent (see {@link Writer.cancelledWrite}). */
  get cancelledWrite(): "queued" {
    return "queued";
  }

  /** True once {@link end} completed: the whole compressed stream reached the underlying writer. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Compresses `data` (a string as UTF-8) and passes the output produced so
   * far to the underlying writer.
   *
   * @example
   * ```ts
   * const [compressed, sink] = pipe(); // stands in for a file or a socket
   * yield* withTaskGroup(function* (group) {
   *   const decoded = group.spawn(function* () { return (yield* gunzipReader(compressed).readAll()).text(); });
   *   using gz = gzipWriter(sink);
   *   for (const record of ["a", "b", "c"]) yield* gz.write(record);
   *   yield* gz.end();
   *   sink.close();
   *   console.log(yield* decoded.wait()); // prints abc
   * });
   * ```
   */
  write(data: string | Uint8Array): Operation<void> {
    return this.#gate.write(data);
  }

  /**
   * Compresses `reader` until its end of stream; returns the number of
   * (uncompressed) bytes copied. Does not end the compressed stream.
   *
   * @example
   * ```ts
   * const [compressed, sink] = pipe(); // stands in for a file or a socket
   * yield* withTaskGroup(function* (group) {
   *   const decoded = group.spawn(function* () { return (yield* gunzipReader(compressed).readAll()).text(); });
   *   const input = new MemoryReader("all of this input\n");
   *   using gz = gzipWriter(sink);
   *   yield* gz.writeReader(input);
   *   yield* gz.end();
   *   sink.close();
   *   console.log(yield* decoded.wait()); // prints all of this input
   * });
   * ```
   */
  writeReader(reader: Reader): Operation<number> {
    return this.#gate.writeReader(reader);
  }

  /**
   * Makes everything written so far decodable by the peer at once, and
   * returns when those bytes reached the underlying writer (a zlib
   * `Z_SYNC_FLUSH`, or brotli's flush; it costs a few bytes of ratio each
   * time). Throws `Unsupported` on the Web `CompressionStream` fallback,
   * which cannot flush.
   *
   * @example
   * ```ts
   * const [compressed, conn] = pipe(); // stands in for a socket
   * yield* withTaskGroup(function* (group) {
   *   const gz = gzipWriter(conn);
   *   group.startSoon(function* () {
   *     yield* gz.write("message 1\n");
   *     yield* gz.flush(); // the peer can decode the message now, before the stream ends
   *   });
   *   console.log(yield* gunzipReader(compressed).readLine()); // prints message 1
   *   gz.close();
   *   conn.close();
   * });
   * ```
   */
  flush(): Operation<void> {
    if (this.#codec instanceof WebCodec) {
      throw new Unsupported(`${this.#api}: flush() needs node:zlib; the Web CompressionStream cannot flush`);
    }
    return this.#gate.run("flush()", () => this.#flush());
  }

  /**
   * Ends the compressed stream: compresses what is left, writes the trailer
   * (gzip's CRC and length), and returns when all of it reached the
   * underlying writer. Later writes throw `WeftUsageError`; a second `end()`
   * returns at once. With `closeUnderlying`, the underlying writer is then
   * closed.
   *
   * @example
   * ```ts
   * const [compressed, sink] = pipe(); // stands in for a file or a socket
   * yield* withTaskGroup(function* (group) {
   *   const decoded = group.spawn(function* () { return (yield* gunzipReader(compressed).readAll()).text(); });
   *   using gz = gzipWriter(sink);
   *   yield* gz.write("the body");
   *   yield* gz.end();
   *   sink.close();
   *   console.log(yield* decoded.wait()); // prints the body
   * });
   * ```
   */
  end(): Operation<void> {
    return this.#gate.run("end()", () => this.#end());
  }

  /**
   * Frees the compressor. Without a completed {@link end} the compressed
   * stream stays incomplete (the peer sees a truncated stream). With
   * `closeUnderlying`, closes the underlying writer too. Idempotent; never
   * throws (it runs while a cancelled task unwinds).
   *
   * @example
   * ```ts
   * const [compressed, sink] = pipe(); // stands in for a file or a socket
   * yield* withTaskGroup(function* (group) {
   *   const decoded = group.spawn(function* () { return (yield* gunzipReader(compressed).readAll()).text(); });
   *   {
   *     using gz = gzipWriter(sink);
   *     yield* gz.write("reply");
   *     yield* gz.end(); // without it, leaving the block leaves the stream truncated
   *   }
   *   sink.close();
   *   console.log(yield* decoded.wait()); // prints reply
   * });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.length = 0;
    this.#codec.destroy();
    if (this.#closeUnderlying) (this.#writer as Writer & { close(): void }).close();
  }

  /** Closes the writer, as `close()` (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  *#writeChunk(bytes: Uint8Array): Operation<void> {
    if (this.#ending) throw new WeftUsageError(`write(): end() was already called on this ${this.#api}`);
    this.#inflight++;
    this.#codec.write(bytes, () => {
      this.#inflight--;
    });
    // One write may still be compressing when this returns: the compressor
    // then works on it while the caller prepares the next, instead of idling
    // while output travels on.
    yield* this.#pump(() => this.#inflight <= 1);
  }

  *#flush(): Operation<void> {
    if (this.#ending) throw new WeftUsageError(`flush(): end() was already called on this ${this.#api}`);
    let flushed = false;
    this.#codec.flush(() => {
      flushed = true;
    });
    yield* this.#pump(() => flushed);
  }

  *#end(): Operation<void> {
    if (this.#ended) return;
    if (!this.#ending) {
      this.#ending = true;
      this.#codec.end();
    }
    yield* this.#pump(() => this.#codec.finished);
    this.#ended = true;
    this.#codec.destroy();
    if (this.#closeUnderlying) this.close();
  }

  /** Moves the codec's output to the underlying writer until `done()` holds and no output is left. */
  *#pump(done: () => boolean): Operation<void> {
    const codec = this.#codec;
    const pending = this.#pending;
    for (;;) {
      if (this.#closed) throw new WeftUsageError(`${this.#api}: the writer was closed while this operation waited`);
      while (pending.length > 0) {
        // Cancelled before the write below starts: it has taken nothing, the bytes stay pending.
        if (current !== null && current.cancelDue) throw new Cancelled();
        try {
          yield* this.#writer.write(pending[0]!);
        } catch (error) {
          // A write cancelled after it started: a writer that drops such a write's bytes
          // (a pipe) delivered none of them, so they stay pending; one that keeps them
          // queued (a socket) still sends them, so they are gone from here.
          if (error instanceof Cancelled && !dropsCancelledWrites(this.#writer)) pending.shift();
          throw error;
        }
        pending.shift();
      }
      const output = codec.take();
      if (output !== undefined) {
        pending.push(output);
        continue;
      }
      if (codec.error !== undefined) throw codec.error;
      if (done()) return;
      yield* waitForCodec(codec);
    }
  }
}

/**
 * A writer that gzips (RFC 1952) what is written into `writer`. Call
 * {@link CompressWriter.end} to finish the stream; see {@link CompressWriter}
 * for flushing, closing and cancellation. Uses node:zlib where the host has
 * it (Node, Bun, Deno), else the Web `CompressionStream` (no `flush()`
 * there); throws `Unsupported` on a host with neither.
 *
 * @example
 * ```ts
 * const [compressed, sink] = pipe(); // stands in for a file or a socket
 * yield* withTaskGroup(function* (group) {
 *   const decoded = group.spawn(function* () { return (yield* gunzipReader(compressed).readAll()).text(); });
 *   const input = new MemoryReader("x".repeat(10_000));
 *   using gz = gzipWriter(sink);
 *   yield* gz.writeReader(input);
 *   yield* gz.end();
 *   sink.close();
 *   console.log((yield* decoded.wait()).length); // prints 10000
 * });
 * ```
 */
export function gzipWriter(writer: Writer, options: ZlibWriterOptions = {}): CompressWriter {
  return zlibWriter("gzipWriter()", "gzip", writer, options);
}

/**
 * A writer that compresses what is written into `writer` in the zlib format
 * (RFC 1950, deflate with a zlib header and checksum: what HTTP calls
 * `deflate`). Otherwise as {@link gzipWriter}.
 *
 * @example
 * ```ts
 * const [compressed, conn] = pipe(); // stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   using z = deflateWriter(conn, { level: 1 });
 *   group.startSoon(function* () {
 *     yield* z.write("frame 1\n");
 *     yield* z.flush();
 *   });
 *   console.log(yield* inflateReader(compressed).readLine()); // prints frame 1
 *   conn.close();
 * });
 * ```
 */
export function deflateWriter(writer: Writer, options: ZlibWriterOptions = {}): CompressWriter {
  return zlibWriter("deflateWriter()", "deflate", writer, options);
}

/**
 * A writer that compresses what is written into `writer` with brotli
 * (RFC 7932). Needs node:zlib (Node, Bun, Deno): throws `Unsupported`
 * elsewhere, since the Web `CompressionStream` has no brotli.
 *
 * @example
 * ```ts
 * const [compressed, sink] = pipe(); // stands in for a file or a socket
 * yield* withTaskGroup(function* (group) {
 *   const decoded = group.spawn(function* () { return (yield* brotliReader(compressed).readAll()).text(); });
 *   using br = brotliWriter(sink, { quality: 5 });
 *   yield* br.write("some text");
 *   yield* br.end();
 *   sink.close();
 *   console.log(yield* decoded.wait()); // prints some text
 * });
 * ```
 */
export function brotliWriter(writer: Writer, options: BrotliWriterOptions = {}): CompressWriter {
  const api = "brotliWriter()";
  if (options === null || typeof options !== "object") throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  const closeUnderlying = requireBoolean(api, "options.closeUnderlying", options.closeUnderlying);
  requireWriter(api, writer, closeUnderlying);
  const quality = requireLevel(api, "options.quality", options.quality, 0, 11);
  return new CompressWriter(api, "brotli", writer, { ...options, closeUnderlying, quality });
}

function zlibWriter(api: string, format: Format, writer: Writer, options: ZlibWriterOptions): CompressWriter {
  if (options === null || typeof options !== "object") throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  const closeUnderlying = requireBoolean(api, "options.closeUnderlying", options.closeUnderlying);
  requireWriter(api, writer, closeUnderlying);
  const level = requireLevel(api, "options.level", options.level, -1, 9);
  return new CompressWriter(api, format, writer, { ...options, closeUnderlying, level });
}
