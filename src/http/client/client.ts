/**
 * `HttpClient`: HTTP/1.1 requests over weft's TCP and TLS connections, with
 * a keep-alive pool per origin.
 *
 * A request is one structured operation: it validates everything first (a
 * CR, LF or NUL in a method, URL or header is a TypeError before a byte is
 * written or a connection made), takes a connection from the pool or makes
 * one, writes the head and a small body in one write, and returns once the
 * response head arrived. The response body then owns the connection (see
 * response.ts). Any failure or cancellation before that drops the
 * connection: a half-used connection is never pooled.
 *
 * A pooled connection may have been closed by the server while it idled;
 * when a request on one fails before any byte of the response arrived (end
 * of stream, ECONNRESET, EPIPE), an idempotent request whose body can be
 * sent again is retried once on a new connection. A POST, or a body read
 * from a `Reader`, is not: the server may have acted on it. To make that race
 * rare the pool does not reuse a connection idle for longer than the
 * server's `Keep-Alive: timeout` less a second, or than `keepAliveTimeout`.
 *
 * With `expectContinue` the head goes out alone with `Expect: 100-continue`
 * and the body follows `100 Continue` or the end of the wait; a final answer
 * that comes first is returned without the body ever being sent, and that
 * connection is not pooled (the server may still expect the body).
 *
 * Proxies: an `http://` target is requested in absolute form from the proxy;
 * an `https://` one goes through a `CONNECT` tunnel, with TLS started over
 * it (`startTls`), so the proxy sees only ciphertext.
 */
