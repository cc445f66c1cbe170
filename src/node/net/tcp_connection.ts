/**
 * `TcpConnection`: a connected TCP socket as a weft `Reader` and `Writer`.
 */
import type { Socket } from "node:net";
import { FINISHED, type Operation } from "../../core/operation.ts";
import { DuplexBase } from "../../io/duplex.ts";
import { keepsHandedOver } from "../../io/writer.ts";
import { ReadPort, WritePort } from "../stream_port.ts";
import { annotateOsError, formatAddress } from "./os_error.ts";
import { requireOptionalBoolean, requireOptionalMs } from "./validate.ts";

const READ_API = "TcpConnection.read()";

/**
 * How long, by default, `close()` lets unsent bytes drain to a peer that does
 * not read before the socket is destroyed anyway, so that a stuck peer cannot
 * keep the process alive.
 */
export const DEFAULT_LINGER_MS = 10_000;

/**
 * Options for {@link TcpConnection}'s constructor (and, by the same name, for
 * {@link connectTcp} and {@link listenTcp}).
 *
 * @example
 * ```ts
 * import { connect } from "node:net";
 *
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * const socket = connect(server.port, "127.0.0.1");
 * yield* call(() => new Promise((resolve) => socket.once("connect", resolve)));
 * using conn = new TcpConnection(socket, { lingerMs: 2000 });
 * console.log(conn.remotePort === server.port); // prints true
 * ```
 */
export interface TcpConnectionOptions {
  /**
   * How long `close()` waits for bytes still queued to reach a peer that
   * does not read them before it drops the connection (default 10 000 ms;
   * 0 drops them at once).
   */
  lingerMs?: number;
}

/** Set by TcpConnection's static block; see {@link releaseSocket}. */
let release: (conn: TcpConnection) => Socket | undefined;

/**
 * Takes the socket out of a connection for a protocol that runs over it from
 * now on (TLS after STARTTLS): the connection counts as closed, the socket
 * stays open and belongs to the caller. Returns `undefined`, changing
 * nothing, when the socket cannot be handed over as it is: the connection is
 * closed or its write side shut down, bytes are still queued for sending,
 * or the reader holds buffered bytes the socket no longer has. Not part of
 * the public API.
 */
export function releaseSocket(conn: TcpConnection): Socket | undefined {
  return release(conn);
}

function familyOf(name: string | undefined): 4 | 6 {
  return name === "IPv6" ? 6 : 4;
}

/**
 * A TCP connection, made by {@link connectTcp} or {@link TcpServer.accept}.
 * It is a `Reader` (`readLine`, `readExactly`, …) and a `Writer` (`write`,
 * `writeReader`); one task may read while another writes.
 *
 * A cancelled read takes nothing: bytes that arrived, even the first half of
 * a `readExactly`, stay buffered for the next read. A cancelled write keeps
 * its bytes queued; they are still sent. Errors keep Node's `code`
 * (`ECONNRESET`, `EPIPE`, …) and name the peer.
 *
 * While nobody reads, what the peer sends is taken from the kernel only up
 * to about twice the socket's high-water mark (`readableHighWaterMark`):
 * once in the connection's own queue, once in Node's stream. The rest waits
 * in the kernel, and TCP flow control then stops the peer.
 *
 * Closing (`close()`, or leaving the block of a `using` declaration) gives
 * the peer end of stream after everything written so far.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(() => server.serve(function* (peer) { yield* peer.writeReader(peer); }), { daemon: true }); // an echo service
 *   using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
 *   yield* conn.write("hello\n");
 *   console.log(yield* conn.readLine()); // prints hello
 * });
 * ```
 */
export class TcpConnection extends DuplexBase {
  /** The local IP address. */
  readonly localAddress: string;
  /** The local port. */
  readonly localPort: number;
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** The peer's port. */
  readonly remotePort: number;
  /** The address family of the connection. */
  readonly family: 4 | 6;

  /** @internal It keeps bytes handed over to it (see `writeTransferred`) and gives them back when done. */
  get [keepsHandedOver](): true {
    return true;
  }

  readonly #socket: Socket;
  readonly #reader: ReadPort;
  /** The one operation every read returns (see `readChunk`). */
  readonly #reading: Operation<Uint8Array | undefined>;
  readonly #writer: WritePort;
  readonly #peer: string;
  readonly #lingerMs: number;
  #closed = false;
  #writeShut = false;
  #aborted = false;
  #released = false;

