/**
 * `HttpRequest`: what a server handler is given about the request, and its
 * body as a weft `Reader`.
 *
 * The body is read from the connection itself, so three things happen on
 * the way: the first read sends `100 Continue` to a client that asked for it
 * (a handler that answers without reading never makes the client send the
 * body), every read is held to the request-body deadline, and nothing is
 * read past the body's end (the next pipelined request stays where it is).
 * `req.url` is built on first use: most handlers route on `target` and
 * never pay for a `URL`.
 */
import { TimeoutError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { now } from "../../core/sleep.ts";
import { withTimeout } from "../../group/timeout.ts";
import { decodeUtf8 } from "../../io/data.ts";
import { ReaderBase, type Reader } from "../../io/reader.ts";
import { bodyReader, type BodyReader } from "../codec/body_reader.ts";
import { HttpBodyTooLarge } from "../errors.ts";
import type { BodyFraming } from "../codec/framing.ts";
import type { RequestHead } from "../codec/input.ts";
import { HttpHeaders } from "../headers.ts";
import { readWholeBody } from "../codec/read_whole.ts";
import type { ConnectionPort } from "./exchange.ts";

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");
const DEFAULT_MAX_SIZE = 1024 * 1024;

/** Thrown by a body read that missed the request-body deadline (answered 408 when it escapes). */
export class RequestBodyTimeout extends TimeoutError {
  constructor(ms: number) {
    super(`the request body did not arrive within ${ms} ms (timeouts.requestBody)`);
    this.name = "RequestBodyTimeout";
  }
}

/** Reads `options.maxSize` (default 1 MiB) or throws a TypeError/RangeError naming it. */
function maxSizeOf(api: string, options: unknown): number {
  if (options === undefined) return DEFAULT_MAX_SIZE;
  if (typeof options !== "object" || options === null) throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  const { maxSize } = options as { maxSize?: unknown };
  if (maxSize === undefined) return DEFAULT_MAX_SIZE;
  if (typeof maxSize !== "number") throw new TypeError(`${api}: options.maxSize must be a number, got ${describe(maxSize)}`);
  if (!(Number.isInteger(maxSize) || maxSize === Infinity) || maxSize < 0) {
    throw new RangeError(`${api}: options.maxSize must be an integer >= 0, got ${maxSize}`);
  }
  return maxSize;
}

/** The `req.body` reader: the request's body bytes, through {@link HttpRequest}'s checks. */
class RequestBodyReader extends ReaderBase {
  readonly #request: HttpRequest;
  #closed = false;

  constructor(request: HttpRequest) {
    super();
    this.#request = request;
  }

  protected readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    return this.#request.readBodyChunk(sizeHint);
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}

/**
 * A request as a server handler sees it. Header names are case-insensitive
 * and repeated headers are kept (`headers.getAll`). The body is a weft
 * `Reader` (`req.body`), or read whole with `text()`, `json()` or `bytes()`,
 * which refuse a body larger than `maxSize` (1 MiB by default) with
 * {@link HttpBodyTooLarge}. A body the handler leaves unread is drained after
 * the response (up to `limits.maxBodyDrain`, else the connection closes).
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) {
 *     if (req.method === "POST" && req.url.pathname === "/echo") {
 *       yield* res.send(200, yield* req.bytes({ maxSize: 64 * 1024 }), { "content-type": "application/octet-stream" });
 *     } else {
 *       yield* res.send(404, `no ${req.target}\n`);
 *     }
 *   }), { daemon: true });
 *   const reply = yield* call(() => fetch(`http://127.0.0.1:${server.port}/echo`, { method: "POST", body: "ping" }).then((r) => r.text()));
 *   console.log(reply); // prints ping
 * });
 * ```
 */
export class HttpRequest {
  /** The method, as sent (`GET`, `POST`, …; case-sensitive). */
  readonly method: string;
  /** The request target, as sent: `/path?query`, an absolute URL (to a proxy), `host:port` (CONNECT) or `*`. */
  readonly target: string;
  /** The header fields. */
  readonly headers: HttpHeaders;
  /** The HTTP minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minorVersion: 0 | 1;
  /** The client's IP address ("" when the transport does not know it). */
  readonly remoteAddress: string;

  readonly #port: ConnectionPort;
  readonly #framing: BodyFraming;
  #url: URL | undefined = undefined;
  #body: Reader | undefined = undefined;
  #codecBody: BodyReader | undefined = undefined;
  #noTrailers: HttpHeaders | undefined = undefined;
  /** Set by the response when its head is sent (a 100 Continue would then be too late). */
  headSent = false;
  #expectContinue: boolean;
  #continued = false;
  #deadline = Infinity;
  /** True once a body read missed the deadline. */
  bodyTimedOut = false;

  /** @internal Made by the server for each request. */
  constructor(port: ConnectionPort, head: RequestHead, framing: BodyFraming, remoteAddress: string) {
    this.#port = port;
    this.method = head.method;
    this.target = head.target;
    this.headers = head.headers;
    this.minorVersion = head.minorVersion;
    this.remoteAddress = remoteAddress;
    this.#framing = framing;
    this.#expectContinue = framing.kind !== "none" && head.minorVersion === 1 && head.headers.hasToken("expect", "100-continue");
    if (framing.kind !== "none") {
      this.#codecBody = bodyReader(port.input, framing, port.limits);
      const ms = port.timeouts.requestBody;
      if (ms !== Infinity) this.#deadline = now() + ms;
    }
  }

  /**
   * The target as a `URL`: the scheme of the server (`http` or `https`), the
   * `Host` header as its host, and the target's path and query.
   */
  get url(): URL {
    if (this.#url === undefined) {
      const host = this.headers.get("host") ?? "localhost";
      const base = `${this.#port.scheme}://${host}`;
      const target = this.target;
      if (this.method === "CONNECT") this.#url = new URL(`${this.#port.scheme}://${target}`);
      else if (target === "*") this.#url = new URL(`${base}/`);
      else if (target.startsWith("/")) this.#url = new URL(base + target);
      else this.#url = new URL(target);
    }
    return this.#url;
  }

  /**
   * The trailer fields sent after a chunked body (RFC 9112 §7.1.2), or
   * `undefined` while the body has not been read to its end: they come after
   * the last byte of the body. Once it has been, an `HttpHeaders`, empty when
   * there were none (and for a request without a body, or with a
   * `Content-Length`, which cannot carry trailers). Trailers are never
   * merged into `headers`: a field that only a trailer carries is only here.
   *
   * @example
   * ```ts
   * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(() => server.serve(function* (req, res) {
   *     const before = req.trailers; // undefined: the body has not been read yet
   *     const body = yield* req.text();
   *     yield* res.end(`${body} ${before} ${req.trailers?.get("x-sum")}`);
   *   }), { daemon: true });
   *   using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   *   yield* conn.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
   *   yield* conn.write("2\r\nhi\r\n0\r\nx-sum: 42\r\n\r\n"); // the last chunk, then a trailer field
   *   const reply = (yield* conn.readAll()).text();
   *   console.log(reply.endsWith("hi undefined 42")); // prints true
   * });
   * ```
   */
  get trailers(): HttpHeaders | undefined {
    const body = this.#codecBody;
    if (body !== undefined && !body.complete) return undefined;
    return body?.trailers ?? (this.#noTrailers ??= new HttpHeaders());
  }

  /** The body as a weft `Reader` (at end of stream at once when the request has none). */
  get body(): Reader {
    return (this.#body ??= new RequestBodyReader(this));
  }

  /** @internal The body's framing. */
  get framing(): BodyFraming {
    return this.#framing;
  }

  /** @internal The codec's body reader (undefined when the request has no body). */
  get codecBody(): BodyReader | undefined {
    return this.#codecBody;
  }

  /** @internal True while a `100 Continue` was asked for and not sent: the client may not have sent the body. */
  get awaitingContinue(): boolean {
    return this.#expectContinue && !this.#continued;
  }

  /** @internal Milliseconds left before the request-body deadline (Infinity when none). */
  get bodyTimeLeft(): number {
    return this.#deadline === Infinity ? Infinity : Math.max(0, this.#deadline - now());
  }

  /** @internal One read of the body for {@link RequestBodyReader}. */
  *readBodyChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    const body = this.#codecBody;
    if (body === undefined) return undefined;
    if (this.#expectContinue && !this.#continued) {
      this.#continued = true;
      if (!this.headSent) yield* this.#port.transport.write(CONTINUE);
    }
    const left = this.bodyTimeLeft;
    if (left === Infinity) return yield* body.readSome(sizeHint);
    try {
      return yield* withTimeout(left, () => body.readSome(sizeHint));
    } catch (error) {
      if (error instanceof TimeoutError) {
        this.bodyTimedOut = true;
        throw new RequestBodyTimeout(this.#port.timeouts.requestBody);
      }
      throw error;
    }
  }

  /**
   * The whole body as bytes; {@link HttpBodyTooLarge} if it is larger than
   * `options.maxSize` (1 MiB by default; a `Content-Length` over it is
   * refused before a byte is read, and before `100 Continue` is sent).
   *
   * @example
   * ```ts
   * function* upload(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   const data = yield* req.bytes({ maxSize: 10 * 1024 * 1024 });
   *   yield* res.end(`${data.length} bytes\n`);
   * }
   * ```
   */
  *bytes(options?: { maxSize?: number }): Operation<Uint8Array> {
    const maxSize = maxSizeOf("HttpRequest.bytes()", options);
    return yield* this.#readWhole(maxSize);
  }

  /**
   * The whole body as UTF-8 text (size limit as {@link HttpRequest.bytes}); a TypeError if it is not UTF-8.
   *
   * @example
   * ```ts
   * function* shout(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   yield* res.end((yield* req.text()).toUpperCase());
   * }
   * ```
   */
  *text(options?: { maxSize?: number }): Operation<string> {
    const maxSize = maxSizeOf("HttpRequest.text()", options);
    return decodeUtf8("HttpRequest.text()", yield* this.#readWhole(maxSize));
  }

  /**
   * The whole body parsed as JSON (size limit as {@link HttpRequest.bytes}); a SyntaxError if it is not JSON.
   *
   * @example
   * ```ts
   * function* sum(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   const { a, b } = yield* req.json<{ a: number; b: number }>({ maxSize: 4096 });
   *   yield* res.send(200, JSON.stringify({ sum: a + b }), { "content-type": "application/json" });
   * }
   * ```
   */
  *json<T = unknown>(options?: { maxSize?: number }): Operation<T> {
    const maxSize = maxSizeOf("HttpRequest.json()", options);
    return JSON.parse(decodeUtf8("HttpRequest.json()", yield* this.#readWhole(maxSize))) as T;
  }

  *#readWhole(maxSize: number): Operation<Uint8Array> {
    const framing = this.#framing;
    if (framing.kind === "length" && framing.length > maxSize) throw new HttpBodyTooLarge(maxSize);
    return yield* readWholeBody(this.body, maxSize, () => new HttpBodyTooLarge(maxSize));
  }
}
