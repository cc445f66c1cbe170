/**
 * One server connection: read a request head, run the handler, finish the
 * response, and again while the connection may be kept alive.
 *
 * The loop runs over any weft duplex ({@link HttpTransport}), so tests drive
 * it over in-memory pipes under virtual time, and a proxy can serve HTTP
 * over a tunnel. Each connection is a task group: its body is the loop (the
 * handler runs in it, so a request costs no task of its own) and a daemon
 * task pumps the transport into a bounded stash (`transport.ts`). When the
 * pump sees the client go (end of stream or an error), it ends the group:
 * the handler is cancelled at once, wherever it is suspended, and its
 * `finally` blocks run. A half-closed client counts as gone: TCP cannot tell
 * it from one that left, and a server that kept working for nobody is the
 * failure this design exists to prevent.
 *
 * Requests are answered one at a time, in order, so pipelining needs nothing
 * more than not losing the bytes of the next request (they wait in the
 * stash or the head parser's buffer). Timeouts: the wait for a request's
 * first byte is the keep-alive timeout (the headers timeout for the first
 * request, counted from the connection's start), the rest of the head must
 * arrive within the headers timeout (a slowloris trickle is cut there, and
 * its `maxConnections` slot freed), and the body within the request-body
 * timeout from the end of the head.
 */
import { Cancelled } from "../../core/errors.ts";
import type { Operation } from "../../core/operation.ts";
import { now, sleep } from "../../core/sleep.ts";
import { withTaskGroup, type TaskGroup } from "../../group/task_group.ts";
import { withTimeoutOpt } from "../../group/timeout.ts";
import type { BodyReader } from "../codec/body_reader.ts";
import { requestFraming, keepsAlive, type BodyFraming } from "../codec/framing.ts";
import { HttpInput, type RequestHead } from "../codec/input.ts";
import { reasonPhrase } from "../codec/serialize.ts";
import { HttpBodyTooLarge, HttpProtocolError } from "../errors.ts";
import { resolveLimits, type HttpLimits } from "../limits.ts";
import type { ConnectionPort, ResolvedTimeouts } from "./exchange.ts";
import { HttpRequest, RequestBodyTimeout } from "./request.ts";
import { HttpResponse } from "./response.ts";
import { WatchedReader, type HttpTransport } from "./transport.ts";

/**
 * A request handler: answers `req` through `res`. It runs as part of its
 * connection's task and is cancelled when the client goes away.
 *
 * @example
 * ```ts
 * const hello: HttpHandler = function* (req, res) {
 *   yield* res.end(`hello from ${req.target}\n`);
 * };
 * ```
 */
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => Operation<void>;

/** Everything a connection needs to know about its server, resolved once (`listenHttp`'s options and `serve`'s). */
export interface ConnectionConfig {
  /** The parser's limits, every one set (see `HttpLimits`). */
  readonly limits: Required<HttpLimits>;
  /** How much of an unread request body is read and dropped to keep the connection; past it the connection closes. */
  readonly maxBodyDrain: number;
  /** The headers, request-body and keep-alive timeouts, in ms. */
  readonly timeouts: ResolvedTimeouts;
  /** "http" or "https": the scheme of `req.url`. */
  readonly scheme: string;
  /** `false`: a handler failure is thrown out of the connection (after its 500 or abort). */
  readonly allowFailure: boolean;
  /** Told of every handler failure (instead of stderr), with the request when there was one. */
  readonly onError: ((error: unknown, req: HttpRequest | undefined) => void) | undefined;
}

/** What a connection is doing, for its watchdog. */
const enum Phase {
  /** Waiting for a request's first byte (keep-alive idle): closed quietly at the deadline. */
  IDLE,
  /** Reading a request head: answered 408 at the deadline. */
  HEAD,
  /** Running a handler (its body reads have their own deadline): no deadline. */
  BUSY,
}

/** What the server tracks of each connection (for shutdown). */
export interface ServerRegistry {
  readonly shuttingDown: boolean;
  add(connection: ServerConnection): void;
  delete(connection: ServerConnection): void;
}

/** A handler failure nobody asked to hear about: say so on stderr rather than lose it. */
function reportFailure(error: unknown, req: HttpRequest | undefined): void {
  const what = req === undefined ? "a connection" : `${req.method} ${req.target}`;
  console.error(
    `HttpServer.serve(): the handler for ${what} from ${req?.remoteAddress || "a client"} failed (pass options.onError to handle this yourself):`,
    error,
  );
}

const encoder = new TextEncoder();

/**
 * One connection of an HTTP server: the loop over its requests. Made and run
 * by {@link serveHttpConnection}.
 */
export class ServerConnection implements ConnectionPort {
  readonly transport: HttpTransport;
  readonly watched: WatchedReader;
  readonly input: HttpInput;
  readonly limits: Required<HttpLimits>;
  readonly maxBodyDrain: number;
  readonly timeouts: ResolvedTimeouts;
  readonly scheme: string;
  upgraded = false;
  #phase = Phase.BUSY;
  #deadline = Infinity;

