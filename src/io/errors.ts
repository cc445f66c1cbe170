/**
 * The errors of `weft/io`.
 */

/**
 * Thrown by {@link Reader.readExactly} when the stream ends before the bytes
 * asked for have arrived. The bytes that did arrive are not lost: they stay
 * buffered in the reader for the next read.
 *
 * @example
 * ```ts
 * const [conn, peer] = pipe(); // stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using p = peer; // the peer sends 6 bytes and hangs up
 *     yield* p.write("only 6");
 *   });
 *   try {
 *     yield* conn.readExactly(16);
 *   } catch (e) {
 *     if (e instanceof ReaderClosed) console.log("the peer hung up mid-header"); // prints that
 *   }
 * });
 * ```
 */
export class ReaderClosed extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message = "the stream ended before the requested bytes arrived") {
    super(message);
    this.name = "ReaderClosed";
  }
}

/**
 * Thrown by a write to an in-memory pipe whose read end was closed: nobody
 * will ever read what is written.
 *
 * @example
 * ```ts
 * const [r, w] = pipe();
 * r.close();
 * try {
 *   yield* w.write("lost");
 * } catch (e) {
 *   console.log(e instanceof PipeClosed); // prints true
 * }
 * ```
 */
export class PipeClosed extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message = "the read end of the pipe is closed") {
    super(message);
    this.name = "PipeClosed";
  }
}

/**
 * Thrown by {@link Reader.readUntil} and {@link Reader.readLine} given a
 * `maxLength` when more than that many bytes arrive without the separator:
 * the caller asked for a bounded read (a protocol's header line, say) and the
 * peer sent an unbounded one. Nothing is lost: the bytes read so far stay
 * buffered (at most `maxLength` plus one chunk of the source), so the caller
 * may answer the peer, `drop()` them or close the stream.
 *
 * @example
 * ```ts
 * const [conn, peer] = pipe(); // stands in for a socket
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using p = peer; // a peer that never ends its line
 *     yield* p.write("x".repeat(100_000));
 *   });
 *   try {
 *     yield* conn.readLine({ maxLength: 8192 });
 *   } catch (e) {
 *     if (e instanceof ReadLimitExceeded) console.log(`line over ${e.limit} bytes`); // prints line over 8192 bytes
 *   }
 *   conn.close();
 * });
 * ```
 */
export class ReadLimitExceeded extends Error {
  /** The `maxLength` that was exceeded, in bytes. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param limit the `maxLength` that was exceeded
   * @param message what the error says
   */
  constructor(limit: number, message = `more than ${limit} bytes arrived without the separator`) {
    super(message);
    this.name = "ReadLimitExceeded";
    this.limit = limit;
  }
}