import { WeftUsageError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { gunzipReader, inflateReader } from "../../io/compression/decompress_reader.ts";
import type { Reader } from "../../io/reader.ts";
import { now } from "../../core/sleep.ts";
import { withTimeoutOpt } from "../../group/timeout.ts";
import { connectTcp } from "../../node/net/connect_tcp.ts";
import type { TlsClientOptions } from "../../node/tls/connect_tls.ts";
import { bodyReader } from "../codec/body_reader.ts";
import { BodyWriter } from "../codec/body_writer.ts";
import { keepsAlive, responseFraming } from "../codec/framing.ts";
import type { ResponseHead } from "../codec/input.ts";
import { requestHeadBytes } from "../codec/serialize.ts";
import { HttpHeaders, type HttpHeadersInit } from "../headers.ts";
import { type HttpLimits, resolveLimits } from "../limits.ts";
import { DecodedBody } from "./decoded_body.ts";
import { HttpRedirectError } from "./errors.ts";
import { bareHost, openConnection, proxyAuthorization } from "./open_connection.ts";
import { OriginPool, PooledConnection, type Transport } from "./pool.ts";
import { HttpClientResponse, ResponseBody } from "./response.ts";

/** What a request body can be: bytes or text (sent with `Content-Length`), or a `Reader` (sent chunked). */
export type HttpBody = string | Uint8Array | Reader;

/**
 * Options of {@link HttpClient}.
 *
 * @example
 * ```ts
 * using client = new HttpClient({ maxConnectionsPerOrigin: 4, keepAliveTimeout: 2000, headers: { "user-agent": "report/1.0" } });
 * ```
 */
export interface HttpClientOptions {
  /** How many connections one origin may have at once, in use or idle (default 16); more requests wait for one. */
  maxConnectionsPerOrigin?: number;
  /** How long (ms) an idle connection may be reused (default 4 000); less when the server's `Keep-Alive: timeout` says so. */
  keepAliveTimeout?: number;
  /** An HTTP proxy for every request, `http://[user:password@]host:port`. */
  proxy?: string | URL;
  /** TLS options for `https://` origins (`ca`, `rejectUnauthorized`, a client `cert` and `key`, …). */
  tls?: TlsClientOptions;
  /** Headers sent with every request (a request's own headers of the same name replace them). */
  headers?: HttpHeadersInit;
  /** Limits on the response heads (line length, header size and count). */
  limits?: HttpLimits;
}

/**
 * Options of one request ({@link HttpClient.request}).
 *
 * @example
 * ```ts
 * const options: HttpRequestOptions = { method: "PUT", url: "http://127.0.0.1:8080/notes/1", body: "remember", redirect: "follow" };
 * ```
 */
export interface HttpRequestOptions {
  /** The method (default `GET`, or `POST` when there is a body). */
  method?: string;
  /** An absolute `http://` or `https://` URL. */
  url: string | URL;
  /** Request headers. Setting `Accept-Encoding` turns off the automatic gzip/deflate decoding. */
  headers?: HttpHeadersInit;
  /** The body: bytes or text (`Content-Length`) or a `Reader` (chunked). */
  body?: HttpBody;
  /**
   * `"manual"` (the default) returns a redirect response as it is;
   * `"follow"` follows up to 10 redirects: after a 301, 302 or 303 the next
   * request is a GET without a body (a HEAD stays a HEAD); 307 and 308 repeat the method and body
   * when the body is bytes or text (else the redirect is returned). A
   * redirect from `https` to `http` is returned, not followed, and
   * `Authorization` and `Cookie` are not sent to another origin.
   */
  redirect?: "manual" | "follow";
  /**
   * Ask before sending the body (RFC 9110 §10.1.1): the head goes out with
   * `Expect: 100-continue` and the body is held back until the server
   * answers `100 Continue`, or for at most this many ms (`true`: 1 000, as
   * curl), after which it is sent anyway. A server that answers with a final
   * status instead (413, 401, …) never gets the body; that response is
   * returned and its connection is closed once its body was read, not
   * pooled. A 417 says the expectation itself was refused (RFC 9110
   * §10.1.1), so the request is sent once more without it, body included
   * (unless a `Reader` body had already gone out after the wait: it cannot
   * be read twice, and the 417 is returned). Other 1xx answers are skipped.
   * Only for a non-empty body; default `false`.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((_req, res) => res.end("never read"));
   * server.on("checkContinue", (_req, res) => res.writeHead(413).end()); // refuses before the body
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * const big = new Uint8Array(10 * 1024 * 1024);
   * using res = yield* client.request({ method: "PUT", url: `http://127.0.0.1:${port}/upload`, body: big, expectContinue: true });
   * console.log(res.status); // prints 413, and the 10 MiB were never sent
   * server.close();
   * ```
   */
  expectContinue?: boolean | number;
}

/** Options of {@link HttpClient.get} and the other shorthands. */
export type HttpMethodOptions = Omit<HttpRequestOptions, "url" | "method" | "body">;

const DEFAULT_MAX_CONNECTIONS = 16;
const DEFAULT_KEEP_ALIVE_MS = 4_000;
const MAX_REDIRECTS = 10;
/** How long a request with `expectContinue: true` waits for `100 Continue` before it sends the body anyway (curl's default). */
const DEFAULT_EXPECT_CONTINUE_MS = 1_000;
/** A body up to this size goes out in the same write as the head. */
const COALESCE_LIMIT = 64 * 1024;
/** On a redirect, the old body is read to its end (to reuse the connection) when it is at most this long. */
const REDIRECT_DRAIN = 64 * 1024;
const FORBIDDEN = /[\r\n\0]/;
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
const RETRY_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
const utf8 = new TextEncoder();

/** A request, resolved and validated. */
interface Prepared {
  method: string;
  url: URL;
  headers: HttpHeaders;
  /** Bytes of a replayable body, or the Reader of a streamed one. */
  body: Uint8Array | Reader | undefined;
  /** The client decodes the response (the caller did not set Accept-Encoding). */
  decode: boolean;
  /** The request asked for `Connection: close`. */
  close: boolean;
  /** Milliseconds to wait for `100 Continue` before sending the body; undefined: send it at once. */
  expectContinue: number | undefined;
}

/** What {@link HttpClient}'s `#send` got back: the final response head, and whether the body was withheld. */
interface Sent {
  head: ResponseHead;
  /** The server answered before `100 Continue`: the body was not sent, so the connection cannot be reused. */
  bodyWithheld: boolean;
}

function isReader(value: unknown): value is Reader {
  return typeof value === "object" && value !== null && typeof (value as Reader).readSome === "function";
}

function requireUrl(api: string, name: string, url: unknown): URL {
  if (typeof url === "string") {
    // The URL parser silently drops CR, LF and tab: a header injected through a URL must fail, not vanish.
    if (FORBIDDEN.test(url)) throw new TypeError(`${api}: ${name} contains CR, LF or NUL`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`${api}: ${name} must be an absolute URL, got ${JSON.stringify(url)}`);
    }
    url = parsed;
  }
  if (!(url instanceof URL)) throw new TypeError(`${api}: ${name} must be a string or a URL, got ${describe(url)}`);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`${api}: ${name} must be an http: or https: URL, got ${url.protocol}`);
  }
  return url;
}

