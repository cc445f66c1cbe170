/**
 * weft/io: portable byte streams. `Reader` and `Writer` are what every weft
 * stream implements (sockets, files, processes, stdio, in-memory pipes);
 * `ReaderBase`, `WriterBase` and `DuplexBase` implement them for a new source
 * or sink from one primitive each. `pipe()` connects two tasks with
 * back-pressure, `MemoryReader` reads in-memory data, and `BufferedWriter`
 * turns many small writes into a few large ones. `gzipWriter`, `deflateWriter`
 * and `brotliWriter` compress into a writer; `gunzipReader`, `inflateReader`
 * and `brotliReader` read the decoded bytes of a compressed reader (node:zlib
 * where the host has it, else the Web `CompressionStream`).
 *
 * Every read and write suspends only the calling task and is cancellable
 * without losing data: a cancelled read took nothing (bytes already
 * received, even half of a `readExactly`, stay buffered for the next read).
 *
 * @example
 * ```ts
 * import { run, withTaskGroup } from "weftjs";
 * import { pipe } from "weftjs/io";
 *
 * const lines = await run(function* () {
 *   const [reader, writer] = pipe();
 *   return yield* withTaskGroup<string[]>(function* (group) {
 *     group.startSoon(function* () {
 *       using w = writer; // closing the write end gives the reader end of stream
 *       yield* w.write("alpha\nbeta\r\n");
 *       yield* w.write("gamma");
 *     });
 *     const lines: string[] = [];
 *     for (let line; (line = yield* reader.readLine()) !== undefined; ) lines.push(line);
 *     return lines;
 *   });
 * });
 * console.log(lines); // prints [ 'alpha', 'beta', 'gamma' ]
 * ```
 *
 * @module
 */
export { Data } from "./io/data.ts";
export { PipeClosed, ReadLimitExceeded, ReaderClosed } from "./io/errors.ts";
export { ReaderBase, type Reader, type ReadUntilOptions } from "./io/reader.ts";
export { WriterBase, type Writer } from "./io/writer.ts";
export { DuplexBase } from "./io/duplex.ts";
export { BufferedWriter } from "./io/buffered_writer.ts";
export { pipe, PipeReader, PipeWriter } from "./io/pipe.ts";
export { MemoryReader, type MemoryData } from "./io/memory_reader.ts";
export { CompressWriter, gzipWriter, deflateWriter, brotliWriter } from "./io/compression/compress_writer.ts";
export type { CompressWriterOptions, ZlibWriterOptions, BrotliWriterOptions } from "./io/compression/compress_writer.ts";
export { DecompressReader, gunzipReader, inflateReader, brotliReader } from "./io/compression/decompress_reader.ts";
export type { DecompressReaderOptions } from "./io/compression/decompress_reader.ts";
export { OutputLimitExceeded } from "./io/compression/output_limit.ts";
