/**
 * The codec on node:zlib's stream classes (Node, Bun, Deno), reached through
 * `process.getBuiltinModule` so that nothing imports `node:*` statically.
 * The zlib stream stays in paused mode: output waits in its buffer until a
 * task takes it, and zlib stops working while that buffer is full, which
 * is what bounds memory when a small input decodes to a huge output.
 */
import type * as Zlib from "node:zlib";
import type { Codec, CodecOptions, Format } from "./codec.ts";

type ZlibModule = typeof Zlib;
type ZlibStream = Zlib.Gzip | Zlib.BrotliCompress;

/** Larger than zlib's default 16 KiB: fewer trips through the thread pool for bulk data. */
const CHUNK = 64 * 1024;

/** node:zlib, or `undefined` on a host without it (a browser, QuickJS, Node < 20.16). */
export function nodeZlib(): ZlibModule | undefined {
  const host = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };
  try {
    const zlib = host.process?.getBuiltinModule?.("node:zlib") as ZlibModule | undefined;
    return typeof zlib?.createGzip === "function" ? zlib : undefined;
  } catch {
    return undefined;
  }
}

function createStream(zlib: ZlibModule, format: Format, compress: boolean, options: CodecOptions): ZlibStream {
  // Room for a few chunks of output: zlib keeps working while the task that takes them is busy elsewhere.
  const base = { chunkSize: CHUNK, readableHighWaterMark: 4 * CHUNK };
  switch (format) {
    case "gzip":
      return compress ? zlib.createGzip({ ...base, level: options.level ?? 6 }) : zlib.createGunzip(base);
    case "deflate":
      return compress ? zlib.createDeflate({ ...base, level: options.level ?? 6 }) : zlib.createInflate(base);
    case "brotli": {
      const params = options.quality === undefined ? {} : { [zlib.constants.BROTLI_PARAM_QUALITY]: options.quality };
      return compress ? zlib.createBrotliCompress({ ...base, params }) : zlib.createBrotliDecompress(base);
    }
  }
}

/** A {@link Codec} on a node:zlib transform stream. */
export class NodeCodec implements Codec {
  readonly #stream: ZlibStream;
  readonly #flushKind: number;
  #error: unknown = undefined;
  #finished = false;
  #listeners: Array<() => void> = [];

  constructor(zlib: ZlibModule, format: Format, compress: boolean, options: CodecOptions) {
    const stream = createStream(zlib, format, compress, options);
    this.#stream = stream;
    this.#flushKind = format === "brotli" ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH;
    const notify = (): void => this.#notify();
    stream.on("readable", notify);
    stream.on("end", () => {
      this.#finished = true;
      this.#notify();
    });
    // Kept for the stream's whole life: an error between two operations waits for the next one.
    stream.on("error", (error: unknown) => {
      this.#error ??= error;
      this.#notify();
    });
  }

  get finished(): boolean {
    return this.#finished;
  }

  get error(): unknown {
    return this.#error;
  }

  write(bytes: Uint8Array, done: () => void): void {
    // Buffer.from copies: the caller may reuse its buffer once the write returns.
    this.#stream.write(Buffer.from(bytes), () => {
      done();
      this.#notify();
    });
  }

  flush(done: () => void): void {
    this.#stream.flush(this.#flushKind, () => {
      done();
      this.#notify();
    });
  }

  end(): void {
    this.#stream.end();
  }

  take(): Uint8Array | undefined {
    // Also after an error: a destroyed stream keeps what was decoded before the fault.
    const chunk = this.#stream.read() as Buffer | null;
    return chunk === null ? undefined : chunk;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i !== -1) this.#listeners.splice(i, 1);
    };
  }

  destroy(): void {
    // Closes the zlib handle; a later error event still finds the listener above.
    this.#stream.destroy();
    // A task waiting on the codec (closed from another task) must wake to see it closed.
    this.#notify();
  }

  #notify(): void {
    const listeners = this.#listeners;
    if (listeners.length === 0) return;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}
