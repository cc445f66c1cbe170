/**
 * `listenTls` and `TlsServer`: a listening TLS socket whose connections,
 * once their handshake succeeded, are taken with `accept()` or handled by
 * `serve()`, exactly as a `TcpServer`'s.
 */
import type { Server } from "node:net";
import { createServer, type TLSSocket, type TlsOptions } from "node:tls";
import { action } from "../../core/action.ts";
import type { Operation } from "../../core/operation.ts";
import { ConnectionServer } from "../net/connection_server.ts";
import { annotateOsError, formatAddress } from "../net/os_error.ts";
import {
  requireHost,
  requireOptionalBoolean,
  requireOptionalCount,
  requireOptionalMs,
  requireOptions,
  requirePort,
} from "../net/validate.ts";
import { TlsConnection, type TlsConnectionOptions } from "./tls_connection.ts";
import {
  type Credential,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  requireAlpn,
  requireCredential,
  requireHandshakeTimeout,
  toNodeCredential,
} from "./validate.ts";

/**
 * The server side of a TLS handshake: what {@link listenTls} and
 * {@link acceptTls} accept.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * // A self-signed certificate for 127.0.0.1, made with the openssl command.
 * const { key, cert } = yield* withTmpdir(function* (dir) {
 *   const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
 *   args.push("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
 *   const made = yield* runProcess("openssl", [...args, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
 *   if (made.code !== 0) throw new Error(made.stderr.text());
 *   return { key: yield* readTextFile(join(dir, "key.pem")), cert: yield* readTextFile(join(dir, "cert.pem")) };
 * });
 * const options: TlsServerOptions = { key, cert, alpn: ["h2", "http/1.1"] };
 * using server = yield* listenTls({ host: "127.0.0.1", port: 0, ...options });
 * using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: cert, alpn: ["http/1.1"] });
 * console.log(conn.alpnProtocol); // prints http/1.1
 * ```
 */
export interface TlsServerOptions {
  /** The server's private key (PEM). */
  key: Credential;
  /** The server's certificate chain (PEM). */
  cert: Credential;
  /** Roots trusted for client certificates (PEM; with `requestCert`). */
  ca?: Credential;
  /**
   * Ask clients for a certificate and refuse those that send none or one
   * that does not verify against `ca` (default `false`).
   */
  requestCert?: boolean;
  /** Application protocols this server speaks, most preferred first; a client offering none of them is refused. */
  alpn?: readonly string[];
  /**
   * How long a client may take to complete its handshake (default
   * 10 000 ms). A client that has not finished by then is dropped; it never
   * reaches `accept()`.
   */
  handshakeTimeout?: number;
  /** How long `close()` lets queued bytes drain (see {@link TlsConnection.close}). */
  lingerMs?: number;
}

/**
 * Options for {@link listenTls}.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * // A self-signed certificate for 127.0.0.1, made with the openssl command.
 * const { key, cert } = yield* withTmpdir(function* (dir) {
 *   const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
 *   args.push("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
 *   const made = yield* runProcess("openssl", [...args, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
 *   if (made.code !== 0) throw new Error(made.stderr.text());
 *   return { key: yield* readTextFile(join(dir, "key.pem")), cert: yield* readTextFile(join(dir, "cert.pem")) };
 * });
 * const server = yield* listenTls({ host: "127.0.0.1", port: 0, key, cert });
 * console.log(server.port > 0); // prints true
 * server.close();
 * ```
 */
export interface ListenTlsOptions extends TlsServerOptions {
  /** The address to listen on (default: every interface). */
  host?: string;
  /** The port, 0–65535 (default 0: any free port; read it from {@link TlsServer.port}). */
  port?: number;
  /** The kernel's queue of connections not yet taken by Node (default: Node's, 511). */
  backlog?: number;
  /** Disable Nagle's algorithm on accepted connections (default `true`). */
  noDelay?: boolean;
}

/** Checks the TLS server options and turns them into Node's. */
export function serverTlsOptions(api: string, options: TlsServerOptions): TlsOptions {
  const { key, cert, ca, requestCert = false, alpn, handshakeTimeout, lingerMs } = options;
  requireCredential(api, "options.key", key, false);
  requireCredential(api, "options.cert", cert, false);
  requireCredential(api, "options.ca", ca, true);
  requireOptionalBoolean(api, "options.requestCert", requestCert);
  requireAlpn(api, alpn);
  requireHandshakeTimeout(api, handshakeTimeout);
  requireOptionalMs(api, "options.lingerMs", lingerMs);
  return {
    key: toNodeCredential(key),
    cert: toNodeCredential(cert),
    ca: toNodeCredential(ca),
    requestCert,
    rejectUnauthorized: true,
    handshakeTimeout: handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  };
}

