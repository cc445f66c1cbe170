/**
 * The errors of `weft/http`.
 */
import { ReadLimitExceeded } from "../io/errors.ts";

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

/**
 * A body read whole was larger than its `maxSize`: the server's
 * `req.bytes()`, `text()` and `json()` (1 MiB by default) and the client's
 * `res.bytes()`, `text()` and `json()` (16 MiB by default) throw it. On the
 * server, one that escapes a handler before it answered gets a
 * `413 Content Too Large` sent for it, and the connection is closed. It is a
 * `ReadLimitExceeded` (from `weftjs/io`), whose `limit` is the same number as
 * `maxSize`, so code that catches that keeps working.
 *
 * @example
 * ```ts
 * const error = new HttpBodyTooLarge(1024);
 * console.log(error.maxSize, error.limit, error instanceof ReadLimitExceeded); // prints 1024 1024 true
 * ```
 */
export class HttpBodyTooLarge extends ReadLimitExceeded {
  /** The limit the body went over (the same as `limit`). */
  readonly maxSize: number;

  /**
   * Creates the error.
   *
   * @param maxSize the limit the body went over
   * @param message what the error says
   */
  constructor(maxSize: number, message = `the body is larger than ${maxSize} bytes`) {
    super(maxSize, message);
    this.name = "HttpBodyTooLarge";
    this.maxSize = maxSize;
  }
}
