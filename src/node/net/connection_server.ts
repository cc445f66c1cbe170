/**
 * `ConnectionServer`: what `TcpServer` and `TlsServer` share, a listening
 * socket whose connections are taken with `accept()` or handled, one task
 * each, by `serve()`.
 */
import type { Server, Socket } from "node:net";
import { callBody, checkCancellation } from "../../core/cancel.ts";
import { Cancelled, WeftUsageError } from "../../core/errors.ts";
import { describe, requireFunction, type Operation } from "../../core/operation.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { Queue, QueueClosed } from "../../sync/queue.ts";
import { Semaphore } from "../../sync/semaphore.ts";
import { annotateOsError, formatAddress } from "./os_error.ts";
import type { TcpConnection } from "./tcp_connection.ts";
import { requireOptionalBoolean, requireOptionalCount, requireOptions } from "./validate.ts";

/**
 * Options for {@link TcpServer.serve} and `TlsServer.serve`.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * function* handle(conn: TcpConnection): Operation<void> {
 *   yield* conn.write(`hello, ${conn.remoteAddress}\n`);
 * }
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(handle, { maxConnections: 100, onError: (e) => console.error(e) }), { daemon: true });
 *   using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
 *   console.log(yield* conn.readLine()); // prints hello, 127.0.0.1
 * });
 * ```
 */
export interface ServeOptions<C = TcpConnection> {
  /**
   * At most this many handlers run at once; the next connection is handed to
   * a handler when one ends. Node takes every connection from the kernel as
   * it arrives (it has no way to leave them in the listen backlog), so the
   * ones beyond the limit wait in the server's arrival queue: connected, each
   * holding a descriptor, nothing read from them, served in arrival order.
   * To bound those too, bound the clients (or put a proxy in front).
   */
  maxConnections?: number;
  /**
   * `true` (the default): a handler's failure ends only its own
   * connection and is passed to `onError`. `false`: it fails `serve`, which
   * cancels every other handler and closes the server.
   */
  allowFailure?: boolean;
  /**
   * With `allowFailure`, called with each handler failure (other than
   * cancellation) and its connection. Without it, a failure is not silently
   * dropped: it is printed to stderr (`console.error`) with the peer's
   * address and the error's stack, as Node reports an uncaught error, and the
   * server keeps serving.
   */
  onError?: (error: unknown, conn: C) => void;
}

/** A handler failure nobody asked to hear about: say so on stderr rather than lose it. */
function reportHandlerFailure(api: string, error: unknown, conn: ServedConnection): void {
  const peer = formatAddress(conn.remoteAddress, conn.remotePort);
  console.error(`${api}: the handler for peer ${peer} failed (pass options.onError to handle this yourself):`, error);
}

/**
 * What a {@link ConnectionServer} hands out: a connection it can close and
 * whose peer it can name.
 *
 * @example
 * ```ts
 * const described = (conn: ServedConnection) => `${conn.remoteAddress}:${conn.remotePort}`;
 * ```
 */
export interface ServedConnection {
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** Closes the connection. */
  close(): void;
}

/**
 * The listening side shared by {@link TcpServer} and `TlsServer`: a
 * listening Node server whose connections are queued for `accept()` or
 * handled, one task each, by `serve()`. Use {@link listenTcp} or `listenTls`
 * to make one.
 *
 * Connections that arrive while no task is in `accept()` are queued, never
 * lost; a cancelled `accept()` takes none of them. Closing the server (also
 * by `using`, or by the end of `serve()`) stops listening, so later connects
 * are refused; connections already accepted stay open.
 *
 * @example
 * ```ts
 * function* echoAll(server: ConnectionServer<TcpConnection>) {
 *   yield* server.serve(function* (conn) {
 *     yield* conn.writeReader(conn);
 *   });
 * }
 * ```
 */
export class ConnectionServer<C extends ServedConnection> {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** The bound IP address. */
  readonly address: string;
  /** The bound address family. */
  readonly family: 4 | 6;

  readonly #server: Server;
  /** The connections whose `serve()` handler is running. */
  readonly #served = new Set<C>();
  /** Connections that arrived and wait for `accept()`; FIFO to the waiting accepts. */
  readonly #queue = new Queue<C>();
  readonly #target: string;
  #error: unknown = undefined;
  #closed = false;
  /** The class name, for messages ("TcpServer"). */
  readonly #kind: string;

  /**
   * Takes over a listening Node server: each socket it reports with `event`
   * ("connection", or "secureConnection" for a TLS server) is turned into a
   * connection by `wrap` and queued. `kind` names the class in messages.
   *
   * @example
   * ```ts
   * import { createServer } from "node:net";
   *
   * const listening = createServer();
   * yield* call(() => new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve)));
   * using server = new ConnectionServer("MyServer", listening, "connection", (socket) => new TcpConnection(socket));
   * using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   * using conn = yield* server.accept();
   * console.log(conn.remotePort === client.localPort); // prints true
   * ```
   */
  constructor(kind: string, server: Server, event: "connection" | "secureConnection", wrap: (socket: Socket) => C) {
    this.#kind = kind;
    const bound = server.address();
    if (bound === null || typeof bound === "string") {
      throw new TypeError(`new ${kind}(): server must be listening on a TCP address, got ${describe(bound)}`);
    }
    this.#server = server;
    this.port = bound.port;
    this.address = bound.address;
    this.family = bound.family === "IPv6" ? 6 : 4;
    this.#target = formatAddress(bound.address, bound.port);
    server.on(event, (socket: Socket) => {
      if (this.#closed) {
        socket.destroy();
        return;
      }
      this.#queue.tryPut(wrap(socket));
    });
    server.on("error", (error) => {
      this.#error ??= annotateOsError(`${kind}.accept()`, error, this.#target);
      this.#queue.close();
    });
  }

