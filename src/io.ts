/**
 * weft/io: portable byte streams. `Reader` and `Writer` are what every weft
 * stream implements (sockets, files, processes, stdio, in-memory pipes);
 * `ReaderBase`, `WriterBase` and `DuplexBase` implement them for a new source
 * or sink from one primitive each.
 *
 * @example
 * ```ts
 * import { run } from "weft";
 * import { pipe } from "weft/io";
 *
 * await run(function* () {
 *   const [reader, writer] = pipe();
 *   ...
 * });
 * ```
 *
 * @module
 */
export { Data } from "./io/data.ts";
export { PipeClosed, ReaderClosed } from "./io/errors.ts";
export { ReaderBase, type Reader } from "./io/reader.ts";
export { WriterBase, type Writer } from "./io/writer.ts";
export { DuplexBase } from "./io/duplex.ts";
