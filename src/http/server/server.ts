/**
 * `listenHttp` and `HttpServer`: an HTTP/1.1 server on a TCP or TLS
 * listener, each connection a task (`ConnectionServer.serve`, which brings
 * `maxConnections`, `allowFailure` and the arrival queue), each request
 * answered in its connection's task.
 *
 * Shutdown is cooperative: `shutdown()` stops the listener, closes the
 * connections that wait for a request, lets the requests in progress finish
 * (their responses say `Connection: close`), cancels what is still running
 * at the end of the grace period and returns once every connection has
 * ended. Cancelling `serve()` (what `main` does on SIGINT or SIGTERM) is a
 * shutdown with no grace: every connection's task is cancelled at once and
 * its handler's `finally` blocks run. To give requests a grace period on a
 * signal, call `shutdown()` from the task that receives it.
 */
import type { Operation } from "../../core/operation.ts";
import { describe, requireFunction } from "../../core/operation.ts";
import { withTimeoutOpt } from "../../group/timeout.ts";
import type { ConnectionServer, ServedConnection } from "../../node/net/connection_server.ts";
import { listenTcp } from "../../node/net/tcp_server.ts";
import { requireHost, requireOptionalBoolean, requireOptionalCount, requireOptions, requirePort } from "../../node/net/validate.ts";
import { listenTls, type TlsServerOptions } from "../../node/tls/tls_server.ts";
import { CondVar } from "../../sync/cond_var.ts";
import { resolveLimits, type HttpLimits } from "../limits.ts";
import { serveConnection, type ConnectionConfig, type HttpHandler, type ServerConnection, type ServerRegistry } from "./connection.ts";
import type { ResolvedTimeouts } from "./exchange.ts";
import { fetchHandler, type FetchHandler } from "./fetch.ts";
import type { HttpRequest } from "./request.ts";
import type { HttpTransport } from "./transport.ts";

/**
 * The server's timeouts, in milliseconds (`Infinity` turns one off).
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0, timeouts: { headers: 10_000, keepAlive: 2_000 } });
 * console.log(server.port > 0); // prints true
 * ```
 */
export interface HttpServerTimeouts {
  /** The whole request head must arrive within this, from its first byte (the first request: from the connection's start). Default 60 000; answered 408. */
  headers?: number;
  /** The request body must arrive within this, from the end of its head. Default 300 000; a body read then throws, answered 408. */
  requestBody?: number;
  /** How long a kept-alive connection may wait for its next request. Default 5 000. */
  keepAlive?: number;
}

/**
 * Options for {@link listenHttp}.
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0, limits: { maxHeaderSize: 8192, maxBodyDrain: 0 } });
 * console.log(server.host); // prints 127.0.0.1
 * ```
 */
export interface ListenHttpOptions {
  /** The address to listen on (default: every interface). */
  host?: string;
  /** The port (default 0: any free port; read it from {@link HttpServer.port}). */
  port?: number;
  /** Serve HTTPS with this key and certificate. */
  tls?: TlsServerOptions;
  /** Bounds on what a client may send; `maxBodyDrain` (default 64 KiB) is how much of a body the handler left unread is read and dropped to keep the connection (more: the connection closes). */
  limits?: HttpLimits & { maxBodyDrain?: number };
  /** See {@link HttpServerTimeouts}. */
  timeouts?: HttpServerTimeouts;
}

/**
 * Options for {@link HttpServer.serve}.
 *
 * @example
 * ```ts
 * function* serveLogged(server: HttpServer, handler: HttpHandler): Operation<void> {
 *   yield* server.serve(handler, { maxConnections: 1000, onError: (e, req) => console.error(req?.target, e) });
 * }
 * ```
 */
export interface HttpServeOptions {
  /** At most this many connections are served at once (the rest wait, accepted but unread). */
  maxConnections?: number;
  /** `true` (default): a failing handler ends only its connection (after a 500, or dropping it if the head was out). `false`: it fails `serve`. */
  allowFailure?: boolean;
  /** Called with each handler failure and its request (`undefined` for a connection's own failure); without it they go to stderr. */
  onError?: (error: unknown, req: HttpRequest | undefined) => void;
}

const DEFAULT_TIMEOUTS: ResolvedTimeouts = { headers: 60_000, requestBody: 300_000, keepAlive: 5_000 };
const DEFAULT_DRAIN = 64 * 1024;
const DEFAULT_GRACE = 10_000;