function requireMethod(api: string, method: unknown): string {
  if (typeof method !== "string" || method === "" || FORBIDDEN.test(method)) {
    throw new TypeError(`${api}: options.method must be a non-empty string without CR, LF or NUL, got ${describe(method)}`);
  }
  return method;
}

function portOf(url: URL): number {
  return url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
}

/** The seconds of a `Keep-Alive: timeout=N` header, or undefined. */
function keepAliveSeconds(headers: HttpHeaders): number | undefined {
  const value = headers.get("keep-alive");
  if (value === undefined) return undefined;
  const match = /(?:^|[,;\s])timeout\s*=\s*"?(\d+)/i.exec(value);
  return match === null ? undefined : Number(match[1]);
}

/** True for an error that a connection the server closed while idle produces before any response byte. */
function isStaleConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRY_CODES.has(code);
}

/**
 * An HTTP/1.1 client with a keep-alive connection pool per origin.
 *
 * `request()` returns once the response head arrived; the response's body
 * then holds the connection until it was read to the end (it goes back to
 * the pool) or closed (the connection is dropped). Cancelling a request or a
 * body read, or closing an unread body, drops the connection, so a
 * `withTimeout` around a request and its body reading bounds both.
 *
 * `close()` (or leaving the block of `using client = …`) closes the idle
 * connections; those still in use close when their response is done. The
 * client cannot be used afterwards.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 *
 * const server = createServer((req, res) => res.end(`you asked for ${req.url}`));
 * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
 * const { port } = server.address() as { port: number };
 * using client = new HttpClient();
 * for (const path of ["/a", "/b"]) {
 *   using res = yield* client.get(`http://127.0.0.1:${port}${path}`); // the second request reuses the connection
 *   console.log(yield* res.text()); // prints you asked for /a, then you asked for /b
 * }
 * server.close();
 * ```
 */
export class HttpClient {
  readonly #pools = new Map<string, OriginPool>();
  readonly #maxConnections: number;
  readonly #keepAliveMs: number;
  readonly #proxy: URL | undefined;
  readonly #proxyAuthorization: string | undefined;
  readonly #tls: TlsClientOptions | undefined;
  readonly #headers: HttpHeaders | undefined;
  readonly #limits: Required<HttpLimits>;
  #closed = false;

  /**
   * Makes a client; no connection is made until the first request.
   *
   * @example
   * ```ts
   * using client = new HttpClient({ maxConnectionsPerOrigin: 2 });
   * ```
   */
  constructor(options: HttpClientOptions = {}) {
    const api = "HttpClient()";
    if (typeof options !== "object" || options === null) throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
    const {
      maxConnectionsPerOrigin = DEFAULT_MAX_CONNECTIONS,
      keepAliveTimeout = DEFAULT_KEEP_ALIVE_MS,
      proxy,
      tls,
      headers,
      limits,
    } = options;
    if (typeof maxConnectionsPerOrigin !== "number" || !Number.isInteger(maxConnectionsPerOrigin) || maxConnectionsPerOrigin < 1) {
      throw new RangeError(`${api}: options.maxConnectionsPerOrigin must be an integer >= 1, got ${describe(maxConnectionsPerOrigin)}`);
    }
    if (typeof keepAliveTimeout !== "number" || !(keepAliveTimeout >= 0)) {
      throw new RangeError(`${api}: options.keepAliveTimeout must be a number of ms >= 0, got ${describe(keepAliveTimeout)}`);
    }
    if (tls !== undefined && (typeof tls !== "object" || tls === null))
      throw new TypeError(`${api}: options.tls must be an object, got ${describe(tls)}`);
    this.#maxConnections = maxConnectionsPerOrigin;
    this.#keepAliveMs = keepAliveTimeout;
    if (proxy !== undefined) {
      const url = requireUrl(api, "options.proxy", proxy);
      if (url.protocol !== "http:") throw new TypeError(`${api}: options.proxy must be an http: URL, got ${url.protocol}`);
      this.#proxy = url;
      this.#proxyAuthorization = proxyAuthorization(url);
    }
    this.#tls = tls;
    this.#headers = headers === undefined ? undefined : new HttpHeaders(headers);
    this.#limits = resolveLimits(api, limits);
  }

