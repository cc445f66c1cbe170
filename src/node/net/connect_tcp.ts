/**
 * `connectTcp`: a TCP connection to a host, with a structured happy-eyeballs
 * race (RFC 8305) when the host has several addresses.
 */
import { connect as netConnect, type Socket } from "node:net";
import { action } from "../../core/action.ts";
import { checkCancellation } from "../../core/cancel.ts";
import { Cancelled } from "../../core/errors.ts";
import { describe, type Operation } from "../../core/operation.ts";
import type { Task } from "../../core/task.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { withTimeoutOpt } from "../../group/timeout.ts";
import { Semaphore } from "../../sync/semaphore.ts";
import { annotateOsError, formatAddress } from "./os_error.ts";
import { literalAddress, resolveHost, type HostAddress } from "./resolve_host.ts";
import { TcpConnection } from "./tcp_connection.ts";
import { requireFamily, requireHost, requireOptionalBoolean, requireOptionalMs, requireOptions, requirePort } from "./validate.ts";

/** How long an attempt may stay unanswered before the next address is tried too (RFC 8305's recommendation). */
const ATTEMPT_DELAY_MS = 250;

const API = "connectTcp()";

/**
 * Options for {@link connectTcp}.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 }); // stands in for a database
 * using conn = yield* connectTcp({ host: "127.0.0.1", port: server.port, family: 4 });
 * console.log(conn.remotePort === server.port); // prints true
 * ```
 */
export interface ConnectTcpOptions {
  /** A host name or an IP literal. */
  host: string;
  /** The port, 1–65535. */
  port: number;
  /** Only addresses of this family (default: both, raced). */
  family?: 4 | 6;
  /** Disable Nagle's algorithm (default `true`: small writes go out at once). */
  noDelay?: boolean;
  /** The local address to connect from. */
  localAddress?: string;
  /** How long `close()` lets queued bytes drain to a peer that does not read (default 10 000 ms; see {@link TcpConnection.close}). */
  lingerMs?: number;
  /**
   * Replaces {@link resolveHost} for host names (service discovery, tests).
   * Not called for an IP literal.
   */
  lookup?: (host: string, options: { family?: 4 | 6 }) => Operation<readonly HostAddress[]>;
}

/** Orders addresses by alternating families, starting with the resolver's first choice (RFC 8305 §4). */
function interleave(addresses: readonly HostAddress[]): HostAddress[] {
  if (addresses.length < 2) return addresses.slice();
  const first = addresses[0]!.family;
  const preferred = addresses.filter((a) => a.family === first);
  const other = addresses.filter((a) => a.family !== first);
  const ordered: HostAddress[] = [];
  for (let i = 0; i < Math.max(preferred.length, other.length); i++) {
    if (i < preferred.length) ordered.push(preferred[i]!);
    if (i < other.length) ordered.push(other[i]!);
  }
  return ordered;
}

const ignore = (): void => {};

/** Checks what a user-supplied `lookup` returned. */
function requireAddresses(api: string, found: unknown): readonly HostAddress[] {
  const valid =
    Array.isArray(found) &&
    found.every(
      (a: unknown) =>
        typeof a === "object" &&
        a !== null &&
        typeof (a as HostAddress).address === "string" &&
        ((a as HostAddress).family === 4 || (a as HostAddress).family === 6),
    );
  if (!valid) {
    throw new TypeError(`${api}: options.lookup must return an array of { address: string, family: 4 | 6 }, got ${describe(found)}`);
  }
  return found as readonly HostAddress[];
}

/** What a connected socket becomes: it must be closable, so that a losing or abandoned attempt can be closed. */
interface Closable {
  close(): void;
}

/** What every attempt of one connect shares. */
interface Attempts<C extends Closable> {
  api: string;
  port: number;
  /** The address as the caller named it, for error messages. */
  target: string;
  noDelay: boolean;
  localAddress: string | undefined;
  /** Takes over the connected socket; called at once on "connect", so its own listeners are in place before ours go. */
  wrap: (socket: Socket) => C;
}

/** One connection attempt to one address; cancelled, it destroys the pending socket. */
function attempt<C extends Closable>(address: HostAddress, { api, port, target, noDelay, localAddress, wrap }: Attempts<C>): Operation<C> {
  return action<C>((resolve, reject) => {
    const socket = netConnect({
      host: address.address,
      port,
      family: address.family,
      localAddress,
      noDelay,
      allowHalfOpen: true,
    });
    let connected = false;
    const onConnect = (): void => {
      connected = true;
      // Wrapped at once: the connection's own listeners must be in place before this one goes.
      resolve(wrap(socket));
    };
    const onError = (error: Error): void => reject(annotateOsError(api, error, target));
    socket.once("connect", onConnect);
    socket.once("error", onError);
    return () => {
      socket.off("connect", onConnect);
      socket.off("error", onError);
      if (!connected) {
        // An error Node already scheduled must not become an unhandled "error" event.
        socket.on("error", ignore);
        socket.destroy();
      }
    };
  });
}

/**
 * Races connection attempts: the next address is tried when the previous
 * attempt failed or has been pending for 250 ms; the first connection wins,
 * the others are cancelled (or closed, if they connected in the same round).
 * If every attempt fails, the first error is thrown. A winner is returned
 * even when the caller was cancelled in the same round.
 */