  readonly #handler: HttpHandler;
  readonly #config: ConnectionConfig;
  readonly #registry: ServerRegistry | undefined;
  readonly #remoteAddress: string;
  #group: TaskGroup<void> | undefined = undefined;
  readonly #readHead: () => Operation<RequestHead | undefined>;
  readonly #waitReadable: () => Operation<true>;

  constructor(transport: HttpTransport, handler: HttpHandler, config: ConnectionConfig, registry: ServerRegistry | undefined) {
    this.transport = transport;
    this.watched = new WatchedReader(transport);
    this.input = new HttpInput(this.watched);
    this.limits = config.limits;
    this.maxBodyDrain = config.maxBodyDrain;
    this.timeouts = config.timeouts;
    this.scheme = config.scheme;
    this.#handler = handler;
    this.#config = config;
    this.#registry = registry;
    this.#remoteAddress = transport.remoteAddress ?? "";
    this.#readHead = () => this.input.readRequestHead(this.limits);
    this.#waitReadable = () => this.watched.waitReadable();
  }

  /** True while waiting for the first byte of a request: shutdown may close it at once. */
  get idle(): boolean {
    return this.#phase === Phase.IDLE;
  }

  get shuttingDown(): boolean {
    return this.#registry?.shuttingDown ?? false;
  }

  /** Ends the connection now: whatever runs in it is cancelled (its `finally` blocks run). */
  cancel(): void {
    this.#group?.returnImmediately();
  }

  /** Runs the connection until it is done; the caller closes the transport. */
  *run(): Operation<void> {
    const connection = this;
    const registry = this.#registry;
    registry?.add(this);
    try {
      // The body is not a generator: the group's task runs #loop itself, so every resume of a handler walks one
      // `yield*` level less.
      yield* withTaskGroup<void>((group) => {
        connection.#group = group;
        connection.watched.onPeerGone = () => group.returnImmediately();
        group.startSoon(() => connection.watched.pump(), { daemon: true });
        const minPhase = Math.min(connection.timeouts.headers, connection.timeouts.keepAlive);
        if (minPhase !== Infinity) group.startSoon(() => connection.watch(minPhase), { daemon: true });
        return connection.#loop();
      });
    } finally {
      this.#group = undefined;
      registry?.delete(this);
    }
  }

