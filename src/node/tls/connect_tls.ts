/**
 * `connectTls`: a TLS connection to a host: a TCP connection made as
 * `connectTcp` makes it (happy eyeballs), then a TLS handshake over it.
 */
import type { Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { action } from "../../core/action.ts";
import type { Operation } from "../../core/operation.ts";
import { connectSocket, type ConnectTcpOptions } from "../net/connect_tcp.ts";
import { annotateOsError, formatAddress } from "../net/os_error.ts";
import { literalAddress } from "../net/resolve_host.ts";
import { requireOptionalBoolean, requireOptionalMs, requireOptions } from "../net/validate.ts";
import { TlsConnection } from "./tls_connection.ts";
import {
  type Credential,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  handshakeTimeoutError,
  requireAlpn,
  requireCredential,
  requireHandshakeTimeout,
  requireOptionalName,
  toNodeCredential,
} from "./validate.ts";

const API = "connectTls()";

/**
 * The client side of a TLS handshake: what {@link connectTls} and
 * {@link startTls} accept.
 *
 * @example
 * ```ts
 * const options: TlsClientOptions = { servername: "mail.example.com", alpn: ["smtp"] };
 * ```
 */
export interface TlsClientOptions {
  /**
   * The server name sent by SNI and checked against the certificate. Default
   * for {@link connectTls}: `host` when it is a name (an IP literal is
   * checked against the certificate's IP addresses and sends no SNI).
   */
  servername?: string;
  /** Trusted root certificates (PEM); they replace the system's roots. */
  ca?: Credential;
  /** A client certificate chain (PEM), for servers that ask for one. */
  cert?: Credential;
  /** The private key of `cert` (PEM). */
  key?: Credential;
  /**
   * Verify the server's certificate and name (default `true`). With `false`
   * the connection is made anyway and {@link TlsConnection.authorized} says
   * whether it would have passed.
   */
  rejectUnauthorized?: boolean;
  /** Application protocols to offer by ALPN, most preferred first (e.g. `["h2", "http/1.1"]`). */
  alpn?: readonly string[];
  /** How long the handshake may take before it fails with `ERR_TLS_HANDSHAKE_TIMEOUT` (default 10 000 ms). */
  handshakeTimeout?: number;
  /** How long `close()` lets queued bytes drain (see {@link TlsConnection.close}). */
  lingerMs?: number;
}

/**
 * Options for {@link connectTls}: those of `connectTcp` and those of the
 * TLS client.
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
 *   using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: cert }); // trusts this certificate only
 *   yield* conn.write("hello\n");
 *   console.log(yield* conn.readLine()); // prints hello
 * });
 * ```
 */
export interface ConnectTlsOptions extends ConnectTcpOptions, TlsClientOptions {}

/** Checks the TLS client options and turns them into Node's. */
export function clientTlsOptions(api: string, options: TlsClientOptions, host: string | undefined): ConnectionOptions {
  const { servername, ca, cert, key, rejectUnauthorized = true, alpn, handshakeTimeout, lingerMs } = options;
  requireOptionalName(api, "options.servername", servername);
  requireCredential(api, "options.ca", ca, true);
  requireCredential(api, "options.cert", cert, true);
  requireCredential(api, "options.key", key, true);
  if ((cert === undefined) !== (key === undefined)) throw new TypeError(`${api}: options.cert and options.key go together`);
  requireOptionalBoolean(api, "options.rejectUnauthorized", rejectUnauthorized);
  requireAlpn(api, alpn);
  requireHandshakeTimeout(api, handshakeTimeout);
  requireOptionalMs(api, "options.lingerMs", lingerMs);
  if (servername !== undefined && literalAddress(servername) !== undefined) {
    throw new RangeError(`${api}: options.servername must be a host name, not an IP address (got ${servername})`);
  }
  const sni = servername ?? (host !== undefined && literalAddress(host) === undefined ? host : undefined);
  return {
    ...(sni === undefined ? {} : { servername: sni }),
    ...(host === undefined ? {} : { host }),
    ca: toNodeCredential(ca),
    cert: toNodeCredential(cert),
    key: toNodeCredential(key),
    rejectUnauthorized,
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  };
}

const ignore = (): void => {};

/**
 * The client handshake over a connected TCP socket (which it takes over);
 * cancelled, failed or timed out, it destroys the socket. Bytes already in
 * the socket's own buffer are the first the TLS engine reads (Node's TLS
 * takes them over).
 */
export function handshake(
  api: string,
  tcp: Socket,
  tlsOptions: ConnectionOptions,
  timeoutMs: number,
  target: string,
  lingerMs: number | undefined,
): Operation<TlsConnection> {
  return action<TlsConnection>((resolve, reject) => {
    let socket: TLSSocket;
    try {
      socket = tlsConnect({ ...tlsOptions, socket: tcp });
    } catch (error) {
      tcp.destroy();
      reject(annotateOsError(api, error, target));
      return;
    }
    let secure = false;
    const onSecure = (): void => {
      secure = true;
      resolve(new TlsConnection(socket, { lingerMs }));
    };
    const onError = (error: Error): void => reject(annotateOsError(api, error, target));
    const onClose = (): void =>
      reject(Object.assign(new Error(`${api}: ${target} closed the connection during the TLS handshake`), { code: "ECONNRESET" }));
    const timer = setTimeout(() => reject(handshakeTimeoutError(api, timeoutMs, target)), timeoutMs);
    socket.once("secureConnect", onSecure);
    socket.on("error", onError);
    socket.once("close", onClose);
    return () => {
      clearTimeout(timer);
      socket.off("secureConnect", onSecure);
      socket.off("error", onError);
      socket.off("close", onClose);
      if (!secure) {
        socket.on("error", ignore);
        socket.destroy();
        tcp.destroy();
      }
    };
  });
}

/**
 * Connects to `host:port` and performs a TLS handshake; returns the
 * connection once the server's certificate was verified.
 *
 * The TCP connection is made as {@link connectTcp} makes it (name
 * resolution, happy eyeballs across addresses). The server's certificate is
 * verified by default, against the system's roots or, when `ca` is given,
 * against those roots only, and its name must match `servername` (default:
 * `host` when it is a name). A failed verification throws with Node's `code`
 * (`ERR_TLS_CERT_ALTNAME_INVALID`, `SELF_SIGNED_CERT_IN_CHAIN`,
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …); a handshake that takes longer than
 * `handshakeTimeout` throws `ERR_TLS_HANDSHAKE_TIMEOUT`.
 *
 * Cancellation (or any failure) at any step closes the socket. As with
 * `connectTcp`, a connection that completed in the round the caller was
 * cancelled is returned, and the caller owns it.
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
 * using server = yield* listenTls({ host: "127.0.0.1", port: 0, key, cert, alpn: ["http/1.1"] });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using peer = yield* server.accept();
 *     yield* peer.readUntil("\r\n\r\n");
 *     yield* peer.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello");
 *   });
 *   using conn = yield* connectTls({ host: "localhost", port: server.port, ca: cert, alpn: ["http/1.1"] });
 *   yield* conn.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
 *   console.log(conn.alpnProtocol, (yield* conn.readAll()).text().endsWith("hello")); // prints http/1.1 true
 * });
 * ```
 */
export function* connectTls(options: ConnectTlsOptions): Operation<TlsConnection> {
  requireOptions(API, options, false);
  const host = typeof options.host === "string" ? options.host : undefined;
  const tlsOptions = clientTlsOptions(API, options, host);
  const timeoutMs = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const tcp = yield* connectSocket(API, options, (socket) => {
    // Until TLS takes the socket over, an error it reports is kept here, not left unhandled.
    const held = { socket, error: undefined as unknown, close: () => socket.destroy() };
    socket.on("error", (error) => {
      held.error ??= error;
    });
    return held;
  });
  const target = formatAddress(options.host, options.port);
  try {
    if (tcp.error !== undefined) throw annotateOsError(API, tcp.error, target);
    return yield* handshake(API, tcp.socket, tlsOptions, timeoutMs, target, options.lingerMs);
  } catch (error) {
    tcp.close();
    throw error;
  }
}