  /**
   * Sends a request and returns the response once its head arrived (see
   * {@link HttpRequestOptions} for redirects). Throws a TypeError for a bad
   * method, URL or header before anything is sent, the connection's error
   * (`ECONNREFUSED`, a TLS verification failure, …), `ProxyError`,
   * `HttpProtocolError` for a malformed response, and `HttpRedirectError`.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((req, res) => req.pipe(res)); // echoes the body
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.request({ method: "POST", url: `http://127.0.0.1:${port}/echo`, body: "ping", headers: { "content-type": "text/plain" } });
   * console.log(yield* res.text()); // prints ping
   * server.close();
   * ```
   */
  *request(options: HttpRequestOptions): Operation<HttpClientResponse> {
    const api = "HttpClient.request()";
    if (typeof options !== "object" || options === null) throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
    if (this.#closed) throw new WeftUsageError(`${api}: the client is closed`);
    const { redirect = "manual" } = options;
    if (redirect !== "manual" && redirect !== "follow") {
      throw new TypeError(`${api}: options.redirect must be "manual" or "follow", got ${describe(redirect)}`);
    }
    const prepared = this.#prepare(api, options);
    let response = yield* this.#exchangeExpecting(prepared);
    if (redirect === "manual") return response;
    for (let redirects = 0; ; redirects++) {
      const next = nextRequest(prepared, response);
      if (next === undefined) return response;
      if (redirects === MAX_REDIRECTS) {
        response.close();
        throw new HttpRedirectError(`${api}: more than ${MAX_REDIRECTS} redirects`, next.url);
      }
      yield* discardBody(response);
      response = yield* this.#exchangeExpecting(next);
    }
  }

  /**
   * A GET request.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((_req, res) => res.end("[1,2]"));
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.get(`http://127.0.0.1:${port}/list`);
   * console.log(yield* res.json()); // prints [ 1, 2 ]
   * server.close();
   * ```
   */
  get(url: string | URL, options?: HttpMethodOptions): Operation<HttpClientResponse> {
    return this.request({ ...options, method: "GET", url });
  }

  /**
   * A POST request with `body`.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((req, res) => req.pipe(res));
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.post(`http://127.0.0.1:${port}/`, "posted");
   * console.log(yield* res.text()); // prints posted
   * server.close();
   * ```
   */
  post(url: string | URL, body: HttpBody, options?: HttpMethodOptions): Operation<HttpClientResponse> {
    return this.request({ ...options, method: "POST", url, body });
  }

  /**
   * A PUT request with `body`.
   *
   * @example
   * ```ts
   * import { createServer } from "node:http";
   *
   * const server = createServer((req, res) => res.end(req.method));
   * yield* call(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
   * const { port } = server.address() as { port: number };
   * using client = new HttpClient();
   * using res = yield* client.put(`http://127.0.0.1:${port}/`, new Uint8Array([1]));
   * console.log(yield* res.text()); // prints PUT
   * server.close();
   * ```
   */
  put(url: string | URL, body: HttpBody, options?: HttpMethodOptions): Operation<HttpClientResponse> {
    return this.request({ ...options, method: "PUT", url, body });
  }

  /**
   * Closes the idle connections and refuses new requests; responses still
   * being read keep their connection until they are done. Idempotent.
   *
   * @example
   * ```ts
   * const client = new HttpClient();
   * client.close();
   * ```
   */
  close(): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }

  /** Closes the client (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Validates and resolves a request; everything that could fail on the caller's input fails here. */
  #prepare(api: string, options: HttpRequestOptions): Prepared {
    const url = requireUrl(api, "options.url", options.url);
    const { body } = options;
    let bodyValue: Uint8Array | Reader | undefined;
    if (body === undefined) bodyValue = undefined;
    else if (typeof body === "string") bodyValue = utf8.encode(body);
    else if (body instanceof Uint8Array || isReader(body)) bodyValue = body;
    else throw new TypeError(`${api}: options.body must be a string, a Uint8Array or a Reader, got ${describe(body)}`);
    const method = requireMethod(api, options.method ?? (body === undefined ? "GET" : "POST"));
    const headers = new HttpHeaders(this.#headers);
    if (options.headers !== undefined) {
      const own = new HttpHeaders(options.headers);
      for (const [name] of own) headers.delete(name);
      for (const [name, value] of own) headers.append(name, value);
    }
    const decode = !headers.has("accept-encoding");
    const { expectContinue = false } = options;
    let expectMs: number | undefined;
    if (expectContinue === true) expectMs = DEFAULT_EXPECT_CONTINUE_MS;
    else if (typeof expectContinue === "number") {
      if (!(expectContinue >= 0)) throw new RangeError(`${api}: options.expectContinue must be a number of ms >= 0, got ${expectContinue}`);
      expectMs = expectContinue;
    } else if (expectContinue !== false) {
      throw new TypeError(`${api}: options.expectContinue must be a boolean or a number of ms, got ${describe(expectContinue)}`);
    }
    // Only a body worth holding back is held back.
    if (bodyValue === undefined || (bodyValue instanceof Uint8Array && bodyValue.length === 0)) expectMs = undefined;
    return {
      method,
      url,
      headers,
      body: bodyValue,
      decode,
      close: headers.hasToken("connection", "close"),
      expectContinue: expectMs,
    };
  }

