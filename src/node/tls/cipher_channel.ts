/**
 * `CipherChannel`: TLS over any weft `Reader` + `Writer`, without a
 * background task. Node's TLS engine needs a Node stream to carry its
 * ciphertext; this channel is that stream, and it moves bytes only when a weft
 * operation on the TLS connection (handshake, read, write) drives it: it sends
 * the ciphertext the engine produced to the underlying writer, and feeds the
 * engine ciphertext read from the underlying reader when the caller is
 * waiting for plaintext. Nothing runs between operations, so nothing is left
 * running when the connection is dropped.
 */
import { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { action } from "../../core/action.ts";
import { Cancelled } from "../../core/errors.ts";
import type { Operation } from "../../core/operation.ts";
import { current } from "../../core/scheduler.ts";
import { dropsCancelledWrites } from "../../io/writer.ts";
import { withTaskGroup } from "../../group/task_group.ts";
import { Semaphore } from "../../sync/semaphore.ts";
import type { TlsTransport } from "./start_tls.ts";

/** The stream under TLS: read, written, and closed (with an optional half-close). */
type CipherStream = TlsTransport;

interface Outgoing {
  bytes: Uint8Array;
  done: (error?: Error | null) => void;
}

/**
 * The Node side of the channel: what the TLS engine writes is kept until a
 * weft task sends it; what a weft task read is pushed in.
 */
class ChannelStream extends Duplex {
  readonly outgoing: Outgoing[] = [];
  /** The engine ended its side (after close_notify): the underlying writer is to be shut down once the queue is sent. */
  finalDone: ((error?: Error | null) => void) | undefined = undefined;

  constructor(private readonly changed: () => void) {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    // Nothing to start: ciphertext is pushed when a weft read wants plaintext.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.outgoing.push({ bytes: chunk, done: callback });
    this.changed();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finalDone = callback;
    this.changed();
  }
}

/**
 * Drives a TLS engine over a weft stream. The TLS connection calls `flush`
 * and `wait` from its operations; the underlying stream is owned (closed by
 * `close`).
 */
export class CipherChannel {
  /** The Node stream to hand to `new TLSSocket(...)`. */
  readonly stream: ChannelStream;
  readonly #under: CipherStream;
  /** One task at a time writes to the underlying writer (a reading and a writing task may both flush). */
  readonly #sending = new Semaphore(1);
  readonly #waiters = new Set<() => void>();
  /**
   * Counts the engine's events. A waiting operation remembers the count it
   * started from: its tasks begin on a later round, and an event in between
   * must still wake it.
   */
  #events = 0;
  #underEnded = false;
  #closed = false;

  constructor(under: CipherStream) {
    this.#under = under;
    this.stream = new ChannelStream(() => this.notify());
  }

  /** Wakes the tasks waiting in {@link CipherChannel.wait}. */
  notify(): void {
    this.#events++;
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Listens to the TLS socket's events that can unblock an operation. */
  watch(socket: TLSSocket): void {
    const wake = (): void => this.notify();
    for (const event of ["readable", "end", "error", "close", "secure", "secureConnect", "drain"]) socket.on(event, wake);
  }

  /** True when the engine produced ciphertext (or its end) not yet sent. */
  get hasOutgoing(): boolean {
    return this.stream.outgoing.length > 0 || this.stream.finalDone !== undefined;
  }

  /**
   * Sends what the engine produced to the underlying writer. A record whose
   * write was cancelled counts as sent if the writer keeps a cancelled
   * write's bytes queued (a socket does), and is sent again by the next
   * operation if it dropped them (a rendezvous `pipe()`): see
   * `Writer.cancelledWrite`. Either way the peer gets every record once.
   */
  *flush(): Operation<void> {
    if (!this.hasOutgoing) return;
    yield* this.#sending.acquire();
    try {
      const stream = this.stream;
      for (let next = stream.outgoing[0]; next !== undefined; next = stream.outgoing[0]) {
        const under = this.#under;
        // Cancelled before the write starts: it would take nothing, so the record stays to be sent.
        if (current !== null && current.cancelDue) throw new Cancelled();
        try {
          yield* under.write(next.bytes);
        } catch (error) {
          if (error instanceof Cancelled && dropsCancelledWrites(under)) throw error;
          stream.outgoing.shift();
          next.done(error instanceof Cancelled ? null : error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
        stream.outgoing.shift();
        next.done();
      }
      const finalDone = stream.finalDone;
      if (finalDone !== undefined) {
        stream.finalDone = undefined;
        this.#under.shutdownWrite?.();
        finalDone();
      }
    } finally {
      this.#sending.release();
    }
  }

  /**
   * One step of an operation that waits on the engine. Sends what the engine
   * produced, if no other task is sending it, and meanwhile (with `feed`)
   * reads ciphertext from the underlying reader and hands it to the engine;
   * returns once the engine has something new (plaintext, output, an event)
   * or ciphertext arrived, and what was being sent is sent. Reading and
   * sending go on together so that two peers over streams without buffers
   * (a `pipe()`) never wait for each other. Cancelled, it has taken nothing
   * from the underlying reader.
   */
  *wait(feed: boolean): Operation<void> {
    const since = this.#events;
    const send = this.hasOutgoing && this.#sending.tryAcquire();
    if (send) this.#sending.release();
    if (!feed || this.#underEnded) {
      if (send) yield* this.flush();
      else yield* this.#changed(since);
      return;
    }
    const channel = this;
    yield* withTaskGroup<void>(function* (group) {
      if (send) group.spawn(() => channel.flush());
      yield* withTaskGroup<void>(function* (race) {
        race.spawn(function* () {
          // Closed by another task since this wait began: the stream under TLS reads no more, as at its end.
          const chunk = channel.#closed ? undefined : yield* channel.#under.readSome();
          if (chunk === undefined) {
            channel.#underEnded = true;
            channel.stream.push(null);
          } else {
            channel.stream.push(chunk);
          }
          race.returnImmediately(undefined);
        });
        race.spawn(function* () {
          yield* channel.#changed(since);
          race.returnImmediately(undefined);
        });
      });
    });
  }

  /** Waits for an engine event after the `since`-th (at once if one came already). */
  *#changed(since: number): Operation<void> {
    if (this.#events !== since) return;
    yield* action<void>((resolve) => {
      this.#waiters.add(resolve);
      return () => {
        this.#waiters.delete(resolve);
      };
    });
  }

  /** Closes the underlying stream (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#under.close();
    this.notify();
  }

  /** Drops the stream under TLS at once: its own `abort()` where it has one (a `TcpConnection`), else `close()`. */
  abort(): void {
    const under = this.#under;
    if (typeof under.abort === "function") under.abort();
    if (this.#closed) return;
    this.#closed = true;
    under.close();
    this.notify();
  }
}
