/**
 * `TlsConnection`: an established TLS session as a weft `Reader` and `Writer`.
 */
import type { PeerCertificate, TLSSocket } from "node:tls";
import { Cancelled } from "../../core/errors.ts";
import type { Operation } from "../../core/operation.ts";
import { requireTask } from "../../core/scheduler.ts";
import { DuplexBase } from "../../io/duplex.ts";
import { keepsHandedOver, type GiveBack } from "../../io/writer.ts";
import { annotateOsError, formatAddress } from "../net/os_error.ts";
import { DEFAULT_LINGER_MS } from "../net/tcp_connection.ts";
import { requireOptionalMs, requireOptions } from "../net/validate.ts";
import { ReadPort, WritePort } from "../stream_port.ts";
import type { CipherChannel } from "./cipher_channel.ts";

/**
 * Options for {@link TlsConnection}'s constructor (and, by the same name, for
 * {@link connectTls}, {@link listenTls}, {@link startTls} and {@link acceptTls}).
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
 * using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: cert, lingerMs: 2000 });
 * console.log(conn.authorized); // prints true
 * ```
 */
export interface TlsConnectionOptions {
  /**
   * How long `close()` waits for bytes still queued (and the TLS
   * close_notify) to reach a peer that does not read them before it drops
   * the connection (default 10 000 ms; 0 drops them at once).
   */
  lingerMs?: number;
}

/** The address details of the stream under TLS, when it is not a socket of its own. */
export interface PeerInfo {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  family: 4 | 6;
}

/** Set by {@link adoptChannel} for the constructor it calls: a TLS session over a weft stream. */
let adopting: { channel: CipherChannel; peer: PeerInfo | undefined } | undefined;

const READ_API = "TlsConnection.read()";

/**
 * Wraps a TLS socket whose ciphertext flows through `channel` (see
 * `start_tls.ts`). Not part of the public API.
 */
export function adoptChannel(
  socket: TLSSocket,
  options: TlsConnectionOptions,
  channel: CipherChannel,
  peer: PeerInfo | undefined,
): TlsConnection {
  adopting = { channel, peer };
  try {
    return new TlsConnection(socket, options);
  } finally {
    adopting = undefined;
  }
}

/**
 * A TLS connection, made by {@link connectTls}, {@link TlsServer.accept},
 * {@link startTls} or {@link acceptTls}, once its handshake succeeded. Like a
 * `TcpConnection`, it is a `Reader` (`readLine`, `readExactly`, …) and a
 * `Writer` (`write`, `writeReader`); one task may read while another writes.
 *
 * A cancelled read takes nothing: decrypted bytes that arrived stay buffered
 * for the next read. A cancelled write keeps its bytes queued; they are still
 * sent (over a weft stream, by the next read, write or `close()` of this
 * connection). Errors keep Node's `code` (`ECONNRESET`, `EPIPE`,
 * `ERR_SSL_…`).
 *
 * End of stream: a peer that ends its side with a TLS close_notify and one
 * that just closes the TCP connection without it both give end of stream
 * (`readSome()` → `undefined`): Node's TLS does not tell them apart, so a
 * protocol that must detect truncation has to frame its messages (HTTP's
 * Content-Length, a length prefix). A reset gives `ECONNRESET`.
 *
 * Closing (`close()`, or leaving the block of a `using` declaration) sends
 * close_notify after everything written so far, then closes the socket (or
 * the stream under TLS, which the connection owns).
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
 *   yield* conn.write("HEAD / HTTP/1.0\r\n\r\n");
 *   console.log(yield* conn.readLine()); // prints HEAD / HTTP/1.0 (echoed)
 * });
 * ```
 */