/**
 * A listening TLS socket, made by {@link listenTls}. It works as a
 * `TcpServer` does (`accept()`, `serve()` with `maxConnections`,
 * `allowFailure` and `onError`, `close()`), and hands out connections whose
 * handshake succeeded. A client whose handshake fails or does not finish
 * within `handshakeTimeout` is dropped: it never reaches `accept()` or a
 * handler, and it never fails the server.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * // A self-signed certificate for 127.0.0.1, made with the openssl command.
 * const { key, cert } = yield* withTmpdir(function* (dir) {
 *   const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
 *   args.push("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
 *   const made = yield* runProcess("openssl", [...args, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
 *   if (made.code !== 0) throw new Error(made.stderr.text());
 *   return { key: yield* readTextFile(join(dir, "key.pem")), cert: yield* readTextFile(join(dir, "cert.pem")) };
 * });
 * using server = yield* listenTls({ host: "127.0.0.1", port: 0, key, cert });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (conn) { yield* conn.writeReader(conn); }), { daemon: true }); // echo
 *   using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: cert });
 *   yield* conn.write("echo\n");
 *   console.log(yield* conn.readLine()); // prints echo
 * });
 * ```
 */
export class TlsServer extends ConnectionServer<TlsConnection> {
  /**
   * Takes over a listening Node TLS server (used by {@link listenTls});
   * `options` apply to the accepted connections.
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   * import { createServer } from "node:tls";
   *
   * // A self-signed certificate for 127.0.0.1, made with the openssl command.
   * const { key, cert } = yield* withTmpdir(function* (dir) {
   *   const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
   *   args.push("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
   *   const made = yield* runProcess("openssl", [...args, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
   *   if (made.code !== 0) throw new Error(made.stderr.text());
   *   return { key: yield* readTextFile(join(dir, "key.pem")), cert: yield* readTextFile(join(dir, "cert.pem")) };
   * });
   * const listeningTlsServer = createServer({ key, cert });
   * yield* call(() => new Promise<void>((resolve) => listeningTlsServer.listen(0, "127.0.0.1", resolve)));
   * using server = new TlsServer(listeningTlsServer, { lingerMs: 1000 });
   * console.log(server.address); // prints 127.0.0.1
   * ```
   */
  constructor(server: Server, options?: TlsConnectionOptions) {
    requireOptions("new TlsServer()", options, true);
    requireOptionalMs("new TlsServer()", "options.lingerMs", options?.lingerMs);
    const connectionOptions: TlsConnectionOptions = { lingerMs: options?.lingerMs };
    // A failed, timed out or abandoned handshake ends that client only. Node
    // reports it here and leaves the socket to us (half-open, it would stay).
    server.on("tlsClientError", dropClient);
    super("TlsServer", server, "secureConnection", (socket) => new TlsConnection(socket as TLSSocket, connectionOptions));
  }
}

const ignore = (): void => {};

function dropClient(_error: Error, socket: TLSSocket): void {
  socket.destroy();
}

/**
 * Starts listening for TLS connections and returns the server once it is
 * listening. Port 0 picks a free port ({@link TlsServer.port}). Errors keep
 * Node's `code` (`EADDRINUSE`, …) and name the address; bad key or
 * certificate material throws at once. Cancelled before the socket is
 * listening, it closes it.
 *
 * @example
 * ```ts
 * import { join } from "node:path";
 *
 * // A self-signed certificate for 127.0.0.1, made with the openssl command.
 * const { key, cert } = yield* withTmpdir(function* (dir) {
 *   const args = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"];
 *   args.push("-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost");
 *   const made = yield* runProcess("openssl", [...args, "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")]);
 *   if (made.code !== 0) throw new Error(made.stderr.text());
 *   return { key: yield* readTextFile(join(dir, "key.pem")), cert: yield* readTextFile(join(dir, "cert.pem")) };
 * });
 * using server = yield* listenTls({ host: "127.0.0.1", port: 0, key, cert });
 * console.log(server.port > 0); // prints true
 * ```
 */
export function* listenTls(options: ListenTlsOptions): Operation<TlsServer> {
  const api = "listenTls()";
  requireOptions(api, options, false);
  const { host, port = 0, backlog, noDelay = true, lingerMs } = options;
  if (host !== undefined) requireHost(api, "options.host", host);
  requirePort(api, "options.port", port, 0);
  requireOptionalCount(api, "options.backlog", backlog, 0);
  requireOptionalBoolean(api, "options.noDelay", noDelay);
  const tlsOptions = serverTlsOptions(api, options);
  const target = formatAddress(host ?? "*", port);
  let server: Server;
  try {
    // Not allowHalfOpen: a client that ends its side during the handshake
    // (it refused our certificate) must be dropped at once, not at the
    // handshake timeout. TlsConnection turns half-open mode on once the
    // handshake succeeded.
    server = createServer({ ...tlsOptions, noDelay });
  } catch (error) {
    throw annotateOsError(api, error);
  }
  return yield* action<TlsServer>((resolve, reject) => {
    let listening = false;
    let abandoned = false;
    const onError = (error: Error): void => reject(annotateOsError(api, error, target));
    server.once("error", onError);
    server.listen({ host, port, backlog }, () => {
      if (abandoned) {
        server.close();
        return;
      }
      listening = true;
      resolve(new TlsServer(server, { lingerMs }));
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
