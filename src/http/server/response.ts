/**
 * `HttpResponse`: how a server handler answers, and `HttpUpgradedConnection`,
 * the raw connection `upgrade()` hands over.
 *
 * The framing is chosen when the head goes out, from what is known then:
 * `end(body)` before anything was written knows the whole body, so it sends
 * `Content-Length` and writes the head and the body in one write (the common
 * case costs one syscall); a `Content-Length` the handler set is honoured
 * and checked; otherwise the body is chunked (or, to an HTTP/1.0 client,
 * delimited by closing the connection). HEAD, 204 and 304 responses carry no
 * body: for HEAD the body the handler writes is counted for the length and
 * not sent, as `node:http` does; for 204 and 304 writing one is a mistake
 * (`WeftUsageError`). Everything a handler passes into the head is validated
 * before a byte is written (`TypeError` on CR, LF or NUL).
 */
import { WeftUsageError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { directReader, directWriter } from "../../io/direct.ts";
import { DuplexBase } from "../../io/duplex.ts";
import type { Reader } from "../../io/reader.ts";
import { NO_RETURN, keepsHandedOver, toBytes, writeHandedOver, type Writer } from "../../io/writer.ts";
import { BodyWriter, COALESCE } from "../codec/body_writer.ts";
import type { BodyFraming } from "../codec/framing.ts";
import { responseHeadBytes } from "../codec/serialize.ts";
import { HttpBodyLengthError } from "../errors.ts";
import { HttpHeaders, type HttpHeadersInit } from "../headers.ts";
import type { ConnectionPort } from "./exchange.ts";
import type { HttpRequest } from "./request.ts";

const EMPTY = new Uint8Array(0);

let keepAliveIdle = -1;
let keepAliveText = "";

/** The `Keep-Alive` header's value for an idle timeout of `idle` ms (the same for every response of a server). */
function keepAliveValue(idle: number): string {
  if (idle !== keepAliveIdle) {
    keepAliveIdle = idle;
    keepAliveText = `timeout=${Math.floor(idle / 1000)}`;
  }
  return keepAliveText;
}

let cachedDate = "";
let cachedDateAt = -Infinity;

/** The `Date` header's value, recomputed at most once a second. */
function httpDate(): string {
  const t = Date.now();
  if (t - cachedDateAt >= 1000) {
    cachedDateAt = t - (t % 1000);
    cachedDate = new Date(cachedDateAt).toUTCString();
  }
  return cachedDate;
}

function requireStatus(api: string, status: unknown, min: number, max: number): asserts status is number {
  if (typeof status !== "number") throw new TypeError(`${api}: status must be a number, got ${describe(status)}`);
  if (!Number.isInteger(status) || status < min || status > max) {
    throw new RangeError(`${api}: status must be an integer in [${min}, ${max}], got ${status}`);
  }
}

/**
 * The response a server handler writes. Set `status` and `headers`, then
 * `write()` pieces and `end()`, or `send()` it all at once. The head goes out
 * with the first write; after that `headersSent` is true and `status` and
 * `headers` no longer matter. A handler that returns without ending the
 * response has it ended for it; one that fails before the head went out gets
 * a 500 sent for it, and after, the connection is dropped (the client sees a
 * truncated response, never a wrong one).
 *
 * @example
 * ```ts
 * function* handler(req: HttpRequest, res: HttpResponse): Operation<void> {
 *   res.headers.set("content-type", "text/plain");
 *   yield* res.write("streamed "); // chunked: the length is not known yet
 *   yield* res.end("reply\n");
 * }
 * ```
 */
export class HttpResponse {
  /** The status code sent with the head (default 200). */
  status = 200;
  /** The header fields sent with the head. */
  readonly headers: HttpHeaders = new HttpHeaders();

  readonly #port: ConnectionPort;
  readonly #request: HttpRequest;
  #headersSent = false;
  #ended = false;
  /** The body goes nowhere (HEAD). */
  #discard = false;
  #body: BodyWriter | undefined = undefined;
  /** Whether the connection may carry another request after this response. */
  #keepAlive: boolean;

  /** @internal Made by the server for each request. */
  constructor(port: ConnectionPort, request: HttpRequest, keepAlive: boolean) {
    this.#port = port;
    this.#request = request;
    this.#keepAlive = keepAlive;
  }

  /** True once the head was sent. */
  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** @internal True once the response was ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** @internal True when the connection may carry another request. */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /**
   * Writes part of the body, sending the head first (chunked, unless a
   * `Content-Length` header was set: then writing more than it says throws
   * `HttpBodyLengthError` before a byte goes out).
   *
   * @example
   * ```ts
   * function* countdown(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   for (let i = 3; i > 0; i--) yield* res.write(`${i}\n`); // each piece goes out as a chunk
   *   yield* res.end("liftoff\n");
   * }
   * ```
   */
  *write(data: string | Uint8Array): Operation<void> {
    const bytes = toBytes("HttpResponse.write()", data);
    this.#checkOpen("HttpResponse.write()");
    if (!this.#headersSent) {
      yield* this.#sendHead("HttpResponse.write()", false, bytes);
      return;
    }
    if (bytes.length > 0 && !this.#discard) yield* this.#body!.write(bytes);
  }

  /**
   * Ends the response, with `data` as the last of the body. When nothing was
   * written yet, the body's length is known: it is sent with
   * `Content-Length`, head and body in one write. Ending a response whose
   * `Content-Length` was not reached throws `HttpBodyLengthError` (and the
   * connection is dropped).
   *
   * @example
   * ```ts
   * function* plain(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   res.headers.set("content-type", "text/plain");
   *   yield* res.end("one write: head, Content-Length and body\n");
   * }
   * ```
   */
  *end(data?: string | Uint8Array): Operation<void> {
    const bytes = data === undefined ? EMPTY : toBytes("HttpResponse.end()", data);
    this.#checkOpen("HttpResponse.end()");
    if (!this.#headersSent) {
      yield* this.#sendHead("HttpResponse.end()", true, bytes);
      this.#ended = true;
      return;
    }
    this.#ended = true;
    if (this.#discard) return;
    const body = this.#body!;
    if (bytes.length > 0) yield* body.write(bytes);
    yield* body.end();
  }

  /**
   * Sets `status` and `headers` (replacing fields of the same names) and ends the response with `body`.
   *
   * @example
   * ```ts
   * function* missing(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   yield* res.send(404, `no ${req.target}\n`, { "content-type": "text/plain" });
   * }
   * ```
   */
  *send(status: number, body?: string | Uint8Array, headers?: HttpHeadersInit): Operation<void> {
    const api = "HttpResponse.send()";
    this.#checkOpen(api);
    if (this.#headersSent) throw new WeftUsageError(`${api}: the head was already sent`);
    requireStatus(api, status, 200, 599);
    if (headers !== undefined) {
      const fields = new HttpHeaders(headers);
      for (const [name] of fields) this.headers.delete(name);
      for (const [name, value] of fields) this.headers.append(name, value);
    }
    this.status = status;
    yield* this.end(body);
  }

  /**
   * Answers an `Upgrade` request (status 101, the default) or a `CONNECT`
   * (a 2xx status; 200 when left at 101) and hands over the raw connection:
   * what the client sent after the request head is read first. The handler
   * then owns the connection until it returns (the server closes it then);
   * the client's end of stream is an end of stream there, not a
   * cancellation.
   *
   * @example
   * ```ts
   * function* tunnel(req: HttpRequest, res: HttpResponse): Operation<void> {
   *   if (req.method !== "CONNECT") return yield* res.send(405);
   *   using upstream = yield* connectTcp({ host: req.url.hostname, port: Number(req.url.port) });
   *   using client = yield* res.upgrade(200);
   *   yield* withTaskGroup(function* (group) {
   *     group.startSoon(function* () {
   *       yield* upstream.writeReader(client);
   *       upstream.shutdownWrite();
   *     });
   *     yield* client.writeReader(upstream);
   *   });
   * }
   * ```
   */
  *upgrade(status = 101, headers?: HttpHeadersInit): Operation<HttpUpgradedConnection> {
    const api = "HttpResponse.upgrade()";
    const request = this.#request;
    const connect = request.method === "CONNECT";
    if (connect && status === 101) status = 200;
    if (connect) requireStatus(api, status, 200, 299);
    else if (status !== 101) throw new RangeError(`${api}: status must be 101 for an Upgrade request, got ${describe(status)}`);
    this.#checkOpen(api);
    if (this.#headersSent) throw new WeftUsageError(`${api}: the head was already sent`);
    if (!connect && !request.headers.has("upgrade")) {
      throw new WeftUsageError(`${api}: the request asked for no upgrade (no Upgrade header) and is not a CONNECT`);
    }
    const body = request.codecBody;
    if (body !== undefined && !body.complete) throw new WeftUsageError(`${api}: read the request body to its end first`);
    if (headers !== undefined) {
      for (const [name, value] of new HttpHeaders(headers)) this.headers.append(name, value);
    }
    this.status = status;
    const head = responseHeadBytes(status, undefined, this.headers);
    this.#headersSent = true;
    request.headSent = true;
    this.#ended = true;
    this.#keepAlive = false;
    const port = this.#port;
    port.upgraded = true;
    port.watched.handOver();
    yield* port.transport.write(head);
    return new HttpUpgradedConnection(port);
  }

  /** @internal Ends the response for a handler that returned without doing so. */
  *finish(): Operation<void> {
    if (this.#ended) return;
    yield* this.end();
  }

  #checkOpen(api: string): void {
    if (this.#ended) throw new WeftUsageError(`${api}: the response has already ended`);
  }

  *#sendHead(api: string, isEnd: boolean, bytes: Uint8Array): Operation<void> {
    const status = this.status;
    requireStatus(`${api} (res.status)`, status, 200, 599);
    const request = this.#request;
    const headers = this.headers;
    const method = request.method;
    const head = method === "HEAD";
    const noContent = status === 204 || status === 304 || (method === "CONNECT" && status < 300);
    if (noContent && bytes.length > 0) throw new WeftUsageError(`${api}: a ${status} response to ${method} has no body`);
    let framing: BodyFraming;
    const length = headers.get("content-length");
    const coding = headers.get("transfer-encoding");
    if (noContent) {
      framing = NONE;
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length))
        throw new TypeError(`${api}: the content-length header must be a number of bytes, got ${JSON.stringify(length)}`);
      if (coding !== undefined) throw new TypeError(`${api}: set content-length or transfer-encoding, not both`);
      const n = Number(length);
      if (isEnd && !head && bytes.length !== n) {
        throw new HttpBodyLengthError(n, bytes.length);
      }
      if (!isEnd && !head && bytes.length > n) {
        throw new HttpBodyLengthError(n, bytes.length);
      }
      framing = { kind: "length", length: n };
    } else if (coding !== undefined) {
      if (coding.toLowerCase() !== "chunked")
        throw new TypeError(`${api}: the only transfer-encoding a response may set is chunked, got ${JSON.stringify(coding)}`);
      framing = CHUNKED;
    } else if (isEnd) {
      headers.setTrusted("content-length", String(bytes.length));
      framing = { kind: "length", length: bytes.length };
    } else if (request.minorVersion === 0) {
      framing = CLOSE;
    } else {
      headers.setTrusted("transfer-encoding", "chunked");
      framing = CHUNKED;
    }
    const port = this.#port;
    // A client still waiting for 100 Continue may or may not send the body: the connection cannot be trusted after it.
    let keepAlive = this.#keepAlive && !port.shuttingDown && framing.kind !== "close" && !request.awaitingContinue;
    if (keepAlive && headers.hasToken("connection", "close")) keepAlive = false;
    if (!keepAlive) headers.setTrusted("connection", "close");
    else {
      if (request.minorVersion === 0) headers.setTrusted("connection", "keep-alive");
      // Tells a pooling client how long an idle connection stays open, so it does not reuse one being closed.
      const idle = port.timeouts.keepAlive;
      if (idle !== Infinity && !headers.has("keep-alive")) headers.setTrusted("keep-alive", keepAliveValue(idle));
    }
    this.#keepAlive = keepAlive;
    if (!headers.has("date")) headers.setTrusted("date", httpDate());
    if (isEnd && !head && framing.kind === "length" && bytes.length <= COALESCE) {
      // The common case, a whole small response: head and body built in one buffer, one write, no body writer.
      const message = responseHeadBytes(status, undefined, headers, bytes);
      this.#headersSent = true;
      request.headSent = true;
      // Made for this write: the transport may keep it instead of a copy.
      yield* writeHandedOver(port.transport, message, NO_RETURN);
      return;
    }
    const headBytes = responseHeadBytes(status, undefined, headers);
    this.#headersSent = true;
    request.headSent = true;
    if (head || noContent) {
      this.#discard = true;
      yield* port.transport.write(headBytes);
      return;
    }
    // The head waits in the body writer and leaves with the first body bytes: one write for a small response.
    const body = new BodyWriter(port.transport, framing, headBytes);
    this.#body = body;
    if (bytes.length > 0) yield* body.write(bytes);
    if (isEnd) yield* body.end();
    else yield* body.flushHead();
  }
}

const NONE: BodyFraming = { kind: "none" };
const CHUNKED: BodyFraming = { kind: "chunked" };
const CLOSE: BodyFraming = { kind: "close" };

/**
 * The raw connection after {@link HttpResponse.upgrade}: a weft `Reader` and
 * `Writer` whose first bytes are those the client sent after its request
 * head. Closing it closes the connection.
 *
 * @example
 * ```ts
 * function* echoUpgraded(req: HttpRequest, res: HttpResponse): Operation<void> {
 *   using conn = yield* res.upgrade(101, { upgrade: "echo", connection: "upgrade" });
 *   yield* conn.writeReader(conn);
 * }
 * ```
 */
export class HttpUpgradedConnection extends DuplexBase {
  readonly #port: ConnectionPort;
  #closed = false;

  /** @internal It keeps bytes handed over to it (see `writeTransferred`) and gives them back when done. */
  get [keepsHandedOver](): true {
    return true;
  }

  /** @internal Made by {@link HttpResponse.upgrade}. */
  constructor(port: ConnectionPort) {
    super();
    this.#port = port;
  }

  /** The transport's: see `Writer.cancelledWrite`. */
  get cancelledWrite(): "queued" | "dropped" | undefined {
    return this.#port.transport.cancelledWrite;
  }

  /**
   * @internal The transport, once nothing is left in front of it: no bytes
   * that came after the request head, none stashed by the HTTP pump or
   * buffered here, and this connection open (see `direct.ts`).
   */
  [directReader](): Reader | null {
    const port = this.#port;
    return !this.#closed && this.buffered === 0 && port.input.buffered === 0 && port.watched.passesThrough ? port.transport : null;
  }

  /** @internal The transport while this connection is open: a write here is a write there (see `direct.ts`). */
  [directWriter](): Writer | null {
    return this.#closed ? null : this.#port.transport;
  }

  /** Reads the bytes buffered after the head first, then the connection. */
  protected readChunk(sizeHint: number): Operation<Uint8Array | undefined> {
    // What arrived with the request head first; then the connection's chunks as they come, past the parser's buffer.
    const port = this.#port;
    return port.input.buffered > 0 ? port.input.readSome(sizeHint) : port.watched.nextChunk();
  }

  /** Writes to the connection (handed-over bytes stay handed over). */
  protected writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void> {
    const transport = this.#port.transport;
    return giveBack === null ? transport.write(bytes) : writeHandedOver(transport, bytes, giveBack);
  }

  /** True once `close()` or `abort()` was called. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Ends the write side after what was written, when the transport can (a TCP or TLS connection). */
  shutdownWrite(): void {
    this.#port.transport.shutdownWrite?.();
  }

  /** Closes the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.transport.close();
  }
}
