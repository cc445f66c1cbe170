/**
 * The client's connection pool: per origin, a stack of idle keep-alive
 * connections and a semaphore of `maxConnectionsPerOrigin` permits.
 *
 * A permit is held for as long as a connection is in use, from the moment a
 * request asks for one until its response body was read to the end (the
 * connection then goes back on the stack and the permit is released) or the
 * connection is closed. A caller beyond the limit therefore waits in the
 * semaphore, in order, and wakes with a permit that an idle connection
 * usually comes with. Lookups are one `Map.get` and one `pop`; the stack is
 * LIFO so that the most recently used connection, the least likely to have
 * been closed by the server, goes first, and the older ones age out.
 *
 * Nothing runs in the background: an idle connection that outlived its
 * keep-alive time is closed when a request finds it, and `close()` closes
 * them all.
 */
import type { Operation } from "../../core/operation.ts";
import { now } from "../../core/sleep.ts";
import type { Reader } from "../../io/reader.ts";
import type { Writer } from "../../io/writer.ts";
import { Semaphore } from "../../sync/semaphore.ts";
import { HttpInput } from "../codec/input.ts";

/** What a request runs over: a TCP or TLS connection (or TLS through a proxy tunnel). */
export type Transport = Reader & Writer & { close(): void; abort?: () => void };

/** One connection to an origin (or to the proxy in its name). */
export class PooledConnection {
  readonly transport: Transport;
  readonly input: HttpInput;
  readonly origin: OriginPool;
  /** True once a response was read over it: a failure before the next response's first byte may be the server's idle close. */
  reused = false;
  /** When it went idle, by weft's clock. */
  idleSince = 0;
  /** How long it may stay idle and still be reused (the client's keepAliveTimeout, or less when the server said so). */
  idleLimit = 0;
  #closed = false;

  constructor(transport: Transport, origin: OriginPool) {
    this.transport = transport;
    this.input = new HttpInput(transport);
    this.origin = origin;
  }

  /** Drops the connection at once (no linger: a cancelled or broken exchange leaves nothing worth sending) and frees its permit. */
  discard(): void {
    if (this.#closed) return;
    this.#closed = true;
    const { transport } = this;
    if (transport.abort !== undefined) transport.abort();
    else transport.close();
    this.origin.slots.release();
  }

  /** Puts the connection back on its origin's stack and frees its permit. */
  recycle(idleLimit: number): void {
    if (this.#closed) return;
    if (idleLimit <= 0 || this.origin.closed) {
      this.#closed = true;
      this.transport.close();
      this.origin.slots.release();
      return;
    }
    this.reused = true;
    this.idleSince = now();
    this.idleLimit = idleLimit;
    this.origin.idle.push(this);
    this.origin.slots.release();
  }

  /** Closes an idle connection (it holds no permit). */
  closeIdle(): void {
    this.#closed = true;
    this.transport.close();
  }
}

/** The connections of one origin. */
export class OriginPool {
  readonly slots: Semaphore;
  readonly idle: PooledConnection[] = [];
  closed = false;

  constructor(maxConnections: number) {
    this.slots = new Semaphore(maxConnections);
  }

  /**
   * Waits for a permit and returns an idle connection young enough to
   * reuse, or `undefined` (the caller then connects, holding the permit).
   */
  *acquire(): Operation<PooledConnection | undefined> {
    yield* this.slots.acquire();
    const idle = this.idle;
    if (idle.length === 0) return undefined;
    const t = now();
    for (let conn = idle.pop(); conn !== undefined; conn = idle.pop()) {
      if (t - conn.idleSince < conn.idleLimit) return conn;
      conn.closeIdle();
    }
    return undefined;
  }

  /** Closes every idle connection; connections in use close when their response is done. */
  close(): void {
    this.closed = true;
    for (const conn of this.idle.splice(0)) conn.closeIdle();
  }
}
