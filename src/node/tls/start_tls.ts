/**
 * `startTls` and `acceptTls`: TLS over a weft stream that is already open (a
 * `TcpConnection` after a STARTTLS exchange, a tunnel through an HTTP
 * CONNECT proxy, one end of an in-memory `pipe()`).
 */
import type { Socket } from "node:net";
import { TLSSocket, connect as tlsConnect, createSecureContext } from "node:tls";
import { checkCancellation } from "../../core/cancel.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { annotateOsError, formatAddress } from "../net/os_error.ts";
import { releaseSocket, TcpConnection } from "../net/tcp_connection.ts";
import { requireOptions } from "../net/validate.ts";
import type { Reader } from "../../io/reader.ts";
import type { Writer } from "../../io/writer.ts";
import { CipherChannel } from "./cipher_channel.ts";
import { clientTlsOptions, handshake as socketHandshake, type TlsClientOptions } from "./connect_tls.ts";
import { serverTlsOptions, type TlsServerOptions } from "./tls_server.ts";
import { adoptChannel, type PeerInfo, type TlsConnection } from "./tls_connection.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, handshakeTimeoutError } from "./validate.ts";

/**
 * What TLS can run over: any weft `Reader` and `Writer` that can be closed
 * (`shutdownWrite`, when it has one, carries the TLS end of the write side).
 * A hand-made transport that forwards writes to another writer should
 * forward its `cancelledWrite` too, so that a record whose write was
 * cancelled is neither lost nor sent twice.
 *
 * @example
 * ```ts
 * // One end of an in-memory duplex stream made of two pipes.
 * const [reader] = pipe(); // the peer writes into this pipe
 * const [, writer] = pipe(); // and reads from this one
 * const end: TlsTransport = {
 *   read: (buf, offset, length) => reader.read(buf, offset, length),
 *   readSome: (max) => reader.readSome(max),
 *   readExactly: (n) => reader.readExactly(n),
 *   readUntil: (separator) => reader.readUntil(separator),
 *   readLine: () => reader.readLine(),
 *   readAll: () => reader.readAll(),
 *   drop: (n) => reader.drop(n),
 *   get buffered() { return reader.buffered; },
 *   write: (data) => writer.write(data),
 *   writeReader: (source) => writer.writeReader(source),
 *   cancelledWrite: writer.cancelledWrite,
 *   shutdownWrite: () => writer.close(),
 *   close: () => { reader.close(); writer.close(); },
 * };
 * console.log(end.cancelledWrite); // prints "dropped"
 * ```
 */
export type TlsTransport = Reader & Writer & { close(): void; shutdownWrite?: () => void; abort?: () => void };

function requireTransport(api: string, stream: unknown): asserts stream is TlsTransport {
  const s = stream as Partial<TlsTransport> | null;
  if (
    typeof s !== "object" ||
    s === null ||
    typeof s.readSome !== "function" ||
    typeof s.write !== "function" ||
    typeof s.close !== "function"
  ) {
    throw new TypeError(`${api}: stream must be a weft Reader and Writer with close(), got ${describe(stream)}`);
  }
}

/** The addresses of a socket-backed stream (a `TcpConnection`), to report on the TLS connection. */
function peerOf(stream: TlsTransport): PeerInfo | undefined {
  const s = stream as Partial<PeerInfo>;
  if (typeof s.remoteAddress !== "string" || typeof s.remotePort !== "number") return undefined;
  return {
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    localAddress: typeof s.localAddress === "string" ? s.localAddress : "",
    localPort: typeof s.localPort === "number" ? s.localPort : 0,
    family: s.family === 6 ? 6 : 4,
  };
}

/** Reads the verification result a server-side socket keeps internally (Node sets `authorized` only for its own servers). */
function verifyErrorOf(socket: TLSSocket): Error | null {
  const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  return handle?.verifyError?.() ?? null;
}

/**
 * Runs the handshake, driving the channel until `event`; on failure,
 * timeout or cancellation destroys the TLS socket and closes the stream.
 */
