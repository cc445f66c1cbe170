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
 * @internal
 * @module
 */
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

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
