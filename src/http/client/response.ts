/**
 * `HttpClientResponse`: a response's status and headers, and its body as a
 * weft `Reader`.
 *
 * The body owns the connection until it ends. `ResponseBody` reads the
 * codec's `BodyReader` and, the moment the body is complete, hands the
 * connection back to the pool (when both sides keep it alive) before the
 * caller even sees end of stream; closing the body earlier (`close()`, or
 * leaving the block of `using res = …`) drops the connection instead, since
 * the rest of the body would otherwise have to be read before another
 * request could use it. A cancelled read takes nothing (the reader rule), and
 * leaving the `using` block then drops the connection: a timeout around a
 * download closes its socket.
 */
import { WeftUsageError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { decodeUtf8 } from "../../io/data.ts";
import { ReaderBase, type Reader } from "../../io/reader.ts";
import type { BodyReader } from "../codec/body_reader.ts";
import { readWholeBody } from "../codec/read_whole.ts";
import { HttpBodyTooLarge } from "../errors.ts";
import { HttpHeaders } from "../headers.ts";
import type { PooledConnection } from "./pool.ts";

/** The default `maxSize` of `text()`, `json()` and `bytes()`: 16 MiB. */
export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

/**
 * The body of a response as it arrives from the connection (still encoded
 * when the server compressed it: the response wraps it in a decoder).
 */
export class ResponseBody extends ReaderBase {
  readonly #body: BodyReader;
  #conn: PooledConnection | undefined;
  /** How long the connection may idle in the pool once the body is done; 0: close it then. */
  readonly #idleLimit: number;
  #closed = false;
  #noTrailers: HttpHeaders | undefined = undefined;

  constructor(body: BodyReader, conn: PooledConnection, idleLimit: number) {
    super();
    this.#body = body;
    this.#conn = conn;
    this.#idleLimit = idleLimit;
    if (body.complete) this.#release();
  }

  protected *readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    const body = this.#body;
    // `complete` means every byte was taken from the connection, not that it
    // was read: a transport chunk larger than `sizeHint` (Bun and Deno hand
    // over reads of hundreds of KiB) leaves the body's tail buffered in `body`.
    if (body.complete && body.buffered === 0) return undefined;
    const chunk = yield* body.readSome(sizeHint);
    if (body.complete) this.#release();
    return chunk;
  }

  /** True once the whole body arrived (the connection went back to the pool or was closed cleanly). */
  get complete(): boolean {
    return this.#body.complete;
  }

  /** The trailer fields once the whole body arrived (empty when there were none), else undefined. */
  get trailers(): HttpHeaders | undefined {
    const body = this.#body;
    if (!body.complete) return undefined;
    return body.trailers ?? (this.#noTrailers ??= new HttpHeaders());
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Stops reading; a connection whose body was not read to the end is dropped. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#conn = undefined;
    this.#body.close();
    conn.discard();
  }

  #release(): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#conn = undefined;
    conn.recycle(this.#idleLimit);
  }
}

/**
 * Options of {@link HttpClientResponse.text}, `json()` and `bytes()`.
 *
 * @example
 * ```ts
 * const options: ReadBodyOptions = { maxSize: 1024 * 1024 }; // a body over 1 MiB is an error
 * ```
 */
export interface ReadBodyOptions {
  /** The most bytes (after decoding) to accept (default 16 MiB); more throw `HttpBodyTooLarge` (a `ReadLimitExceeded`). */
  maxSize?: number;
}

function maxSizeOf(api: string, options: ReadBodyOptions | undefined): number {
  if (options === undefined) return DEFAULT_MAX_BODY;
  if (typeof options !== "object" || options === null) throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  const { maxSize = DEFAULT_MAX_BODY } = options;
  if (typeof maxSize !== "number" || !(maxSize >= 0) || (maxSize !== Infinity && !Number.isInteger(maxSize))) {
    throw new RangeError(`${api}: options.maxSize must be an integer >= 0 or Infinity, got ${describe(maxSize)}`);
  }
  return maxSize;
}

/**
 * A response from {@link HttpClient.request}: the status line, the headers
 * and the body, a weft `Reader`.
 *
 * The response holds its connection until the body was read to the end:
 * read it (`text()`, `json()`, `bytes()`, or the `body` reader), or close it
 * with `using res = …` / `close()`, which drops the connection when the body
 * was not read to its end. A compressed body (`Content-Encoding: gzip` or
 * `deflate`) is decoded unless the request set `Accept-Encoding` itself;
 * the headers stay as the server sent them.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((_req, res) => res.end("hello"));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * const { port } = server.address() as { port: number };
 * using client = new HttpClient();
 * using res = yield* client.get(`http://127.0.0.1:${port}/`);
 * console.log(res.status, yield* res.text()); // prints 200 hello
 * server.close();
 * ```
 */
export class HttpClientResponse {
  /** The status code. */
  readonly status: number;
  /** The reason phrase (may be empty). */
  readonly reason: string;
  /** The response headers, as the server sent them. */
  readonly headers: HttpHeaders;
  /** The URL this response came from (the last one, after redirects). */
  readonly url: URL;
  /** The body, decoded when the client asked for compression; end of stream at the end of the body. */
  readonly body: Reader & { close(): void };
  readonly #raw: { readonly trailers: HttpHeaders | undefined } | undefined;
  #read = false;

  /**
   * @internal Made by {@link HttpClient.request}; `raw` is the body as it
   * comes off the connection (before decoding), which knows the trailers.
   */
  constructor(
    status: number,
    reason: string,
    headers: HttpHeaders,
    url: URL,
    body: Reader & { close(): void },
    raw?: { readonly trailers: HttpHeaders | undefined },
  ) {
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.url = url;
    this.body = body;
    this.#raw = raw;
  }

  /**
   * The trailer fields the server sent after a chunked body (RFC 9112
   * §7.1.2), or `undefined` while the body has not been read to its end.
   * Once it has been, an `HttpHeaders`, empty when there were none (always,
   * for a body that was not chunked). Trailers are never merged into
   * `headers`.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((_req, res) => {
   *   res.setHeader("trailer", "x-sum");
   *   res.write("data"); // no Content-Length: the body is chunked
   *   res.addTrailers({ "x-sum": "42" });
   *   res.end();
   * });
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.get(`http://127.0.0.1:${port}/`);
   * console.log(res.trailers); // prints undefined
   * console.log(yield* res.text(), res.trailers?.get("x-sum")); // prints data 42
   * server.close();
   * ```
   */
  get trailers(): HttpHeaders | undefined {
    return this.#raw?.trailers;
  }

  /** True for a status in 200–299. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /**
   * The whole body as bytes; {@link HttpBodyTooLarge} (a `ReadLimitExceeded`)
   * when it is larger than `options.maxSize` (16 MiB by default). Closes the
   * body.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((_req, res) => res.end(Buffer.from([1, 2, 3])));
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.get(`http://127.0.0.1:${port}/`);
   * console.log(yield* res.bytes()); // prints Uint8Array(3) [ 1, 2, 3 ]
   * server.close();
   * ```
   */
  *bytes(options?: ReadBodyOptions): Operation<Uint8Array> {
    const maxSize = maxSizeOf("HttpClientResponse.bytes()", options);
    if (this.#read) throw new WeftUsageError("HttpClientResponse.bytes(): the body was already read");
    this.#read = true;
    const body = this.body;
    try {
      return yield* readWholeBody(
        body,
        maxSize,
        () => new HttpBodyTooLarge(maxSize, `HttpClientResponse: the body is larger than options.maxSize (${maxSize} bytes)`),
      );
    } finally {
      body.close();
    }
  }

  /**
   * The whole body as UTF-8 text (a TypeError if it is not UTF-8); limits as
   * {@link HttpClientResponse.bytes}.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((_req, res) => res.end("plain text"));
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.get(`http://127.0.0.1:${port}/`);
   * console.log(yield* res.text()); // prints plain text
   * server.close();
   * ```
   */
  *text(options?: ReadBodyOptions): Operation<string> {
    return decodeUtf8("HttpClientResponse.text()", yield* this.bytes(options));
  }

  /**
   * The body parsed as JSON (a `SyntaxError` if it is not); limits as
   * {@link HttpClientResponse.bytes}.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((_req, res) => res.end('{"n":1}'));
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.get(`http://127.0.0.1:${port}/`);
   * console.log((yield* res.json<{ n: number }>()).n); // prints 1
   * server.close();
   * ```
   */
  *json<T = unknown>(options?: ReadBodyOptions): Operation<T> {
    return JSON.parse(yield* this.text(options)) as T;
  }

  /** Closes the body: a connection whose body was not read to the end is dropped. Idempotent. */
  close(): void {
    this.body.close();
  }

  /** Closes the body (for `using`). */
  [Symbol.dispose](): void {
    this.body.close();
  }
}
