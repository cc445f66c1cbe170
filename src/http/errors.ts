/**
 * The errors of `weft/http`.
 */

/**
 * The peer sent something HTTP/1.1 forbids (RFC 9112): a malformed or
 * ambiguous head, a framing that could smuggle a second message, a head over
 * its limit. `status` is the answer a server gives before it closes the
 * connection: 400, 414 (request line too long), 431 (header block too
 * large), 501 (a transfer coding weft does not implement) or 505 (an HTTP
 * version other than 1.x). A client that reads a bad response sees 502.
 *
 * @example
 * ```ts
 * const error = new HttpProtocolError(431, "the header block is larger than 16384 bytes");
 * console.log(error.status); // prints 431
 * ```
 */
export class HttpProtocolError extends Error {
  /** The status a server answers with. */
  readonly status: number;

  /**
   * Creates the error.
   *
   * @param status the status a server answers with
   * @param message what was wrong
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpProtocolError";
    this.status = status;
  }
}

/**
 * A message body did not match its declared length: more bytes written than
 * its `Content-Length`, or fewer when it was ended. The connection it was
 * written to can no longer be reused, so it is closed.
 *
 * @example
 * ```ts
 * const error = new HttpBodyLengthError(10, 12);
 * console.log(error.message); // prints the body was declared as 10 bytes but 12 were written
 * ```
 */
export class HttpBodyLengthError extends Error {
  /** The declared length. */
  readonly declared: number;
  /** What was written (or would have been, for a write that was refused). */
  readonly actual: number;

  /**
   * Creates the error.
   *
   * @param declared the declared `Content-Length`
   * @param actual the bytes written (or attempted)
   */
  constructor(declared: number, actual: number) {
    super(`the body was declared as ${declared} bytes but ${actual} were written`);
    this.name = "HttpBodyLengthError";
    this.declared = declared;
    this.actual = actual;
  }
}