export class TlsConnection extends DuplexBase {
  /** The local IP address ("" when TLS runs over a stream that is not a socket). */
  readonly localAddress: string;
  /** The local port (0 when TLS runs over a stream that is not a socket). */
  readonly localPort: number;
  /** The peer's IP address ("" when TLS runs over a stream that is not a socket). */
  readonly remoteAddress: string;
  /** The peer's port (0 when TLS runs over a stream that is not a socket). */
  readonly remotePort: number;
  /** The address family of the connection. */
  readonly family: 4 | 6;
  /** The application protocol both sides agreed on by ALPN, or `undefined` if none was. */
  readonly alpnProtocol: string | undefined;
  /**
   * True when the peer's certificate was verified against the trusted roots
   * (always true on a client with the default `rejectUnauthorized`; on a
   * server only when it requested client certificates and got a valid one).
   */
  readonly authorized: boolean;
  /** Why the peer's certificate was not verified (Node's code, e.g. `"SELF_SIGNED_CERT_IN_CHAIN"`), if it was not. */
  readonly authorizationError: string | undefined;

  /** @internal It keeps bytes handed over to it (see `writeTransferred`) and gives them back when done. */
  get [keepsHandedOver](): true {
    return true;
  }

  readonly #socket: TLSSocket;
  readonly #reader: ReadPort;
  /** Over a socket (no cipher channel): the one operation every read returns (see `readChunk`). */
  readonly #reading: Operation<Uint8Array | undefined> | undefined;
  readonly #writer: WritePort;
  readonly #channel: CipherChannel | undefined;
  readonly #peer: string;
  readonly #lingerMs: number;
  #closed = false;
  #writeShut = false;
  #aborted = false;

