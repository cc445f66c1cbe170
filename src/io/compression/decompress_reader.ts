/**
 * `gunzipReader`, `inflateReader`, `brotliReader`: a {@link Reader} of the
 * decoded bytes of a compressed stream read from another reader.
 */
import { describe, type Operation } from "../../core/operation.ts";
import { ReaderBase, type Reader } from "../reader.ts";
import { type Codec, type Format, openCodec, requestedImplementation } from "./codec.ts";
import { OutputLimitExceeded } from "./output_limit.ts";
import { waitForCodec } from "./wait_codec.ts";

/** The default `maxOutput`: 1 GiB. */
const DEFAULT_MAX_OUTPUT = 2 ** 30;

/** Options of every decompressing reader. */
export interface DecompressReaderOptions {
  /**
   * The most decoded bytes the reader delivers (default 1 GiB). A stream that
   * decodes to more fails with {@link OutputLimitExceeded} once it gets
   * there, which stops a decompression bomb; memory stays bounded meanwhile
   * (the decoder works only as fast as the bytes are read). `Infinity` for
   * no limit.
   */
  readonly maxOutput?: number;
  /**
   * Also close the underlying reader (it must have a `close()` method) when
   * this reader is closed. Default `false`.
   */
  readonly closeUnderlying?: boolean;
}

/**
 * A {@link Reader} of the decoded bytes of a compressed stream, which it
 * reads from an underlying reader as it needs. Made by {@link gunzipReader},
 * {@link inflateReader} and {@link brotliReader}.
 *
 * The stream must be complete: a stream cut short, a bad checksum (gzip's
 * CRC-32, zlib's Adler-32) or bytes that are not in the format make a read
 * throw the decoder's error (node:zlib's carry their `code`, such as
 * `Z_DATA_ERROR` or `Z_BUF_ERROR`), after the bytes decoded before the fault;
 * never a silent end of stream. A decoder failure, like
 * {@link OutputLimitExceeded}, is final: later reads throw it again.
 *
 * Cancellation: a cancelled read takes nothing; decoded bytes stay buffered
 * (in the reader or in the decoder) for the next read, and compressed input
 * not yet fed stays in the underlying reader.
 *
 * `close()` frees the decoder (idempotent); with `closeUnderlying` it closes
 * the underlying reader too. A read that was waiting when another task
 * closed the reader sees end of stream, as with a pipe.
 *
 * @example
 * ```ts
 * const [compressed, sink] = pipe(); // stands in for a .gz file
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using gz = gzipWriter(sink, { closeUnderlying: true });
 *     yield* gz.write("line 1\nline 2\n");
 *     yield* gz.end();
 *   });
 *   using text = gunzipReader(compressed);
 *   for (let line; (line = yield* text.readLine()) !== undefined; ) console.log(line); // prints line 1, line 2
 * });
 * ```
 */
export class DecompressReader extends ReaderBase {
  readonly #api: string;
  readonly #codec: Codec;
  readonly #source: Reader;
  readonly #maxOutput: number;
  readonly #closeUnderlying: boolean;
  #produced = 0;
  /** A chunk of input was handed to the codec and not consumed yet. */
  #feeding = false;
  #inputEnded = false;
  #failure: unknown = undefined;
  #closed = false;

  /** @internal Use {@link gunzipReader}, {@link inflateReader} or {@link brotliReader}. */
  constructor(api: string, format: Format, reader: Reader, options: DecompressReaderOptions) {
    super();
    if (options === null || typeof options !== "object") throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
    if (reader === null || typeof reader !== "object" || typeof (reader as Partial<Reader>).readSome !== "function") {
      throw new TypeError(`${api}: reader must be a Reader, got ${describe(reader)}`);
    }
    const maxOutput = options.maxOutput ?? DEFAULT_MAX_OUTPUT;
    if (typeof maxOutput !== "number" || !(Number.isInteger(maxOutput) || maxOutput === Infinity)) {
      throw new TypeError(`${api}: options.maxOutput must be an integer or Infinity, got ${describe(maxOutput)}`);
    }
    if (maxOutput < 0) throw new RangeError(`${api}: options.maxOutput must be >= 0, got ${maxOutput}`);
    const closeUnderlying = options.closeUnderlying ?? false;
    if (typeof closeUnderlying !== "boolean") {
      throw new TypeError(`${api}: options.closeUnderlying must be a boolean, got ${describe(closeUnderlying)}`);
    }
    if (closeUnderlying && typeof (reader as { close?: unknown }).close !== "function") {
      throw new TypeError(`${api}: closeUnderlying needs a reader with a close() method`);
    }
    this.#api = api;
    this.#source = reader;
    this.#maxOutput = maxOutput;
    this.#closeUnderlying = closeUnderlying;
    this.#codec = openCodec(api, format, false, {}, requestedImplementation(api, options));
  }

