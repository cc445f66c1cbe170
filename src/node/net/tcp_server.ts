/**
 * `listenTcp` and `TcpServer`: a listening TCP socket whose connections are
 * taken with `accept()` or handled, one task each, by `serve()`.
 */
import { createServer, type Server } from "node:net";
import { action } from "../../core/action.ts";
import type { Operation } from "../../core/operation.ts";
import { ConnectionServer } from "./connection_server.ts";
import { annotateOsError, formatAddress } from "./os_error.ts";
import { TcpConnection, type TcpConnectionOptions } from "./tcp_connection.ts";
import { requireHost, requireOptionalBoolean, requireOptionalCount, requireOptionalMs, requireOptions, requirePort } from "./validate.ts";

export type { ServeOptions } from "./connection_server.ts";

const ignore = (): void => {};

/**
 * Options for {@link listenTcp}.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0, backlog: 128 });
 * console.log(server.port > 0); // prints true: port 0 picks a free port
 * ```
 */
export interface ListenTcpOptions {
  /** The address to listen on (default: every interface, IPv6 and IPv4 where the system allows). */
  host?: string;
  /** The port, 0–65535 (default 0: any free port; read it from {@link TcpServer.port}). */
  port?: number;
  /** The kernel's queue of connections not yet taken by Node (default: Node's, 511). */
  backlog?: number;
  /** Disable Nagle's algorithm on accepted connections (default `true`). */
  noDelay?: boolean;
  /** For accepted connections: how long `close()` lets queued bytes drain to a peer that does not read (default 10 000 ms; see {@link TcpConnection.close}). */
  lingerMs?: number;
}

/**
 * A listening TCP socket, made by {@link listenTcp}.
 *
 * Connections that arrive while no task is in `accept()` are queued, never
 * lost; a cancelled `accept()` takes none of them. Closing the server (also
 * by `using`, or by the end of `serve()`) stops listening, so later connects
 * are refused; connections already accepted stay open.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * console.log(server.address); // prints 127.0.0.1
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() =>
 *     server.serve(function* (conn) {
 *       yield* conn.writeReader(conn); // echo
 *     }),
 *   { daemon: true });
 *   using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
 *   yield* client.write("echo\n");
 *   console.log(yield* client.readLine()); // prints echo
 * });
 * ```
 */
export class TcpServer extends ConnectionServer<TcpConnection> {
  /**
   * Takes over a listening Node server (used by {@link listenTcp});
   * `options` apply to the accepted connections.
   *
   * @example
   * ```ts
   * import { createServer } from "node:net";
   *
   * const listeningNodeServer = createServer();
   * yield* call(() => new Promise<void>((resolve) => listeningNodeServer.listen(0, "127.0.0.1", resolve)));
   * using server = new TcpServer(listeningNodeServer, { lingerMs: 1000 });
   * console.log(server.address); // prints 127.0.0.1
   * ```
   */
  constructor(server: Server, options?: TcpConnectionOptions) {
    requireOptions("new TcpServer()", options, true);
    requireOptionalMs("new TcpServer()", "options.lingerMs", options?.lingerMs);
    const connectionOptions: TcpConnectionOptions = { lingerMs: options?.lingerMs };
    super("TcpServer", server, "connection", (socket) => new TcpConnection(socket, connectionOptions));
  }
}

/**
 * Starts listening for TCP connections and returns the server once it is
 * listening. Port 0 picks a free port ({@link TcpServer.port}). Errors keep
 * Node's `code` (`EADDRINUSE`, `EACCES`, …) and name the address.
 * Cancelled before the socket is listening, it closes it.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * console.log(server.port);
 * ```
 */
export function* listenTcp(options?: ListenTcpOptions): Operation<TcpServer> {
  const api = "listenTcp()";
  requireOptions(api, options, true);
  const { host, port = 0, backlog, noDelay = true, lingerMs } = options ?? {};
  if (host !== undefined) requireHost(api, "options.host", host);
  requirePort(api, "options.port", port, 0);
  requireOptionalCount(api, "options.backlog", backlog, 0);
  requireOptionalBoolean(api, "options.noDelay", noDelay);
  requireOptionalMs(api, "options.lingerMs", lingerMs);
  const target = formatAddress(host ?? "*", port);
  return yield* action<TcpServer>((resolve, reject) => {
    // pauseOnConnect: nothing is read from a connection before a task asks for it.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay });
    let listening = false;
    let abandoned = false;
    const onError = (error: Error): void => reject(annotateOsError(api, error, target));
    server.once("error", onError);
    server.listen({ host, port, backlog }, () => {
      // Abandoned (cancelled) while the address was being looked up: nobody
      // will own this socket, so it must not stay open.
      if (abandoned) {
        server.close();
        return;
      }
      listening = true;
      resolve(new TcpServer(server, { lingerMs }));
    });
    return () => {
      server.off("error", onError);
      if (!listening) {
        abandoned = true;
        server.on("error", ignore);
        server.close();
      }
    };
  });
}
