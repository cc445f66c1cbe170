/**
 * `bindUdp` and `UdpSocket`: datagrams sent and received from weft tasks.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { isIPv6 } from "node:net";
import { action } from "../../core/action.ts";
import { checkCancellation } from "../../core/cancel.ts";
import { WeftUsageError } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import { toBytes } from "../../io/writer.ts";
import { Queue, QueueClosed } from "../../sync/queue.ts";
import { annotateOsError, formatAddress } from "./os_error.ts";
import { requireHost, requireOptionalBoolean, requireOptionalCount, requireOptions, requirePort } from "./validate.ts";

const ignore = (): void => {};

/** Default bound on datagrams waiting for `recv()`. */
const DEFAULT_MAX_QUEUED = 1024;

/**
 * Options for {@link bindUdp}.
 *
 * @example
 * ```ts
 * using socket = yield* bindUdp({ host: "127.0.0.1", port: 0, type: "udp4" });
 * console.log(socket.family); // prints 4
 * ```
 */
export interface BindUdpOptions {
  /** The address to bind (default: every interface of the socket's family). */
  host?: string;
  /** The port, 0–65535 (default 0: any free port). */
  port?: number;
  /** `"udp4"` or `"udp6"` (default: `"udp6"` for an IPv6 literal host, else `"udp4"`). */
  type?: "udp4" | "udp6";
  /**
   * How many received datagrams may wait for `recv()` (default 1024). When
   * the queue is full, newly arriving datagrams are dropped (as the kernel
   * drops them when its buffer is full) and counted in {@link UdpSocket.dropped}.
   */
  maxQueued?: number;
  /** Allow other sockets to bind the same address and port (SO_REUSEADDR). */
  reuseAddr?: boolean;
}

/**
 * A received datagram and who sent it.
 *
 * @example
 * ```ts
 * using server = yield* bindUdp({ host: "127.0.0.1", port: 0 });
 * using client = yield* bindUdp({ host: "127.0.0.1", port: 0 });
 * yield* client.send("ping", server.port, "127.0.0.1");
 * const { data, address, port } = yield* server.recv();
 * yield* server.send(data, port, address); // echo it back
 * console.log(new TextDecoder().decode((yield* client.recv()).data)); // prints ping
 * ```
 */
export interface Datagram {
  /** The payload. */
  readonly data: Uint8Array;
  /** The sender's IP address. */
  readonly address: string;
  /** The sender's port. */
  readonly port: number;
  /** The sender's address family. */
  readonly family: 4 | 6;
}

/**
 * A bound UDP socket, made by {@link bindUdp}.
 *
 * Node delivers datagrams as they arrive; those that arrive while no task is
 * in `recv()` wait in a bounded queue (see {@link BindUdpOptions.maxQueued}).
 * A cancelled `recv()` takes none of them.
 *
 * @example
 * ```ts
 * using echo = yield* bindUdp({ host: "127.0.0.1", port: 0 });
 * const serverPort = echo.port;
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     const { data, address, port } = yield* echo.recv();
 *     yield* echo.send(data, port, address);
 *   });
 *   using socket = yield* bindUdp({ host: "127.0.0.1", port: 0 });
 *   yield* socket.send("ping", serverPort, "127.0.0.1");
 *   const reply = yield* withTimeout(1000, () => socket.recv());
 *   console.log(new TextDecoder().decode(reply.data)); // prints ping
 * });
 * ```
 */
export class UdpSocket {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** The bound IP address. */
  readonly address: string;
  /** The bound address family. */
  readonly family: 4 | 6;

  readonly #socket: Socket;
  /** Received datagrams that wait for `recv()`; FIFO to the waiting receives. */
  readonly #queue = new Queue<Datagram>();
  readonly #maxQueued: number;
  #dropped = 0;
  #error: unknown = undefined;
  #closed = false;

  /** Takes over a bound Node dgram socket (used by {@link bindUdp}). */
  constructor(socket: Socket, maxQueued: number = DEFAULT_MAX_QUEUED) {
    requireOptionalCount("new UdpSocket()", "maxQueued", maxQueued, 1);
    const bound = socket.address();
    this.#socket = socket;
    this.#maxQueued = maxQueued;
    this.port = bound.port;
    this.address = bound.address;
    this.family = bound.family === "IPv6" ? 6 : 4;
    const target = formatAddress(bound.address, bound.port);
    socket.on("message", (data: Buffer, from: RemoteInfo) => {
      if (this.#queue.size >= this.#maxQueued) {
        this.#dropped++;
        return;
      }
      this.#queue.tryPut({ data, address: from.address, port: from.port, family: from.family === "IPv6" ? 6 : 4 });
    });
    socket.on("error", (error) => {
      this.#error ??= annotateOsError("UdpSocket", error, target);
      this.#queue.close();
    });
  }

  /** How many received datagrams wait for `recv()`. */
  get pending(): number {
    return this.#queue.size;
  }