  /** Decoded bytes delivered so far (what counts towards `maxOutput`). */
  get decoded(): number {
    return this.#produced;
  }

  /** True once this reader was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once this reader was closed. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Frees the decoder; with `closeUnderlying`, closes the underlying reader. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#codec.destroy();
    if (this.#closeUnderlying) (this.#source as Reader & { close(): void }).close();
  }

  /** The next decoded bytes, feeding the decoder from the underlying reader as it asks for input. */
  protected *readChunk(): Operation<Uint8Array | undefined> {
    const codec = this.#codec;
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      // Closed by another task while this read waited: end of stream, as for a pipe.
      if (this.#closed) return undefined;
      const output = codec.take();
      if (output !== undefined) {
        if (output.length > this.#maxOutput - this.#produced) {
          this.#failure = new OutputLimitExceeded(this.#api, this.#maxOutput);
          codec.destroy();
          throw this.#failure;
        }
        this.#produced += output.length;
        return output;
      }
      if (codec.error !== undefined) {
        this.#failure = codec.error;
        throw this.#failure;
      }
      if (codec.finished) {
        codec.destroy(); // nothing more to decode: free it now, not at close()
        return undefined;
      }
      if (!this.#feeding && !this.#inputEnded) {
        const input = yield* this.#source.readSome();
        if (this.#closed) return undefined;
        if (input === undefined) {
          this.#inputEnded = true;
          codec.end();
        } else {
          this.#feeding = true;
          codec.write(input, () => {
            this.#feeding = false;
          });
        }
        continue;
      }
      yield* waitForCodec(codec);
    }
  }
}

function decompressReader(api: string, format: Format, reader: Reader, options: DecompressReaderOptions): DecompressReader {
  return new DecompressReader(api, format, reader, options);
}

/**
 * A reader of the bytes gunzipped from `reader` (RFC 1952). Like the `gunzip`
 * command, it decodes concatenated gzip members as one stream, and ignores
 * zero bytes after the last one. Other bytes after it are an error, stricter
 * than `gunzip`, which writes the data, warns about "trailing garbage" and
 * exits with status 2; node:zlib may fail before delivering the members that
 * came in the same chunk as the garbage. That is node:zlib's behaviour; the Web
 * `DecompressionStream` fallback follows its host. See
 * {@link DecompressReader} for errors, `maxOutput` and cancellation. Uses
 * node:zlib where the host has it (Node, Bun, Deno), else the Web
 * `DecompressionStream`; throws `Unsupported` on a host with neither.
 *
 * @example
 * ```ts
 * const [conn, sink] = pipe(); // stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using gz = gzipWriter(sink, { closeUnderlying: true });
 *     yield* gz.write("a compressed body");
 *     yield* gz.end();
 *   });
 *   const body = yield* gunzipReader(conn, { maxOutput: 64 * 1024 * 1024 }).readAll();
 *   console.log(body.text()); // prints a compressed body
 * });
 * ```
 */
export function gunzipReader(reader: Reader, options: DecompressReaderOptions = {}): DecompressReader {
  return decompressReader("gunzipReader()", "gzip", reader, options);
}

/**
 * A reader of the bytes decompressed from `reader` in the zlib format
 * (RFC 1950: what HTTP calls `deflate`, and what {@link deflateWriter}
 * writes). Otherwise as {@link gunzipReader}.
 *
 * @example
 * ```ts
 * const [conn, sink] = pipe(); // stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using z = deflateWriter(sink, { closeUnderlying: true });
 *     yield* z.write("deflated");
 *     yield* z.end();
 *   });
 *   const text = (yield* inflateReader(conn).readAll()).text();
 *   console.log(text); // prints deflated
 * });
 * ```
 */
export function inflateReader(reader: Reader, options: DecompressReaderOptions = {}): DecompressReader {
  return decompressReader("inflateReader()", "deflate", reader, options);
}

/**
 * A reader of the bytes decompressed from `reader` with brotli (RFC 7932).
 * Needs node:zlib (Node, Bun, Deno): throws `Unsupported` elsewhere.
 *
 * @example
 * ```ts
 * const [file, sink] = pipe(); // stands in for a .br file
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using br = brotliWriter(sink, { closeUnderlying: true });
 *     yield* br.write("first line\nsecond line\n");
 *     yield* br.end();
 *   });
 *   using text = brotliReader(file);
 *   const first = yield* text.readLine();
 *   console.log(first); // prints first line
 * });
 * ```
 */
export function brotliReader(reader: Reader, options: DecompressReaderOptions = {}): DecompressReader {
  return decompressReader("brotliReader()", "brotli", reader, options);
}