function* handshake(
  api: string,
  socket: TLSSocket,
  channel: CipherChannel,
  event: "secureConnect" | "secure",
  timeoutMs: number,
  afterSecure: () => unknown,
): Operation<void> {
  let secure = false;
  let failure: unknown;
  let timedOut = false;
  socket.once(event, () => {
    secure = true;
    channel.notify();
  });
  // Standing: an error reported later is read by the connection's ReadPort; this one only keeps it from being unhandled.
  socket.on("error", (error) => {
    failure ??= error;
    channel.notify();
  });
  channel.watch(socket);
  const timer = setTimeout(() => {
    timedOut = true;
    channel.notify();
  }, timeoutMs);
  try {
    for (;;) {
      if (failure !== undefined) throw annotateOsError(api, failure, "TLS peer");
      if (secure) {
        const refused = afterSecure();
        if (refused !== undefined) throw refused;
        // What the engine still has to send (a client's Finished, a server's
        // session tickets) goes with the connection's first read or write:
        // sending it here could wait on a peer that is itself writing.
        return;
      }
      if (timedOut) throw handshakeTimeoutError(api, timeoutMs, "the TLS peer");
      if (socket.destroyed) {
        if (socket.errored !== null) throw annotateOsError(api, socket.errored, "TLS peer");
        throw Object.assign(new Error(`${api}: the stream ended during the TLS handshake`), { code: "ECONNRESET" });
      }
      yield* channel.wait(true);
    }
  } catch (error) {
    socket.destroy();
    channel.close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Upgrades an open stream to TLS as the client: performs the handshake over
 * it and returns the TLS connection, which then owns the stream (closing
 * the connection closes it). A `TcpConnection` with no bytes left in its
 * read buffer hands its socket to TLS directly, and the result behaves as a
 * {@link connectTls} connection (`close()` sends close_notify); any other
 * stream is driven by the connection's own operations (see
 * {@link TlsConnection.close} for what that changes). Bytes the stream's reader had already buffered
 * are the first the TLS engine reads, so a server that answered STARTTLS
 * and began its handshake in the same packet is handled.
 *
 * The server's certificate is verified (system roots, or `ca`) and its name
 * checked against `servername` (default: the stream's peer IP address when
 * it is a `TcpConnection`). Without either, pass `rejectUnauthorized: false`
 * to skip the check knowingly. A failed, timed out (`handshakeTimeout`,
 * default 10 s) or cancelled handshake closes the stream.
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
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 }); // a mail server offering STARTTLS
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using plain = yield* server.accept();
 *     yield* plain.readLine(); // "STARTTLS"
 *     yield* plain.write("220 ready\n");
 *     using secure = yield* acceptTls(plain, { key, cert });
 *     yield* secure.write("250 secured\n");
 *   });
 *   const tcp = yield* connectTcp({ host: "127.0.0.1", port: server.port });
 *   yield* tcp.write("STARTTLS\n");
 *   yield* tcp.readLine(); // "220 ready"
 *   using tls = yield* startTls(tcp, { servername: "localhost", ca: cert });
 *   console.log(yield* tls.readLine()); // prints 250 secured
 * });
 * ```
 */
export function* startTls(stream: TlsTransport, options?: TlsClientOptions): Operation<TlsConnection> {
  const api = "startTls()";
  requireTransport(api, stream);
  requireOptions(api, options, true);
  const opts = options ?? {};
  const peer = peerOf(stream);
  const host = opts.servername ?? (peer?.remoteAddress === "" ? undefined : peer?.remoteAddress);
  const tlsOptions = clientTlsOptions(api, opts, host);
  if (host === undefined && tlsOptions.rejectUnauthorized !== false) {
    throw new TypeError(`${api}: options.servername is needed to check the server's name (or pass rejectUnauthorized: false)`);
  }
  checkCancellation();
  const timeoutMs = opts.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  // A TcpConnection with nothing buffered hands its socket to Node's TLS
  // directly: the fastest path, and close() can then send close_notify.
  const tcp = stream instanceof TcpConnection ? releaseSocket(stream) : undefined;
  if (tcp !== undefined) {
    const target = peer === undefined ? "the TLS peer" : formatAddress(peer.remoteAddress, peer.remotePort);
    return yield* socketHandshake(api, tcp, tlsOptions, timeoutMs, target, opts.lingerMs);
  }
  const channel = new CipherChannel(stream);
  let socket: TLSSocket;
  try {
    socket = tlsConnect({ ...tlsOptions, socket: channel.stream });
  } catch (error) {
    channel.close();
    throw annotateOsError(api, error);
  }
  yield* handshake(api, socket, channel, "secureConnect", timeoutMs, () => undefined);
  return adoptChannel(socket, { lingerMs: opts.lingerMs }, channel, peer);
}

/**
 * Upgrades an open stream to TLS as the server: performs the handshake over
 * it with the given key and certificate and returns the TLS connection,
 * which then owns the stream (closing the connection closes it). Bytes the
 * stream's reader had already buffered (a client's hello that arrived with
 * its STARTTLS command) are the first the TLS engine reads.
 *
 * With `requestCert`, a client without a valid certificate (verified
 * against `ca`) is refused with Node's code for the reason. A failed, timed
 * out (`handshakeTimeout`, default 10 s) or cancelled handshake closes the
 * stream.
 *
 * @example
 * ```ts
 * const [client, server] = pipe();
 * // in one task: using tls = yield* acceptTls(server, { key, cert });
 * // in another:  using tls = yield* startTls(client, { servername: "localhost", ca });
 * ```
 */
export function* acceptTls(stream: TlsTransport, options: TlsServerOptions): Operation<TlsConnection> {
  const api = "acceptTls()";
  requireTransport(api, stream);
  requireOptions(api, options, false);
  const tlsOptions = serverTlsOptions(api, options);
  checkCancellation();
  const channel = new CipherChannel(stream);
  let socket: TLSSocket;
  try {
    socket = new TLSSocket(channel.stream as unknown as Socket, {
      isServer: true,
      secureContext: createSecureContext(tlsOptions),
      requestCert: tlsOptions.requestCert,
      rejectUnauthorized: true,
      ...(tlsOptions.ALPNProtocols === undefined ? {} : { ALPNProtocols: tlsOptions.ALPNProtocols }),
    });
  } catch (error) {
    channel.close();
    throw annotateOsError(api, error);
  }
  const check = (): unknown => {
    if (tlsOptions.requestCert !== true) return undefined;
    const reason = verifyErrorOf(socket);
    if (reason === null) {
      socket.authorized = true;
      return undefined;
    }
    const code = (reason as { code?: unknown }).code;
    return Object.assign(new Error(`${api}: the client's certificate was refused: ${reason.message}`), {
      code: typeof code === "string" ? code : "ERR_TLS_CERT_REJECTED",
    });
  };
  yield* handshake(api, socket, channel, "secure", options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, check);
  return adoptChannel(socket, { lingerMs: options.lingerMs }, channel, peerOf(stream));
}
