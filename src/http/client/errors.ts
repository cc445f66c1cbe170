/**
 * The client's own errors: `ProxyError` (a proxy refused to forward) and
 * `HttpRedirectError` (a redirect chain longer than the limit).
 */
import { HttpProtocolError } from "../errors.ts";
import type { HttpHeaders } from "../headers.ts";

/** The status line and headers of a response whose body was not kept. */
export interface HttpResponseHead {
  /** The status code. */
  readonly status: number;
  /** The reason phrase. */
  readonly reason: string;
  /** The header fields. */
  readonly headers: HttpHeaders;
}

/**
 * A proxy answered a `CONNECT` (or, for an `http://` target, the request
 * itself is not affected: that answer is the response) with a status other
 * than 2xx: 407 when it wants credentials (put them in the proxy URL,
 * `http://user:password@proxy:3128`), 403 when it refuses the target, 502
 * when it could not reach it. `response` carries its status line and
 * headers; the connection was closed.
 *
 * @example
 * ```ts
 * try {
 *   using client = new HttpClient({ proxy: "http://127.0.0.1:9" }); // nothing listens there
 *   yield* client.get("https://example.com/");
 * } catch (error) {
 *   if (error instanceof ProxyError) console.log(error.response.status);
 *   else console.log("no proxy"); // prints no proxy
 * }
 * ```
 */
export class ProxyError extends Error {
  /** The proxy's answer (status, reason, headers). */
  readonly response: HttpResponseHead;

  /**
   * Creates the error.
   *
   * @param message what went wrong
   * @param response the proxy's answer
   */
  constructor(message: string, response: HttpResponseHead) {
    super(message);
    this.name = "ProxyError";
    this.response = response;
  }
}

/**
 * More redirects than `maxRedirects` (10) in a row, with `redirect: "follow"`.
 * `location` is the redirect that was not followed.
 *
 * @example
 * ```ts
 * const error = new HttpRedirectError("too many redirects", new URL("http://example.com/loop"));
 * console.log(error.location.pathname); // prints /loop
 * ```
 */
export class HttpRedirectError extends Error {
  /** The next URL the server asked for. */
  readonly location: URL;

  /**
   * Creates the error.
   *
   * @param message what went wrong
   * @param location the next URL the server asked for
   */
  constructor(message: string, location: URL) {
    super(message);
    this.name = "HttpRedirectError";
    this.location = location;
  }
}

/** An HttpProtocolError made by the client (the peer broke HTTP/1.1). */
export function protocolError(status: number, message: string): HttpProtocolError {
  return new HttpProtocolError(status, message);
}