  /**
   * Wraps a connected Node socket (the connection then owns it). Normally you
   * get a connection from {@link connectTcp} or {@link TcpServer.accept}.
   * The socket is switched to half-open mode, so that the peer's end of
   * stream does not end our side too (see {@link TcpConnection.shutdownWrite}).
   *
   * @example
   * ```ts
   * import * as net from "node:net";
   *
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * const socket = net.connect(server.port, "127.0.0.1");
   * yield* call(() => new Promise((resolve) => socket.once("connect", resolve)));
   * using conn = new TcpConnection(socket); // after its "connect" event
   * console.log(conn.remoteAddress); // prints 127.0.0.1
   * ```
   */
  constructor(socket: Socket, options?: TcpConnectionOptions) {
    super();
    const lingerMs = options?.lingerMs;
    requireOptionalMs("new TcpConnection()", "options.lingerMs", lingerMs);
    this.#lingerMs = lingerMs ?? DEFAULT_LINGER_MS;
    this.#socket = socket;
    socket.allowHalfOpen = true;
    this.#reader = new ReadPort(socket, { flowing: true });
    this.#reading = this.#reader.reading({
      // Woken by our own reset: that is no end of stream from the peer.
      checkOpen: () => {
        if (this.#aborted) throw this.#abortedError(READ_API);
      },
      rename: (error) => (this.#aborted ? this.#abortedError(READ_API) : annotateOsError(READ_API, error, this.#peer)),
    });
    this.#writer = new WritePort(socket);
    this.localAddress = socket.localAddress ?? "";
    this.localPort = socket.localPort ?? 0;
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.family = familyOf(socket.remoteFamily);
    this.#peer = `peer ${formatAddress(this.remoteAddress, this.remotePort)}`;
  }

  static {
    release = (conn) => conn.#release();
  }

  #release(): Socket | undefined {
    const socket = this.#socket;
    if (this.#closed || this.#writeShut || this.buffered > 0 || this.#reader.queued > 0) return undefined;
    if (socket.destroyed || socket.writableLength > 0 || socket.writableEnded) return undefined;
    this.#closed = true;
    this.#released = true;
    this.#reader.detach();
    return socket;
  }

  /** A cancelled write's bytes stay queued in the socket and are still sent (see `Writer.cancelledWrite`). */
  get cancelledWrite(): "queued" {
    return "queued";
  }

  /** True once the connection was closed (not aborted: reads then report the abort). */
  protected get isClosed(): boolean {
    return this.#closed && !this.#aborted;
  }

