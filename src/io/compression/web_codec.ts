/**
 * The codec on the Web `CompressionStream`/`DecompressionStream` (browsers,
 * and any host without node:zlib). The Web streams have no flush, and no
 * brotli: the writers and readers refuse those before a codec is opened.
 */
import { copyBytes } from "../data.ts";
import { Adler32 } from "./adler32.ts";
import type { Codec, Format } from "./codec.ts";

/** A decompressor's output per input chunk is unbounded in size, so its input is fed in pieces this large. */
const DECODE_PIECE = 4 * 1024;

interface WebStreams {
  CompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array>;
  DecompressionStream?: new (format: string) => TransformStream<Uint8Array, Uint8Array>;
}

type StreamConstructor = new (format: string) => TransformStream<Uint8Array, Uint8Array>;

/** The host's `CompressionStream` (or `DecompressionStream`) class, or `undefined`. */
export function webStreams(compress: boolean): StreamConstructor | undefined {
  const host = globalThis as WebStreams;
  return compress ? host.CompressionStream : host.DecompressionStream;
}

const ignore = (): void => {};

/** A {@link Codec} on a Web transform stream. */
export class WebCodec implements Codec {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #compress: boolean;
  /** Output read from the stream and not taken yet (at most one chunk: a read starts only when the queue is empty). */
  readonly #output: Uint8Array[] = [];
  #reading = false;
  #finished = false;
  #destroyed = false;
  #error: unknown = undefined;
  #listeners: Array<() => void> = [];
  /** Decoding the zlib format: the checksum of the output, and the last 4 input bytes (where the stream's own checksum is). */
  readonly #adler: Adler32 | undefined;
  readonly #tail = new Uint8Array(4);
  #inputLength = 0;

  constructor(Stream: StreamConstructor, format: Format, compress: boolean) {
    const stream = new Stream(format);
    this.#compress = compress;
    this.#adler = !compress && format === "deflate" ? new Adler32() : undefined;
    this.#writer = stream.writable.getWriter();
    this.#reader = stream.readable.getReader();
  }

  get finished(): boolean {
    return this.#finished;
  }

  get error(): unknown {
    return this.#error;
  }

  write(bytes: Uint8Array, done: () => void): void {
    if (this.#adler !== undefined) this.#keepTail(bytes);
    const pieceSize = this.#compress ? bytes.length : DECODE_PIECE;
    let left = 0;
    for (let at = 0; at < bytes.length; at += pieceSize) {
      left++;
      // A copy: the stream holds the chunk past the call, and the caller may reuse its buffer.
      this.#writer.write(copyBytes(bytes.subarray(at, at + pieceSize))).then(
        () => {
          if (--left === 0) {
            done();
            this.#notify();
          }
        },
        (error: unknown) => this.#fail(error),
      );
    }
    if (left === 0) done();
  }

  flush(): void {
    throw new TypeError("flush(): the Web CompressionStream cannot flush");
  }

  end(): void {
    this.#writer.close().then(ignore, (error: unknown) => this.#fail(error));
  }

  take(): Uint8Array | undefined {
    const chunk = this.#output.shift();
    if (chunk !== undefined) return chunk;
    if (!this.#reading && !this.#finished && this.#error === undefined && !this.#destroyed) {
      this.#reading = true;
      this.#reader.read().then(
        (result) => {
          this.#reading = false;
          if (result.done) {
            if (!this.#checksumHolds()) return;
            this.#finished = true;
          } else {
            this.#adler?.update(result.value);
            this.#output.push(result.value);
          }
          this.#notify();
        },
        (error: unknown) => {
          this.#reading = false;
          this.#fail(error);
        },
      );
    }
    return undefined;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i !== -1) this.#listeners.splice(i, 1);
    };
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#output.length = 0;
    // Not waited for: tells both sides to stop and drop what they hold.
    this.#reader.cancel().then(ignore, ignore);
    this.#writer.abort().then(ignore, ignore);
    // A task waiting on the codec (closed from another task) must wake to see it closed.
    this.#notify();
  }

  #keepTail(bytes: Uint8Array): void {
    const tail = this.#tail;
    if (bytes.length >= 4) tail.set(bytes.subarray(bytes.length - 4));
    else {
      tail.copyWithin(0, bytes.length);
      tail.set(bytes, 4 - bytes.length);
    }
    this.#inputLength += bytes.length;
  }

  /** True if the zlib stream's Adler-32 matches the output (or there is none to check); else fails the codec. */
  #checksumHolds(): boolean {
    const adler = this.#adler;
    if (adler === undefined) return true;
    const tail = this.#tail;
    const expected = ((tail[0]! << 24) | (tail[1]! << 16) | (tail[2]! << 8) | tail[3]!) >>> 0;
    // 2 header bytes, at least 1 of deflate data, 4 of checksum.
    if (this.#inputLength >= 7 && expected === adler.value) return true;
    this.#fail(new Error("the zlib stream is truncated or corrupt: its Adler-32 checksum does not match the decoded bytes"));
    return false;
  }

  #fail(error: unknown): void {
    if (this.#destroyed) return;
    this.#error ??= error;
    this.#notify();
  }

  #notify(): void {
    const listeners = this.#listeners;
    if (listeners.length === 0) return;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}
