/**
 * The engine behind the compression writers and readers: one incremental
 * codec, from node:zlib where the host has it, else from the Web
 * `CompressionStream`/`DecompressionStream`. Both are reached at run time, so
 * `weft/io` imports no `node:*` module and still loads on any host.
 */
import { Unsupported } from "../../core/errors.ts";
import { NodeCodec, nodeZlib } from "./node_codec.ts";
import { WebCodec, webStreams } from "./web_codec.ts";

/** The three formats: gzip (RFC 1952), deflate (zlib-wrapped, RFC 1950) and brotli (RFC 7932). */
export type Format = "gzip" | "deflate" | "brotli";

/** Which engine runs the codec; `"web"` is also selectable on Node so that tests cover both. */
export type Implementation = "node" | "web";

/**
 * An incremental compressor or decompressor, driven by callbacks (the writer
 * and reader turn them into weft operations). Input is fed with `write` and
 * taken from `take`; a codec holds back its work while output waits to be
 * taken, so its memory stays bounded whatever the compression ratio.
 */
export interface Codec {
  /** Feeds `bytes` (the codec keeps its own copy); `done` runs once they were consumed, or with the codec's error. */
  write(bytes: Uint8Array, done: () => void): void;
  /** Makes everything written so far decodable from the output; `done` runs once that output can be taken. */
  flush(done: () => void): void;
  /** No more input: the codec writes its trailer (compressing) or checks the stream is complete (decompressing). */
  end(): void;
  /** Output ready now, or `undefined`. */
  take(): Uint8Array | undefined;
  /** True once `end()` was called and all the output was taken. */
  readonly finished: boolean;
  /** The codec's failure (bad data, a truncated stream), `undefined` while it is healthy. */
  readonly error: unknown;
  /** Calls `listener` at the next change (output ready, finished, failed, input consumed); returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Frees the codec's resources (a zlib handle, a stream's reader) and wakes its listeners; idempotent. */
  destroy(): void;
}

/** What the factories accept about the engine. */
export interface CodecOptions {
  readonly level?: number | undefined;
  readonly quality?: number | undefined;
}

/** A test-only seam: options may carry `implementation` to pick the engine. Not part of the public types. */
export function requestedImplementation(api: string, options: unknown): Implementation | undefined {
  const requested = (options as { implementation?: unknown } | undefined)?.implementation;
  if (requested === undefined || requested === "node" || requested === "web") return requested;
  throw new TypeError(`${api}: implementation must be "node" or "web"`);
}

/**
 * Opens a codec for `format`, compressing or decompressing, on node:zlib if
 * available (or if asked for), else on the Web streams. Throws `Unsupported`
 * naming `api` when neither can do it.
 */
export function openCodec(api: string, format: Format, compress: boolean, options: CodecOptions, implementation?: Implementation): Codec {
  const zlib = implementation === "web" ? undefined : nodeZlib();
  if (zlib !== undefined) return new NodeCodec(zlib, format, compress, options);
  if (implementation === "node") throw new Unsupported(`${api}: node:zlib is not available on this host`);
  if (format === "brotli") {
    throw new Unsupported(`${api}: brotli needs node:zlib (Node, Bun, Deno); the Web CompressionStream has no brotli`);
  }
  const streams = webStreams(compress);
  if (streams === undefined) {
    throw new Unsupported(`${api}: this host has neither node:zlib nor the Web ${compress ? "CompressionStream" : "DecompressionStream"}`);
  }
  return new WebCodec(streams, format, compress);
}