  /** True once the connection was closed or its write side shut down (not aborted: writes then report the abort). */
  protected override get isWriteClosed(): boolean {
    return (this.#closed && !this.#aborted) || this.#writeShut;
  }

  /**
   * The next bytes from the peer; `undefined` once the peer has ended its
   * side. One hand-written operation, reused by every read (the reader runs
   * one at a time): a read that waits costs no generator.
   */
  protected readChunk(): Operation<Uint8Array | undefined> {
    return this.#reading;
  }

  /**
   * Sends `bytes` and waits until the socket has taken them. Not a generator:
   * when the socket has room (the common case) the bytes are queued here and
   * a finished operation is returned, so a write costs no generator of its own.
   */
  protected writeChunk(bytes: Uint8Array, giveBack: (() => void) | null): Operation<void> {
    const api = "TcpConnection.write()";
    if (this.#aborted) throw this.#abortedError(api);
    let room: boolean;
    try {
      room = this.#writer.offer(bytes, giveBack);
    } catch (error) {
      throw annotateOsError(api, error, this.#peer);
    }
    return room ? FINISHED : this.#waitDrain(api);
  }

  *#waitDrain(api: string): Operation<void> {
    try {
      yield* this.#writer.waitDrain();
    } catch (error) {
      throw this.#aborted ? this.#abortedError(api) : annotateOsError(api, error, this.#peer);
    }
    // Woken by our own reset while waiting for room: the queued bytes were dropped, not sent.
    if (this.#aborted) throw this.#abortedError(api);
  }

  #abortedError(api: string): Error {
    const error = new Error(`${api}: the connection was aborted by abort() on this side (${this.#peer})`);
    return Object.assign(error, { code: "ECONNABORTED" });
  }

  /**
   * Ends the writing half: the peer reads end of stream once it has read
   * everything written before, and this side can still read. Writing
   * afterwards throws `WeftUsageError`. Idempotent.
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(function* () {
   *     using peer = yield* server.accept();
   *     const request = (yield* peer.readAll()).text(); // until the client's shutdownWrite
   *     yield* peer.write(`got ${request.length} bytes`);
   *   });
   *   using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   *   yield* conn.write("a request");
   *   conn.shutdownWrite(); // "that was all"
   *   const reply = yield* conn.readAll();
   *   console.log(reply.text()); // prints got 9 bytes
   * });
   * ```
   */
  shutdownWrite(): void {
    if (this.#closed || this.#writeShut) return;
    this.#writeShut = true;
    if (!this.#socket.destroyed && !this.#socket.writableEnded) this.#socket.end();
  }

  /**
   * Closes the connection. Bytes already written are still delivered, then
   * the peer reads end of stream; if they are not all handed to the system
   * within the linger time (`lingerMs`, 10 s by default: a peer that stopped
   * reading) the socket is dropped then, and its file descriptor released. Reading or writing afterwards throws
   * `WeftUsageError`; a task blocked in a read is woken with end of stream
   * once the socket is released (at once when nothing was left to send).
   * Idempotent.
   *
   * As with any TCP socket, closing while unread bytes from the peer are
   * waiting in the kernel makes the kernel reset the connection instead.
   *
   * @example
   * ```ts
   * function* talk(conn: TcpConnection): Operation<void> {
   *   yield* conn.write("hi\n");
   * }
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * const [host, port] = ["127.0.0.1", server.port];
   * const conn = yield* connectTcp({ host, port });
   * try { yield* talk(conn); } finally { conn.close(); }
   * using peer = yield* server.accept();
   * console.log(yield* peer.readLine()); // prints hi
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (socket.writableLength === 0 || socket.writableFinished) {
      socket.destroy();
      return;
    }
    if (this.#lingerMs === 0) {
      socket.destroy();
      return;
    }
    // Bytes are still queued in Node: end after them and destroy once
    // flushed, or when the linger time is up. A plain timer, not
    // socket.setTimeout(): Node's idle timeout re-arms itself once when the
    // write queue changed since the write began, which doubled the bound.
    const destroy = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(destroy, this.#lingerMs);
    // The socket itself keeps the process alive until it is destroyed.
    timer.unref();
    socket.once("finish", destroy);
    socket.once("close", destroy);
    if (!socket.writableEnded) socket.end();
  }

  /**
   * Drops the connection at once: the socket is reset (the peer's next read or
   * write fails with `ECONNRESET`), bytes still queued for sending are
   * discarded, and its file descriptor is released now, with no linger, also
   * when a `close()` was still letting queued bytes drain. A task blocked in
   * a read or a write on this connection, and every later read or write,
   * throws an error with code `ECONNABORTED` (bytes already buffered for
   * reading may still be read first). Idempotent. Any task may call it: a
   * server drops a client that another task is handling (see
   * {@link TcpServer.connections}).
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * using client = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   * using served = yield* server.accept();
   * served.abort(); // reset, no linger
   * try {
   *   yield* client.readLine();
   * } catch (e) {
   *   console.log((e as { code?: string }).code); // prints ECONNRESET
   * }
   * ```
   */
  abort(): void {
    if (this.#aborted) return;
    const socket = this.#socket;
    // Released to TLS (STARTTLS), or closed and gone already: nothing of ours to reset.
    if (this.#released || (this.#closed && socket.destroyed)) return;
    this.#aborted = true;
    this.#closed = true;
    if (socket.destroyed) return;
    const reset = (socket as { resetAndDestroy?: () => void }).resetAndDestroy;
    // resetAndDestroy sets SO_LINGER to 0 and closes: the kernel sends RST. Hosts without it just destroy.
    if (typeof reset === "function") reset.call(socket);
    else socket.destroy();
  }

  /**
   * Turns Nagle's algorithm off (`true`, the default for weft connections:
   * small writes go out at once) or on.
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   * conn.setNoDelay(false); // batch many tiny writes (Nagle's algorithm)
   * console.log("Nagle on"); // prints Nagle on
   * ```
   */
  setNoDelay(noDelay = true): void {
    requireOptionalBoolean("TcpConnection.setNoDelay()", "noDelay", noDelay);
    this.#socket.setNoDelay(noDelay);
  }

  /**
   * Enables or disables TCP keep-alive probes, the first after
   * `initialDelayMs` of idleness (0: the system default).
   *
   * @example
   * ```ts
   * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
   * using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port });
   * conn.setKeepAlive(true, 60_000); // probe an idle peer after a minute
   * console.log("keep-alive on"); // prints keep-alive on
   * ```
   */
  setKeepAlive(enable: boolean, initialDelayMs = 0): void {
    const api = "TcpConnection.setKeepAlive()";
    requireOptionalBoolean(api, "enable", enable);
    requireOptionalMs(api, "initialDelayMs", initialDelayMs);
    this.#socket.setKeepAlive(enable, initialDelayMs);
  }
}