  /** The head bytes of `req` as sent (validated by the serializer: a TypeError names what is wrong). */
  #head(req: Prepared): Uint8Array {
    const { url, headers, body } = req;
    const sent = new HttpHeaders(headers);
    if (!sent.has("host")) sent.set("host", url.host);
    if (req.decode) sent.set("accept-encoding", "gzip, deflate");
    sent.delete("content-length");
    sent.delete("transfer-encoding");
    if (req.expectContinue !== undefined && body !== undefined) sent.set("expect", "100-continue");
    if (body instanceof Uint8Array) {
      if (body.length > 0 || req.method !== "GET") sent.set("content-length", body.length);
    } else if (body !== undefined) {
      sent.set("transfer-encoding", "chunked");
    }
    const proxied = this.#proxy !== undefined && url.protocol === "http:";
    if (proxied && this.#proxyAuthorization !== undefined && !sent.has("proxy-authorization")) {
      sent.set("proxy-authorization", this.#proxyAuthorization);
    }
    // Through a proxy, an http:// target is named in absolute form (RFC 9112 §3.2.2).
    const target = proxied ? url.href.replace(/#.*$/, "") : `${url.pathname}${url.search}`;
    return requestHeadBytes(req.method, target, sent);
  }

  /**
   * {@link HttpClient.#exchange}, and once more without `Expect:
   * 100-continue` when the server answered 417 to it (RFC 9110 §10.1.1: the
   * expectation, not the request, is what a server or proxy on the way
   * refused). Not when a `Reader` body had already been sent: it cannot be
   * read twice, so that 417 is returned.
   */
  *#exchangeExpecting(req: Prepared): Operation<HttpClientResponse> {
    const { response, bodyWithheld } = yield* this.#exchange(req);
    if (response.status !== 417 || req.expectContinue === undefined || (!bodyWithheld && isReader(req.body))) return response;
    yield* discardBody(response);
    return (yield* this.#exchange({ ...req, expectContinue: undefined })).response;
  }

  /** One request and its response head, with the retry on a stale pooled connection. */
  *#exchange(req: Prepared): Operation<{ response: HttpClientResponse; bodyWithheld: boolean }> {
    const head = this.#head(req);
    const pool = this.#pool(req.url);
    let conn = yield* pool.acquire();
    let fresh = false;
    if (conn === undefined) {
      conn = yield* this.#connect(pool, req.url);
      fresh = true;
    }
    const replayable = !isReader(req.body) && IDEMPOTENT.has(req.method);
    for (;;) {
      let received: Sent | undefined;
      try {
        received = yield* this.#send(conn, head, req);
      } catch (error) {
        conn.discard();
        if (fresh || !replayable || !isStaleConnectionError(error)) throw error;
        received = undefined;
      }
      if (received !== undefined) {
        try {
          return { response: this.#response(conn, req, received.head, !received.bodyWithheld), bodyWithheld: received.bodyWithheld };
        } catch (error) {
          conn.discard();
          throw error;
        }
      }
      conn.discard();
      if (fresh || !replayable)
        throw Object.assign(new Error("HttpClient: the server closed the connection before it answered"), { code: "ECONNRESET" });
      // The server had closed this pooled connection: once more, on a new one (the permit was given back with the old one).
      yield* pool.slots.acquire();
      conn = yield* this.#connect(pool, req.url);
      fresh = true;
    }
  }

  /** Writes the request and reads the final response head; undefined when the connection ended first. */
  *#send(conn: PooledConnection, head: Uint8Array, req: Prepared): Operation<Sent | undefined> {
    const { transport } = conn;
    const { body } = req;
    if (body === undefined) {
      yield* transport.write(head);
    } else if (req.expectContinue !== undefined) {
      yield* transport.write(head);
      const early = yield* this.#awaitContinue(conn, req.expectContinue);
      if (early !== "continue") return early === "ended" ? undefined : { head: early, bodyWithheld: true };
      yield* writeBody(transport, body);
    } else if (body instanceof Uint8Array && body.length <= COALESCE_LIMIT) {
      const all = new Uint8Array(head.length + body.length);
      all.set(head);
      all.set(body, head.length);
      yield* transport.write(all);
    } else {
      yield* transport.write(head);
      yield* writeBody(transport, body);
    }
    for (;;) {
      const received = yield* conn.input.readResponseHead(this.#limits);
      if (received === undefined) return undefined;
      // 1xx interim answers (100 Continue, 103 Early Hints) precede the real one; 101 is final.
      if (received.status >= 200 || received.status === 101) return { head: received, bodyWithheld: false };
    }
  }

  /**
   * After a head with `Expect: 100-continue`: waits up to `ms` for the
   * server's first answer. `"continue"` when it is `100 Continue` or nothing
   * came in time (send the body), the head of a final response that came
   * instead (do not), `"ended"` when the connection ended. Other 1xx
   * answers are skipped, within the same `ms`. Both waits are cancel-safe:
   * bytes are taken only with a whole head.
   */
  *#awaitContinue(conn: PooledConnection, ms: number): Operation<ResponseHead | "continue" | "ended"> {
    const { input } = conn;
    const deadline = now() + ms;
    for (;;) {
      const left = deadline - now();
      if (left <= 0) return "continue";
      // Only the first byte of an answer is timed: a head that has begun arriving is read to its end.
      const arrived = left === Infinity ? yield* input.waitForBytes() : yield* withTimeoutOpt(left, () => input.waitForBytes());
      if (arrived === undefined) return "continue";
      if (!arrived) return "ended";
      const answer = yield* input.readResponseHead(this.#limits);
      if (answer === undefined) return "ended";
      if (answer.status === 100) return "continue";
      if (answer.status >= 200 || answer.status === 101) return answer;
    }
  }

  /**
   * Makes the response for `head`; the body then owns `conn`, which is
   * pooled afterwards only when `reusable` (false: the request's body was
   * withheld after `Expect: 100-continue`, so the server may still be
   * waiting for it or about to close).
   */
  #response(conn: PooledConnection, req: Prepared, head: ResponseHead, reusable: boolean): HttpClientResponse {
    const framing = responseFraming(head, req.method);
    let idleLimit = 0;
    if (reusable && framing.kind !== "close" && !req.close && head.status !== 101 && keepsAlive(head.minorVersion, head.headers)) {
      idleLimit = this.#keepAliveMs;
      const seconds = keepAliveSeconds(head.headers);
      // A margin of a second: the server's timer started when it sent the last byte, ours when we read it.
      if (seconds !== undefined) idleLimit = Math.min(idleLimit, (seconds - 1) * 1000);
    }
    const raw = new ResponseBody(bodyReader(conn.input, framing, this.#limits), conn, idleLimit);
    let body: Reader & { close(): void } = raw;
    if (req.decode && framing.kind !== "none") {
      const coding = head.headers.get("content-encoding")?.trim().toLowerCase();
      if (coding === "gzip" || coding === "x-gzip") body = new DecodedBody(raw, gunzipReader(raw));
      else if (coding === "deflate") body = new DecodedBody(raw, inflateReader(raw));
    }
    return new HttpClientResponse(head.status, head.reason, head.headers, req.url, body, raw);
  }

  #pool(url: URL): OriginPool {
    const key = url.origin;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new OriginPool(this.#maxConnections);
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** A new connection to `url`'s origin (through the proxy when there is one), holding a permit of `pool`. */
  *#connect(pool: OriginPool, url: URL): Operation<PooledConnection> {
    try {
      const transport = yield* this.#open(url);
      return new PooledConnection(transport, pool);
    } catch (error) {
      pool.slots.release();
      throw error;
    }
  }

  *#open(url: URL): Operation<Transport> {
    const proxy = this.#proxy;
    const secure = url.protocol === "https:";
    // A plain request goes to the proxy itself, in absolute form; https needs a tunnel.
    if (proxy !== undefined && !secure) return yield* connectTcp({ host: bareHost(proxy.hostname), port: portOf(proxy) });
    return yield* openConnection(
      { hostname: url.hostname, port: portOf(url), secure },
      { proxy, tls: this.#tls, limits: this.#limits, alpn: ["http/1.1"], api: "HttpClient" },
    );
  }
}

/** The request a redirect asks for, or undefined when it is not to be followed. */
function nextRequest(prev: Prepared, response: HttpClientResponse): Prepared | undefined {
  const { status } = response;
  if (status !== 301 && status !== 302 && status !== 303 && status !== 307 && status !== 308) return undefined;
  const location = response.headers.get("location");
  if (location === undefined || FORBIDDEN.test(location)) return undefined;
  let url: URL;
  try {
    url = new URL(location, prev.url);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (prev.url.protocol === "https:" && url.protocol === "http:") return undefined;
  let { method, body } = prev;
  const headers = new HttpHeaders(prev.headers);
  if (status === 307 || status === 308) {
    if (isReader(body)) return undefined;
  } else if (method !== "HEAD") {
    method = "GET";
    body = undefined;
    for (const name of ["content-type", "content-encoding", "content-language", "content-location"]) headers.delete(name);
  }
  if (url.origin !== prev.url.origin) {
    headers.delete("authorization");
    headers.delete("cookie");
    headers.delete("host");
  }
  return { ...prev, method, url, headers, body };
}

/** Writes a request body after its head: bytes as they are, a `Reader` chunked. */
function* writeBody(transport: Transport, body: Uint8Array | Reader): Operation<void> {
  if (body instanceof Uint8Array) {
    yield* transport.write(body);
    return;
  }
  const writer = new BodyWriter(transport, { kind: "chunked" });
  yield* writer.writeReader(body);
  yield* writer.end();
}

/** Reads a redirect's body to its end when it is short (to reuse the connection); else drops it. */
function* discardBody(response: HttpClientResponse): Operation<void> {
  const { body } = response;
  try {
    let left = REDIRECT_DRAIN;
    while (left > 0) {
      const chunk = yield* body.readSome(left);
      if (chunk === undefined) return;
      left -= chunk.length;
    }
  } finally {
    body.close();
  }
}
