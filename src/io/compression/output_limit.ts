/**
 * `OutputLimitExceeded`: what a decompressing reader throws when the decoded
 * stream grows past its `maxOutput` (a decompression bomb, or simply a limit
 * set too low).
 */

/**
 * Thrown by a read from {@link gunzipReader}, {@link inflateReader} or
 * {@link brotliReader} once the decoded bytes would exceed the reader's
 * `maxOutput`. It is a `RangeError`; `limit` is the limit that was hit. The
 * reader stays failed: every later read throws the same error.
 *
 * @example
 * ```ts
 * const [upload, sink] = pipe(); // stands in for an uploaded body
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using gz = gzipWriter(sink, { closeUnderlying: true });
 *     yield* gz.write(new Uint8Array(2 * 1024 * 1024)); // 2 MiB of zeros: a few KiB compressed
 *     yield* gz.end();
 *   });
 *   try {
 *     yield* gunzipReader(upload, { maxOutput: 1024 * 1024 }).readAll();
 *   } catch (e) {
 *     if (e instanceof OutputLimitExceeded) console.log(`refused: more than ${e.limit} bytes once decoded`); // prints refused: more than 1048576 bytes once decoded
 *     upload.close();
 *   }
 * });
 * ```
 */
export class OutputLimitExceeded extends RangeError {
  /** The `maxOutput` that the decoded stream would have exceeded, in bytes. */
  readonly limit: number;

  /**
   * Creates the error.
   *
   * @param api the function whose limit was hit, for the message
   * @param limit the limit in bytes
   */
  constructor(api: string, limit: number) {
    super(`${api}: the decompressed stream exceeds maxOutput (${limit} bytes); it was stopped there`);
    this.name = "OutputLimitExceeded";
    this.limit = limit;
  }
}