function requireTimeout(api: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") throw new TypeError(`${api}: ${name} must be a number of milliseconds, got ${describe(value)}`);
  if (value === Infinity) return Infinity;
  if (!Number.isInteger(value) || value <= 0 || value > 2_147_483_647) {
    throw new RangeError(`${api}: ${name} must be an integer number of milliseconds in [1, 2147483647] or Infinity, got ${value}`);
  }
  return value;
}

/** The parts of a listener `HttpServer` uses. */
type Listener = ConnectionServer<HttpTransport & ServedConnection>;

/**
 * Listens for HTTP (or, with `tls`, HTTPS) connections; serve them with
 * {@link HttpServer.serve} or {@link HttpServer.serveFetch}.
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) {
 *     yield* res.end("hello");
 *   }), { daemon: true });
 *   const reply = yield* call(() => fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text()));
 *   console.log(reply); // prints hello
 * });
 * ```
 */
export function* listenHttp(options?: ListenHttpOptions): Operation<HttpServer> {
  const api = "listenHttp()";
  requireOptions(api, options, true);
  const { host, port = 0, tls, limits, timeouts } = options ?? {};
  if (host !== undefined) requireHost(api, "options.host", host);
  requirePort(api, "options.port", port, 0);
  if (tls !== undefined) requireOptions(api, tls, false);
  const resolved = resolveLimits(api, limits);
  const maxBodyDrain = limits?.maxBodyDrain ?? DEFAULT_DRAIN;
  requireOptionalCount(api, "options.limits.maxBodyDrain", maxBodyDrain, 0);
  if (timeouts !== undefined) requireOptions(api, timeouts, false);
  const resolvedTimeouts: ResolvedTimeouts = {
    headers: requireTimeout(api, "options.timeouts.headers", timeouts?.headers, DEFAULT_TIMEOUTS.headers),
    requestBody: requireTimeout(api, "options.timeouts.requestBody", timeouts?.requestBody, DEFAULT_TIMEOUTS.requestBody),
    keepAlive: requireTimeout(api, "options.timeouts.keepAlive", timeouts?.keepAlive, DEFAULT_TIMEOUTS.keepAlive),
  };
  const listener: Listener =
    tls === undefined
      ? yield* listenTcp(host === undefined ? { port } : { host, port })
      : yield* listenTls({ ...tls, ...(host === undefined ? {} : { host }), port });
  return new HttpServer(listener, {
    limits: resolved,
    maxBodyDrain,
    timeouts: resolvedTimeouts,
    scheme: tls === undefined ? "http" : "https",
  });
}

/**
 * A listening HTTP server, made by {@link listenHttp}. `serve` runs a
 * handler for every request until it is cancelled or the server is shut
 * down; `shutdown` ends it gracefully, `close` (also `using`) stops
 * listening and lets the connections finish.
 *
 * @example
 * ```ts
 * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (req, res) { yield* res.end("ok"); }));
 *   const reply = yield* call(() => fetch(`http://127.0.0.1:${server.port}/`).then((r) => r.text()));
 *   console.log(reply); // prints ok
 *   yield* server.shutdown({ gracePeriod: 5_000 }); // in-flight requests get 5 s; serve then returns
 * });
 * ```
 */
export class HttpServer {
  /** The bound IP address. */
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;

  readonly #listener: Listener;
  readonly #settings: Omit<ConnectionConfig, "allowFailure" | "onError">;
  readonly #connections = new Set<ServerConnection>();
  readonly #ended = new CondVar();
  #shuttingDown = false;

  /** @internal Use {@link listenHttp}. */
  constructor(listener: Listener, settings: Omit<ConnectionConfig, "allowFailure" | "onError">) {
    this.#listener = listener;
    this.#settings = settings;
    this.host = listener.address;
    this.port = listener.port;
  }

  /** @internal True once {@link HttpServer.shutdown} was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** @internal */
  add(connection: ServerConnection): void {
    this.#connections.add(connection);
  }

  /** @internal */
  delete(connection: ServerConnection): void {
    this.#connections.delete(connection);
    this.#ended.broadcast();
  }