function* race<C extends Closable>(addresses: readonly HostAddress[], shared: Attempts<C>): Operation<C> {
  let winner: C | undefined;
  let firstError: unknown;
  try {
    return yield* withTaskGroup<C>(function* (group) {
      const attempts: Task<void>[] = [];
      for (let i = 0; i < addresses.length; i++) {
        const failed = new Semaphore(1, 0);
        attempts.push(
          group.spawn(function* () {
            let conn: C;
            try {
              conn = yield* attempt(addresses[i]!, shared);
            } catch (error) {
              if (error instanceof Cancelled) throw error;
              if (firstError === undefined) firstError = error;
              failed.release();
              return;
            }
            if (winner !== undefined) {
              conn.close(); // connected in the same round as the winner
              return;
            }
            winner = conn;
            group.returnImmediately(conn);
          }),
        );
        if (i < addresses.length - 1) yield* withTimeoutOpt(ATTEMPT_DELAY_MS, () => failed.acquire());
      }
      for (const task of attempts) yield* task.wait();
      throw firstError;
    });
  } catch (error) {
    // The caller was cancelled in the round an attempt connected: that
    // connect completed, so it is handed over like any other (the caller
    // meets the cancellation at its next suspension point).
    if (winner !== undefined && error instanceof Cancelled) return winner;
    winner?.close();
    throw error;
  }
}

/**
 * Connects to `host:port` and returns the connection.
 *
 * A host name is resolved first (see {@link resolveHost}); when it has
 * several addresses they are raced "happy eyeballs" style: families
 * alternate, each attempt gets 250 ms (or until it fails) before the next
 * one starts alongside, the first connection wins and the other attempts are
 * cancelled. If none connects, the first attempt's error is thrown, with
 * Node's `code` (`ECONNREFUSED`, `ETIMEDOUT`, …) and the address in its
 * message.
 *
 * Cancellation stops every attempt and destroys the pending sockets. A
 * connection made in the same round as the cancellation is returned (the
 * connect completed first; the task meets the cancellation at its next
 * suspension point), so the caller owns it and must close it, as after any
 * successful connect: a connection is never left open unowned. Give it a
 * deadline with `withTimeout`.
 *
 * @example
 * ```ts
 * using server = yield* listenTcp({ host: "127.0.0.1", port: 0 });
 * yield* withTaskGroup(function* (group) {
 *   group.startSoon(function* () {
 *     using peer = yield* server.accept();
 *     yield* peer.readLine();
 *     yield* peer.write("HTTP/1.0 200 OK\r\n\r\nhi");
 *   }); // the peer closes when it is done
 *   using conn = yield* withTimeout(5000, () => connectTcp({ host: "127.0.0.1", port: server.port }));
 *   yield* conn.write("GET / HTTP/1.0\r\n\r\n");
 *   console.log(JSON.stringify((yield* conn.readAll()).text())); // prints "HTTP/1.0 200 OK\r\n\r\nhi"
 * });
 * ```
 */
export function* connectTcp(options: ConnectTcpOptions): Operation<TcpConnection> {
  const lingerMs = (options as ConnectTcpOptions | undefined)?.lingerMs;
  requireOptionalMs(API, "options.lingerMs", lingerMs);
  return yield* connectSocket(API, options, (socket) => new TcpConnection(socket, { lingerMs }));
}

/**
 * The body of {@link connectTcp}, for the connections built on a TCP socket
 * (TLS): checks `options` (in the name of `api`), resolves and races the
 * addresses, and hands the winning socket to `wrap`. Not part of the public
 * API.
 */
export function* connectSocket<C extends Closable>(
  api: string,
  options: Omit<ConnectTcpOptions, "lingerMs">,
  wrap: (socket: Socket) => C,
): Operation<C> {
  requireOptions(api, options, false);
  const { host, port, family, noDelay = true, localAddress, lookup } = options;
  requireHost(api, "options.host", host);
  requirePort(api, "options.port", port, 1);
  requireFamily(api, family);
  requireOptionalBoolean(api, "options.noDelay", noDelay);
  if (localAddress !== undefined) requireHost(api, "options.localAddress", localAddress);
  if (lookup !== undefined && typeof lookup !== "function") {
    throw new TypeError(`${api}: options.lookup must be a function (host, options) => Operation, got ${describe(lookup)}`);
  }
  checkCancellation();
  const target = formatAddress(host, port);
  const literal = literalAddress(host);
  let addresses: readonly HostAddress[];
  if (literal !== undefined) {
    addresses = [literal];
  } else {
    const found = lookup === undefined ? yield* resolveHost(host, { family }) : requireAddresses(api, yield* lookup(host, { family }));
    addresses = interleave(family === undefined ? found : found.filter((a) => a.family === family));
  }
  if (addresses.length === 0) {
    throw Object.assign(new Error(`${api}: ${host} has no ${family === undefined ? "" : `IPv${family} `}address`), {
      code: "ENOTFOUND",
      hostname: host,
    });
  }
  const attempts: Attempts<C> = { api, port, target, noDelay, localAddress, wrap };
  return addresses.length === 1 ? yield* attempt(addresses[0]!, attempts) : yield* race(addresses, attempts);
}