  /**
   * The connections whose {@link ConnectionServer.serve} handler is running,
   * live: a connection is in it from just before its handler starts until
   * just after it is closed, when the handler ends. Another task can use it to
   * drop a client at once (`conn.abort()` on a `TcpConnection`: the
   * handler's read or write then throws `ECONNABORTED`) or to close every
   * connection on shutdown. Connections taken with `accept()` belong to their
   * caller and are not in it.
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup<void>(function* (group) {
   *   const serving = group.spawn(() =>
   *     server.serve(
   *       function* (conn) {
   *         yield* conn.readLine(); // waits until the client is dropped
   *       },
   *       { onError: (e) => console.log((e as { code?: string }).code) }, // prints ECONNABORTED
   *     ),
   *   );
   *   using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   *   while (server.connections.size === 0) yield* sleep(1);
   *   for (const conn of server.connections) conn.abort(); // drop every client now
   *   try {
   *     yield* client.readLine();
   *   } catch (e) {
   *     console.log((e as { code?: string }).code); // prints ECONNRESET
   *   }
   *   serving.cancel();
   * });
   * ```
   */
  get connections(): ReadonlySet<C> {
    return this.#served;
  }

  /** How many connections arrived and wait for `accept()`. */
  get pending(): number {
    return this.#queue.size;
  }

  /**
   * Waits for the next connection and returns it (at once if one is queued).
   * Throws `WeftUsageError` once the server is closed (also when it is closed
   * while waiting), and the server's error (with Node's `code`) if listening
   * failed. Several tasks may wait; each connection goes to one of them.
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   * using conn = yield* server.accept();
   * console.log(`from ${conn.remoteAddress}`); // prints from 127.0.0.1
   * ```
   */
  *accept(): Operation<C> {
    this.#checkOpen();
    checkCancellation();
    try {
      // A cancelled get takes no connection (the queue's own guarantee).
      return yield* this.#queue.get();
    } catch (error) {
      if (error instanceof QueueClosed) this.#checkOpen();
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeftUsageError(`${this.#kind}.accept(): the server is closed`);
    if (this.#error !== undefined) throw this.#error;
  }

  /**
   * Accepts connections until cancelled and runs `handler` for each as a task
   * of one group; the connection is closed when its handler ends. With
   * `maxConnections`, a permit is taken before each `accept`, so at most that
   * many handlers run at once (the connections beyond it wait, accepted by
   * Node but unread; see {@link ServeOptions.maxConnections}). By default a failing handler ends only its
   * connection (`allowFailure`, see {@link ServeOptions}); an `accept` error
   * fails `serve`.
   *
   * When `serve` ends (cancelled, failed, or the server closed by `close()`,
   * which lets running handlers finish) the server is closed: later connects
   * are refused.
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(() =>
   *     server.serve(function* (conn) {
   *       for (let line; (line = yield* conn.readLine()) !== undefined; ) yield* conn.write(`${line.toUpperCase()}\n`);
   *     }, { maxConnections: 64 }),
   *   { daemon: true });
   *   using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   *   yield* conn.write("shout\n");
   *   console.log(yield* conn.readLine()); // prints SHOUT
   * });
   * ```
   */
  *serve(handler: (conn: C) => Operation<void>, options?: ServeOptions<C>): Operation<void> {
    const api = `${this.#kind}.serve()`;
    requireFunction(api, "handler", handler, "a function* (conn) handler");
    requireOptions(api, options, true);
    const { maxConnections, allowFailure = true, onError } = options ?? {};
    requireOptionalCount(api, "options.maxConnections", maxConnections, 1);
    requireOptionalBoolean(api, "options.allowFailure", allowFailure);
    if (onError !== undefined) requireFunction(api, "options.onError", onError, "a function (error, conn) => void");
    const slots = maxConnections === undefined ? null : new Semaphore(maxConnections);
    const server = this;
    try {
      yield* withTaskGroup<void>(function* (group) {
        for (;;) {
          if (slots !== null) yield* slots.acquire();
          let conn: C;
          try {
            conn = yield* server.accept();
          } catch (error) {
            slots?.release();
            // Closed by close(): stop accepting and let the handlers finish.
            if (server.#closed && error instanceof WeftUsageError) return;
            throw error;
          }
          server.#served.add(conn);
          group.startSoon(function* () {
            try {
              yield* callBody(api, () => handler(conn));
            } catch (error) {
              if (!allowFailure || error instanceof Cancelled) throw error;
              if (onError !== undefined) onError(error, conn);
              else reportHandlerFailure(api, error, conn);
            } finally {
              conn.close();
              server.#served.delete(conn);
              slots?.release();
            }
          });
        }
      });
    } finally {
      this.close();
    }
  }

  /**
   * Stops listening (later connects are refused) and closes the connections
   * still waiting for `accept()`. Tasks blocked in `accept()` get
   * `WeftUsageError`; accepted connections are not affected. Idempotent.
   *
   * @example
   * ```ts
   * function* handleOne(conn: TcpConnection): Operation<void> {
   *   using c = conn;
   *   yield* c.write("bye\n");
   * }
   * const server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(function* () {
   *     using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   *     console.log(yield* client.readLine()); // prints bye
   *   });
   *   try { yield* handleOne(yield* server.accept()); } finally { server.close(); }
   * });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#server.close();
    for (let conn = this.#queue.tryGet(); conn !== undefined; conn = this.#queue.tryGet()) conn.close();
    this.#queue.close();
  }

  /** Closes the server (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}