  /**
   * Serves requests with `handler` until cancelled, shut down or closed:
   * each connection a task, each request answered in turn on it
   * (keep-alive, pipelining), the handler cancelled when its client goes.
   *
   * @example
   * ```ts
   * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(() => server.serve(function* (req, res) {
   *     if (req.target === "/") yield* res.send(200, "home\n", { "content-type": "text/plain" });
   *     else yield* res.send(404, "not found\n");
   *   }, { maxConnections: 512 }), { daemon: true });
   *   const status = yield* call(() => fetch(`http://127.0.0.1:${server.port}/nope`).then((r) => r.status));
   *   console.log(status); // prints 404
   * });
   * ```
   */
  *serve(handler: HttpHandler, options?: HttpServeOptions): Operation<void> {
    const api = "HttpServer.serve()";
    requireFunction(api, "handler", handler, "a function* (req, res) handler");
    requireOptions(api, options, true);
    const { maxConnections, allowFailure = true, onError } = options ?? {};
    requireOptionalCount(api, "options.maxConnections", maxConnections, 1);
    requireOptionalBoolean(api, "options.allowFailure", allowFailure);
    if (onError !== undefined) requireFunction(api, "options.onError", onError, "a function (error, req) => void");
    const config: ConnectionConfig = { ...this.#settings, allowFailure, onError };
    const registry: ServerRegistry = this;
    yield* this.#listener.serve((conn) => serveConnection(conn, handler, config, registry), {
      ...(maxConnections === undefined ? {} : { maxConnections }),
      allowFailure,
      ...(onError === undefined ? {} : { onError: (error: unknown) => onError(error, undefined) }),
    });
  }

  /**
   * Serves a Web-standard fetch handler (`(request: Request) => Response`,
   * also async or a weft operation), as fetch-style frameworks expect. The
   * `Request`'s `signal` aborts when the client goes away; its body is a
   * `ReadableStream` of the request body; the `Response`'s body is streamed
   * out.
   *
   * @example
   * ```ts
   * using server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(() => server.serveFetch(async (request) => new Response(`you asked for ${new URL(request.url).pathname}`)), { daemon: true });
   *   const reply = yield* call(() => fetch(`http://127.0.0.1:${server.port}/page`).then((r) => r.text()));
   *   console.log(reply); // prints you asked for /page
   * });
   * ```
   */
  serveFetch(handler: FetchHandler, options?: HttpServeOptions): Operation<void> {
    requireFunction("HttpServer.serveFetch()", "handler", handler, "a function (request) => Response");
    return this.serve(fetchHandler(handler), options);
  }

  /**
   * Stops accepting at once, closes the connections waiting for a request,
   * lets the requests in progress finish (their responses say
   * `Connection: close`), cancels what still runs after `gracePeriod` ms
   * (default 10 000) and returns once every connection has ended.
   *
   * @example
   * ```ts
   * function* stop(server: HttpServer): Operation<void> {
   *   yield* server.shutdown({ gracePeriod: 2_000 });
   * }
   * ```
   */
  *shutdown(options?: { gracePeriod?: number }): Operation<void> {
    const api = "HttpServer.shutdown()";
    requireOptions(api, options, true);
    const grace = options?.gracePeriod ?? DEFAULT_GRACE;
    if (typeof grace !== "number")
      throw new TypeError(`${api}: options.gracePeriod must be a number of milliseconds, got ${describe(grace)}`);
    if (!Number.isFinite(grace) || grace < 0)
      throw new RangeError(`${api}: options.gracePeriod must be a finite number of milliseconds >= 0, got ${grace}`);
    this.#shuttingDown = true;
    this.#listener.close();
    for (const connection of this.#connections) if (connection.idle) connection.cancel();
    if (this.#connections.size > 0 && grace > 0) yield* withTimeoutOpt(grace, () => this.#allEnded());
    for (const connection of this.#connections) connection.cancel();
    yield* this.#allEnded();
  }

  *#allEnded(): Operation<void> {
    while (this.#connections.size > 0) yield* this.#ended.wait();
  }

  /**
   * Stops listening (later connects are refused); connections in progress go
   * on, and `serve` returns once they have ended. Idempotent.
   *
   * @example
   * ```ts
   * const server = yield* listenHttp({ host: "127.0.0.1", port: 0 });
   * server.close();
   * console.log("closed"); // prints closed
   * ```
   */
  close(): void {
    this.#listener.close();
  }

  /** Closes the server (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}