  /**
   * Wraps a TLS socket whose handshake has completed (the connection then
   * owns it). Normally you get a connection from {@link connectTls},
   * {@link TlsServer.accept}, {@link startTls} or {@link acceptTls}.
   *
   * @example
   * ```ts
   * import { join } from "node:path";
   * import { connect } from "node:tls";
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
   * const tlsSocket = connect({ host: "127.0.0.1", port: server.port, ca: cert, servername: "localhost" });
   * yield* call(() => new Promise((resolve) => tlsSocket.once("secureConnect", resolve)));
   * using conn = new TlsConnection(tlsSocket); // after its "secureConnect" event
   * console.log(conn.authorized); // prints true
   * ```
   */
  constructor(socket: TLSSocket, options?: TlsConnectionOptions) {
    super();
    const api = "new TlsConnection()";
    requireOptions(api, options, true);
    requireOptionalMs(api, "options.lingerMs", options?.lingerMs);
    const adopted = adopting;
    adopting = undefined;
    this.#lingerMs = options?.lingerMs ?? DEFAULT_LINGER_MS;
    this.#socket = socket;
    this.#channel = adopted?.channel;
    socket.allowHalfOpen = true;
    // Over a socket the TLS stream flows into the port; over a channel the reads poll it, in paused mode.
    this.#reader = new ReadPort(socket, this.#channel === undefined ? { flowing: true } : { standingListeners: true });
    this.#reading =
      this.#channel === undefined
        ? this.#reader.reading({
            // Woken by our own abort: that is no end of stream from the peer.
            checkOpen: () => {
              if (this.#aborted) throw this.#abortedError(READ_API);
            },
            rename: (error) => this.#renameReadError(error),
          })
        : undefined;
    this.#writer = new WritePort(socket);
    const peer = adopted?.peer;
    this.localAddress = peer?.localAddress ?? socket.localAddress ?? "";
    this.localPort = peer?.localPort ?? socket.localPort ?? 0;
    this.remoteAddress = peer?.remoteAddress ?? socket.remoteAddress ?? "";
    this.remotePort = peer?.remotePort ?? socket.remotePort ?? 0;
    this.family = peer?.family ?? (socket.remoteFamily === "IPv6" ? 6 : 4);
    this.alpnProtocol = typeof socket.alpnProtocol === "string" ? socket.alpnProtocol : undefined;
    this.authorized = socket.authorized;
    const reason: unknown = socket.authorizationError;
    this.authorizationError = reason === undefined || reason === null ? undefined : String((reason as { code?: unknown }).code ?? reason);
    this.#peer = this.remoteAddress === "" ? "TLS peer" : `peer ${formatAddress(this.remoteAddress, this.remotePort)}`;
  }

  /** A cancelled write's bytes stay queued (in the TLS engine, or its ciphertext in the socket or the stream under it) and are still sent (see `Writer.cancelledWrite`). */
  get cancelledWrite(): "queued" {
    return "queued";
  }

  /** True once the connection was closed. */
  protected get isClosed(): boolean {
    return this.#closed && !this.#aborted;
  }

  /** True once the connection was closed or its write side shut down (not aborted: writes then report the abort). */
  protected override get isWriteClosed(): boolean {
    return (this.#closed && !this.#aborted) || this.#writeShut;
  }

  /**
   * The certificate the peer presented (`undefined` if it presented none),
   * in Node's form (`subject`, `issuer`, `valid_to`, `fingerprint256`, …).
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
   * using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: cert });
   * console.log(conn.peerCertificate()?.subject.CN); // prints localhost
   * ```
   */
  peerCertificate(): PeerCertificate | undefined {
    const cert = this.#socket.getPeerCertificate();
    return cert === null || Object.keys(cert).length === 0 ? undefined : cert;
  }

  /**
   * The next decrypted bytes; `undefined` once the peer has ended its side.
   * Over a socket, one hand-written operation reused by every read (as
   * `TcpConnection`'s): a read that waits costs no generator.
   */
  protected readChunk(): Operation<Uint8Array | undefined> {
    return this.#reading ?? this.#readThroughChannel();
  }

  *#readThroughChannel(): Operation<Uint8Array | undefined> {
    if (this.#aborted) throw this.#abortedError(READ_API);
    let chunk: Uint8Array | undefined;
    try {
      chunk = yield* this.#readDecrypted(this.#channel!);
    } catch (error) {
      throw this.#renameReadError(error);
    }
    // Woken by our own abort: that is no end of stream from the peer.
    if (this.#aborted) throw this.#abortedError(READ_API);
    return chunk;
  }

  #renameReadError(error: unknown): unknown {
    return this.#aborted ? this.#abortedError(READ_API) : annotateOsError(READ_API, error, this.#peer);
  }

  *#readDecrypted(channel: CipherChannel): Operation<Uint8Array | undefined> {
    let waited = false;
    for (;;) {
      if (waited && requireTask("read()").cancelDue) throw new Cancelled();
      const got = this.#reader.poll();
      if (got !== null) return got;
      waited = true;
      yield* channel.wait(true);
    }
  }

  #abortedError(api: string): Error {
    const error = new Error(`${api}: the connection was aborted by abort() on this side (${this.#peer})`);
    return Object.assign(error, { code: "ECONNABORTED" });
  }

  /** Encrypts and sends `bytes`; waits until the socket (or the stream under TLS) has taken them. */
  protected *writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void> {
    const api = "TlsConnection.write()";
    if (this.#aborted) throw this.#abortedError(api);
    try {
      const channel = this.#channel;
      if (channel === undefined) yield* this.#writer.write(bytes, giveBack);
      else yield* writeThrough(this.#socket, channel, bytes, giveBack);
    } catch (error) {
      throw this.#aborted ? this.#abortedError(api) : annotateOsError(api, error, this.#peer);
    }
    // Woken by our own abort while waiting for room: the queued bytes were dropped, not sent.
    if (this.#aborted) throw this.#abortedError(api);
  }

  /**
   * Ends the writing half: sends close_notify after everything written
   * before; the peer reads end of stream and this side can still read (TLS
   * 1.3; a TLS 1.2 peer may close its side in answer). Writing afterwards
   * throws `WeftUsageError`. Idempotent. Over a weft stream, the close_notify
   * goes out with this connection's next read.
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
   *   group.startSoon(function* () {
   *     using peer = yield* server.accept();
   *     const request = (yield* peer.readAll()).text(); // until the client's shutdownWrite
   *     yield* peer.write(`got ${request}`);
   *   });
   *   using conn = yield* connectTls({ host: "127.0.0.1", port: server.port, ca: cert });
   *   yield* conn.write("a request");
   *   conn.shutdownWrite();
   *   const reply = yield* conn.readAll();
   *   console.log(reply.text()); // prints got a request
   * });
   * ```
   */
  shutdownWrite(): void {
    if (this.#closed || this.#writeShut) return;
    this.#writeShut = true;
    if (!this.#socket.destroyed && !this.#socket.writableEnded) this.#socket.end();
  }

  /**
   * Closes the connection: sends close_notify after the bytes already
   * written, then closes the socket; if they are not all handed to the
   * system within the linger time (`lingerMs`, 10 s by default) the socket is
   * dropped then. Over a weft stream (after {@link acceptTls}, or
   * {@link startTls} on anything but a `TcpConnection` with nothing buffered)
   * `close()` cannot wait for the stream, so it closes the
   * stream at once: what the TLS engine still had to send, close_notify
   * included, is dropped (the peer sees the stream end without close_notify,
   * which it treats as end of stream). Reading or writing afterwards throws
   * `WeftUsageError`. Idempotent.
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
   * function* talk(conn: TlsConnection): Operation<void> {
   *   yield* conn.write("hi\n");
   * }
   * using server = yield* listenTls({ host: "127.0.0.1", port: 0, key, cert });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(function* () {
   *     using peer = yield* server.accept();
   *     console.log(yield* peer.readLine()); // prints hi
   *   });
   *   const [host, port] = ["127.0.0.1", server.port];
   *   const conn = yield* connectTls({ host, port, ca: cert });
   *   try { yield* talk(conn); } finally { conn.close(); }
   * });
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    const channel = this.#channel;
    if (channel !== undefined) {
      socket.destroy();
      channel.close();
      return;
    }
    if (socket.destroyed) return;
    if (this.#lingerMs === 0) {
      socket.destroy();
      return;
    }
    // end() sends close_notify; the socket is destroyed once it and the bytes
    // before it are flushed, or when the linger time is up. A plain timer, as
    // in TcpConnection.close().
    const destroy = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(destroy, this.#lingerMs);
    timer.unref();
    socket.once("finish", destroy);
    socket.once("close", destroy);
    if (!socket.writableEnded) socket.end();
    else if (socket.writableFinished) destroy();
  }

  /**
   * Drops the connection at once, with no close_notify and no linger: bytes
   * still queued are discarded and the socket is destroyed now, also when a
   * `close()` was still letting them drain. On a socket the peer sees the
   * connection end without close_notify (Node's TLS socket cannot send a
   * reset). Over a weft stream (see `close()`) the stream under TLS is
   * aborted when it has an `abort()` (a `TcpConnection`: a reset), else closed. A task blocked in a read or a write on this
   * connection, and every later read or write, throws an error with code
   * `ECONNABORTED`. Idempotent; any task may call it (see
   * `TlsServer.connections`).
   *
   * @example
   * ```ts
   * function dropAll(server: TlsServer): void {
   *   for (const conn of server.connections) conn.abort(); // every client, now, without close_notify
   * }
   * console.log(typeof dropAll); // prints function
   * ```
   */
  abort(): void {
    if (this.#aborted) return;
    const socket = this.#socket;
    const channel = this.#channel;
    if (this.#closed && socket.destroyed && channel === undefined) return;
    this.#aborted = true;
    this.#closed = true;
    socket.destroy();
    channel?.abort();
  }
}

/** Writes `bytes` to a TLS socket whose ciphertext goes through `channel`, and sends that ciphertext. */
function* writeThrough(socket: TLSSocket, channel: CipherChannel, bytes: Uint8Array, giveBack: GiveBack | null): Operation<void> {
  if (socket.destroyed || socket.writableEnded) {
    throw Object.assign(new Error("write(): the stream is closed for writing"), { code: "EPIPE" });
  }
  let done = false;
  let failure: Error | null | undefined = null;
  socket.write(giveBack === null ? Buffer.from(bytes) : bytes, (error) => {
    giveBack?.();
    done = true;
    failure = error;
    channel.notify();
  });
  for (;;) {
    yield* channel.flush();
    if (done) {
      if (failure) throw failure;
      return;
    }
    if (socket.destroyed) {
      throw socket.errored ?? Object.assign(new Error("write(): the stream was closed"), { code: "EPIPE" });
    }
    yield* channel.wait(false);
  }
}
