/**
 * Reading and writing past a stream that only fronts another one.
 *
 * Some weft streams are a thin layer over another stream: an upgraded HTTP
 * connection reads the bytes that came with the request head first, and the
 * socket after that; it writes to the socket as it is. Once nothing is left
 * in front (no bytes buffered, nothing closed), a read or write through the
 * layer is exactly a read or write of the stream under it, plus a level of
 * delegation that a task resuming from the read walks through every time.
 * Such a layer offers that stream through these internal methods, and a
 * protocol that reads and writes many small pieces (a WebSocket) asks for it
 * before each read and each write: the answer can change (a read past a
 * layer's buffer must wait until the buffer is empty), so it is never kept.
 *
 * A protocol whose next read or write usually goes straight to the source
 * (a WebSocket's small frames) may also skip the reader's and the writer's
 * own operation around the source's: {@link rawRead} is the source's
 * operation for the next chunk when a `readSome()` would be exactly that
 * operation plus bookkeeping, and {@link rawWrite} the sink's operation for
 * handed-over bytes when a write would be. The caller waits on it as
 * `yield*` would and ends it with {@link endRawRead}/{@link endRawWrite}
 * however the wait ends, which does that bookkeeping. Both answer null
 * whenever the usual operation would do more (bytes already buffered, an
 * error to throw, a spent budget): the caller then uses that operation.
 *
 * @internal
 * @module
 */
import type { Operation } from "../core/operation.ts";
import type { Reader } from "./reader.ts";
import type { GiveBack, Writer } from "./writer.ts";

/** `[directReader]()`: the stream to read instead of this one now, or null while reading this one differs. */
export const directReader: unique symbol = Symbol("weft.directReader");

/** `[directWriter]()`: the stream to write instead of this one now, or null while writing this one differs. */
export const directWriter: unique symbol = Symbol("weft.directWriter");

interface Fronting {
  [directReader]?(): Reader | null;
  [directWriter]?(): Writer | null;
}

/** The stream a read of `reader` may go to now: the one under it when `reader` says so, else `reader`. */
export function readerNow(reader: Reader): Reader {
  return (reader as Fronting)[directReader]?.() ?? reader;
}

/** The stream a write to `writer` may go to now: the one under it when `writer` says so, else `writer`. */
export function writerNow(writer: Writer): Writer {
  return (writer as Fronting)[directWriter]?.() ?? writer;
}

/** `[rawReadStart]()`: see {@link rawRead}. */
export const rawReadStart: unique symbol = Symbol("weft.rawReadStart");

/** `[rawReadEnd](result, completed)`: see {@link endRawRead}. */
export const rawReadEnd: unique symbol = Symbol("weft.rawReadEnd");

/** `[rawWriteStart](bytes, giveBack)`: see {@link rawWrite}. */
export const rawWriteStart: unique symbol = Symbol("weft.rawWriteStart");

/** `[rawWriteEnd]()`: see {@link endRawWrite}. */
export const rawWriteEnd: unique symbol = Symbol("weft.rawWriteEnd");

interface RawReader {
  [rawReadStart]?(): Operation<unknown> | null;
  [rawReadEnd](result: unknown, completed: boolean): Uint8Array | undefined | null;
}

interface RawWriter {
  [rawWriteStart]?(bytes: Uint8Array, giveBack: GiveBack): Operation<unknown> | null;
  [rawWriteEnd](): void;
}

/**
 * The source's own operation for `reader`'s next chunk, when a `readSome()`
 * now would be just that operation (nothing buffered, no end of stream seen,
 * no other task reading, the reader open, the task neither cancelled nor
 * over its budget); null otherwise, and for a reader that does not say. The
 * reader counts as being read until {@link endRawRead}.
 */
export function rawRead(reader: Reader): Operation<unknown> | null {
  return (reader as Partial<RawReader>)[rawReadStart]?.() ?? null;
}

/**
 * Ends a {@link rawRead} of `reader`. `completed`: the operation returned
 * `result`, which comes back checked, as `readSome()` would have returned
 * it (`undefined` at the end of stream), or null for an empty chunk (read
 * again); a chunk that is not bytes is a TypeError. Otherwise (it threw or
 * was given up) `result` is ignored and null returned.
 */
export function endRawRead(reader: Reader, result: unknown, completed: boolean): Uint8Array | undefined | null {
  return (reader as unknown as RawReader)[rawReadEnd](result, completed);
}

/**
 * The sink's own operation writing `bytes` (not empty, handed over until
 * `giveBack`, as `writeHandedOver` does) to `writer`, when a write now would
 * be just that operation (no other task writing, the writer open, the task
 * not cancelled); null otherwise, and for a writer that does not say. The
 * writer counts as being written until {@link endRawWrite}.
 */
export function rawWrite(writer: Writer, bytes: Uint8Array, giveBack: GiveBack): Operation<unknown> | null {
  return (writer as Partial<RawWriter>)[rawWriteStart]?.(bytes, giveBack) ?? null;
}

/** Ends a {@link rawWrite} of `writer`, however its operation ended. */
export function endRawWrite(writer: Writer): void {
  (writer as unknown as RawWriter)[rawWriteEnd]();
}