  /** How many datagrams were dropped because the receive queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Sends one datagram (a string is sent as UTF-8) to `host:port` and waits
   * until Node has handed it to the system. The bytes are copied first, so
   * the caller may reuse its buffer even if the send is cancelled (a
   * datagram already handed over is still sent). Errors keep Node's `code`.
   *
   * @example
   * ```ts
   * using server = yield* bindUdp({ host: "127.0.0.1", port: 0 });
   * using client = yield* bindUdp({ host: "127.0.0.1", port: 0 });
   * const socket = client;
   * yield* socket.send(JSON.stringify({ ping: 1 }), server.port, "127.0.0.1");
   * console.log(new TextDecoder().decode((yield* server.recv()).data)); // prints {"ping":1}
   * ```
   */
  *send(data: string | Uint8Array, port: number, host: string): Operation<void> {
    const api = "UdpSocket.send()";
    const bytes = Buffer.from(toBytes(api, data));
    requirePort(api, "port", port, 1);
    requireHost(api, "host", host);
    if (this.#closed) throw new WeftUsageError(`${api}: the socket is closed`);
    const target = formatAddress(host, port);
    yield* action<void>((resolve, reject) => {
      this.#socket.send(bytes, port, host, (error) => {
        if (error === null || error === undefined) resolve();
        else reject(annotateOsError(api, error, target));
      });
    });
  }

  /**
   * Waits for the next datagram and returns it (at once if one is queued).
   * Throws `WeftUsageError` once the socket is closed (also when it is closed
   * while waiting), and the socket's error if it reported one. Several tasks
   * may wait; each datagram goes to one of them.
   *
   * @example
   * ```ts
   * using server = yield* bindUdp({ host: "127.0.0.1", port: 0 });
   * using client = yield* bindUdp({ host: "127.0.0.1", port: 0 });
   * yield* client.send("hello", server.port, "127.0.0.1");
   * const { data, address } = yield* server.recv();
   * console.log(`${new TextDecoder().decode(data)} from ${address}`); // prints hello from 127.0.0.1
   * ```
   */
  *recv(): Operation<Datagram> {
    this.#checkOpen();
    checkCancellation();
    try {
      // A cancelled get takes no datagram (the queue's own guarantee).
      return yield* this.#queue.get();
    } catch (error) {
      if (error instanceof QueueClosed) this.#checkOpen();
      throw error;
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new WeftUsageError("UdpSocket.recv(): the socket is closed");
    if (this.#error !== undefined) throw this.#error;
  }

  /**
   * Closes the socket; queued datagrams are discarded and tasks blocked in
   * `recv()` get `WeftUsageError`. Idempotent.
   *
   * @example
   * ```ts
   * function* serve(socket: UdpSocket): Operation<void> {
   *   console.log(socket.port > 0); // prints true
   * }
   * const socket = yield* bindUdp({ host: "127.0.0.1", port: 0 });
   * try { yield* serve(socket); } finally { socket.close(); }
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.close(undefined, { clear: true });
    this.#socket.close();
  }

  /** Closes the socket (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Binds a UDP socket and returns it once bound. Port 0 picks a free port
 * ({@link UdpSocket.port}). Errors keep Node's `code` (`EADDRINUSE`, …) and
 * name the address. Cancelled before the bind completes, it closes the socket.
 *
 * @example
 * ```ts
 * using socket = yield* bindUdp({ host: "127.0.0.1", port: 0 });
 * using client = yield* bindUdp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     for (;;) {
 *       const { data, address, port } = yield* socket.recv();
 *       yield* socket.send(data, port, address);
 *     }
 *   }, { daemon: true }); // the echo loop ends with the group
 *   yield* client.send("marco", socket.port, "127.0.0.1");
 *   console.log(new TextDecoder().decode((yield* client.recv()).data)); // prints marco
 * });
 * ```
 */
export function* bindUdp(options?: BindUdpOptions): Operation<UdpSocket> {
  const api = "bindUdp()";
  requireOptions(api, options, true);
  const { host, port = 0, maxQueued = DEFAULT_MAX_QUEUED, reuseAddr } = options ?? {};
  if (host !== undefined) requireHost(api, "options.host", host);
  requirePort(api, "options.port", port, 0);
  requireOptionalCount(api, "options.maxQueued", maxQueued, 1);
  requireOptionalBoolean(api, "options.reuseAddr", reuseAddr);
  const type = options?.type ?? (host !== undefined && isIPv6(host) ? "udp6" : "udp4");
  if (type !== "udp4" && type !== "udp6") {
    throw new RangeError(`${api}: options.type must be "udp4" or "udp6", got ${describe(type)}`);
  }
  const target = formatAddress(host ?? "*", port);
  return yield* action<UdpSocket>((resolve, reject) => {
    const socket = createSocket({ type, reuseAddr });
    let bound = false;
    let abandoned = false;
    const onError = (error: Error): void => reject(annotateOsError(api, error, target));
    socket.once("error", onError);
    socket.bind({ address: host, port }, () => {
      // Abandoned (cancelled) while the address was being looked up: nobody
      // will own this socket, so it must not stay open.
      if (abandoned) return;
      bound = true;
      resolve(new UdpSocket(socket, maxQueued));
    });
    return () => {
      socket.off("error", onError);
      if (!bound) {
        abandoned = true;
        socket.on("error", ignore);
        socket.close();
      }
    };
  });
}