  /**
   * Sets the phase's deadline for the watchdog. Every deadline set at time
   * `t` is at least `t + minPhase` (see {@link ServerConnection.watch}).
   */
  #arm(phase: Phase, deadline: number): void {
    this.#phase = phase;
    this.#deadline = deadline;
  }

  /**
   * The connection's timeouts, without a timer per request: one daemon task
   * sleeps toward the current phase's deadline, never longer than the
   * shortest phase (`minPhase`). A deadline set later is never earlier than
   * its setting time plus `minPhase`, so the watchdog always wakes by then
   * and fires exactly on time; a busy connection costs it one wake-up per
   * `minPhase` (5 s by default) instead of two timers per request. At the
   * deadline it answers 408 to a head that is still arriving and ends the
   * connection (a silent idle one is just closed).
   */
  *watch(minPhase: number): Operation<void> {
    for (;;) {
      const t = now();
      const deadline = this.#deadline;
      if (deadline > t) {
        yield* sleep(Math.min(deadline, t + minPhase) - t);
        continue;
      }
      if (this.#phase === Phase.HEAD) yield* this.#reject(408);
      if (this.#phase !== Phase.BUSY) {
        this.cancel();
        return;
      }
      yield* sleep(minPhase);
    }
  }

  *#loop(): Operation<void> {
    const timeouts = this.timeouts;
    const started = now();
    let first = true;
    for (;;) {
      if (this.shuttingDown) return;
      // Waiting for a request's first byte: the keep-alive idle time (for the first request, the headers timeout).
      if (!this.watched.hasBytes && this.input.buffered === 0) {
        this.#arm(Phase.IDLE, first ? started + timeouts.headers : now() + timeouts.keepAlive);
        yield* this.#waitReadable();
        if (this.shuttingDown || this.watched.peerGone) return;
      }
      this.#arm(Phase.HEAD, (first ? started : now()) + timeouts.headers);
      let head: RequestHead | undefined;
      try {
        head = yield* this.#readHead();
      } catch (error) {
        if (error instanceof HttpProtocolError) return yield* this.#reject(error.status);
        throw error;
      }
      this.#arm(Phase.BUSY, Infinity);
      if (head === undefined) return;
      first = false;
      let framing: BodyFraming;
      try {
        framing = requestFraming(head);
      } catch (error) {
        if (error instanceof HttpProtocolError) return yield* this.#reject(error.status);
        throw error;
      }
      // One request and its answer, inline rather than in a generator of its own: the handler runs here, and
      // every resume of it walks each `yield*` level between it and the task's body.
      const req = new HttpRequest(this, head, framing, this.#remoteAddress);
      const res = new HttpResponse(this, req, keepsAlive(head.minorVersion, head.headers));
      try {
        const op = this.#handler(req, res);
        if (op === null || typeof op !== "object" || typeof (op as { next?: unknown }).next !== "function") {
          throw new TypeError("HttpServer.serve(): the handler must return an Operation (write it as a function* generator)");
        }
        yield* op;
        if (!this.upgraded) yield* res.finish();
      } catch (error) {
        if (error instanceof Cancelled) throw error;
        return yield* this.#failed(error, req, res);
      }
      if (this.upgraded || !res.keepAlive) return;
      const body = req.codecBody;
      if (body !== undefined && !body.complete && !(yield* this.#drainBody(req, body))) return;
    }
  }

  /**
   * After an answer, the rest of a request body the handler did not read, so
   * that the connection can carry the next request: true when it was
   * drained, false when the connection must close instead (too much of it,
   * too slow, broken framing, or a client still waiting for `100 Continue`).
   */
  *#drainBody(req: HttpRequest, body: BodyReader): Operation<boolean> {
    if (req.awaitingContinue) return false;
    const left = req.bodyTimeLeft;
    try {
      const drained =
        left === Infinity ? yield* body.drain(this.maxBodyDrain) : yield* withTimeoutOpt(left, () => body.drain(this.maxBodyDrain));
      return drained === true;
    } catch (error) {
      if (error instanceof Cancelled) throw error;
      // A body that breaks the framing while it is drained: the response is out, just close.
      return false;
    }
  }

  /** A handler failed: answer for it if the head is not out yet, else drop the connection; then report it. */
  *#failed(error: unknown, req: HttpRequest, res: HttpResponse): Operation<void> {
    if (!res.headersSent) {
      const status =
        error instanceof HttpProtocolError
          ? error.status
          : error instanceof HttpBodyTooLarge
            ? 413
            : error instanceof RequestBodyTimeout
              ? 408
              : 500;
      yield* this.#reject(status);
    } else {
      this.#drop();
    }
    // A request the client broke (bad framing, too large, too slow) is answered above, not the handler's failure.
    const clientFault =
      !res.headersSent && (error instanceof HttpProtocolError || error instanceof HttpBodyTooLarge || error instanceof RequestBodyTimeout);
    if (clientFault) return;
    if (!this.#config.allowFailure) throw error;
    const onError = this.#config.onError;
    if (onError !== undefined) onError(error, req);
    else reportFailure(error, req);
  }

  /** Drops the connection at once (a reset where the transport can). */
  #drop(): void {
    if (this.transport.abort !== undefined) this.transport.abort();
    else this.transport.close();
  }

  /** Sends a bodiless error response with `Connection: close`; the caller then ends the connection. */
  *#reject(status: number): Operation<void> {
    const reason = reasonPhrase(status);
    const bytes = encoder.encode(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    try {
      yield* this.transport.write(bytes);
    } catch (error) {
      if (error instanceof Cancelled) throw error;
      // The client is gone already: nobody is left to tell.
    }
  }
}

/** The settings `serveHttpConnection` uses when given none: those of `listenHttp`'s defaults. */
function defaultConfig(): ConnectionConfig {
  return {
    limits: resolveLimits("serveHttpConnection()", undefined),
    maxBodyDrain: 64 * 1024,
    timeouts: { headers: 60_000, requestBody: 300_000, keepAlive: 5_000 },
    scheme: "http",
    allowFailure: true,
    onError: undefined,
  };
}

/**
 * Serves HTTP/1.1 over one connection (any weft duplex: a TCP or TLS
 * connection, a tunnel, joined pipes) until the client goes, the connection
 * may not be kept alive, or a timeout; then closes it. `HttpServer.serve`
 * runs this for each connection it accepts; `config` defaults to
 * `listenHttp`'s defaults.
 *
 * @example
 * ```ts
 * using listener = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     const conn = yield* listener.accept(); // one connection, served by hand
 *     yield* serveHttpConnection(conn, function* (req, res) {
 *       yield* res.end(`hi from ${req.target}`);
 *     });
 *   }, { daemon: true }); // cancelled (and the connection closed) when the body below is done
 *   const reply = yield* call(() => fetch(`http://127.0.0.1:${listener.port}/x`).then((r) => r.text()));
 *   console.log(reply); // prints hi from /x
 * });
 * ```
 */
export function serveHttpConnection(transport: HttpTransport, handler: HttpHandler, config?: ConnectionConfig): Operation<void> {
  return serveConnection(transport, handler, config ?? defaultConfig(), undefined);
}

/** {@link serveHttpConnection} for `HttpServer`, which tracks its connections in `registry` for shutdown. */
export function* serveConnection(
  transport: HttpTransport,
  handler: HttpHandler,
  config: ConnectionConfig,
  registry: ServerRegistry | undefined,
): Operation<void> {
  const connection = new ServerConnection(transport, handler, config, registry);
  try {
    yield* connection.run();
  } finally {
    transport.close();
  }
}
