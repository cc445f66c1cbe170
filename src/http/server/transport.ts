/**
 * What an HTTP server connection runs over, and the reader that watches it.
 *
 * A handler must be cancelled the moment its client goes away, even while it
 * is busy with something other than the connection (a database call, a long
 * poll). Only a read notices that a peer has gone (end of stream or a reset),
 * so somebody has to be reading all the time. That reader cannot be the
 * handler (it may never read the body) and it must not throw bytes away (a
 * pipelining client has sent the next requests already). So one small task
 * per connection, the pump, reads the transport into a bounded stash, and
 * everything else (the head parser, the body reader, an upgraded connection)
 * reads from that stash. When the pump sees the end or an error it says so
 * once (`onPeerGone`), and the connection cancels whatever is running. The
 * stash is bounded (64 KiB): a client that sends more than that while the
 * handler reads nothing is simply not read further until it does (its
 * disconnect is then noticed at the next read or write), as a socket's own
 * flow control would do. After an upgrade the connection belongs to the
 * handler, whose reads notice the end themselves: `handOver()` stops the
 * pump after its read in progress, and once the stash is empty the upgraded
 * connection reads the transport directly, a task switch less per read.
 */
import { Cancelled } from "../../core/errors.ts";
import type { Operation } from "../../core/operation.ts";
import { current } from "../../core/scheduler.ts";
import { ReaderBase, type Reader } from "../../io/reader.ts";
import { plainView } from "../../io/plain_view.ts";
import type { Writer } from "../../io/writer.ts";
import { CondVar } from "../../sync/cond_var.ts";

/**
 * A byte stream an HTTP server can serve: any weft duplex (a
 * `TcpConnection`, a `TlsConnection`, a proxy tunnel, a pair of `pipe()`s
 * joined into one). `abort`, when present, is used to drop a connection whose
 * response cannot be completed; `remoteAddress` names the peer.
 *
 * @example
 * ```ts
 * function describePeer(transport: HttpTransport): string {
 *   return transport.remoteAddress ?? "(in-memory)";
 * }
 * ```
 */
export interface HttpTransport extends Reader, Writer {
  /** Closes the connection. */
  close(): void;
  /** Drops the connection at once (a TCP reset), when the transport can. */
  abort?(): void;
  /** Ends the write side after what was written, when the transport can. */
  shutdownWrite?(): void;
  /** The peer's address, when the transport knows it. */
  readonly remoteAddress?: string;
}

/** How much the pump reads ahead of the connection's readers. */
const STASH_LIMIT = 64 * 1024;

/**
 * The reader every part of a server connection reads from: the transport's
 * bytes, read ahead by {@link WatchedReader.pump} into a bounded stash.
 * Cancel-safe like every `ReaderBase`: a cancelled read takes nothing.
 */
export class WatchedReader extends ReaderBase {
  readonly #source: Reader;
  readonly #chunks: Uint8Array[] = [];
  #stashed = 0;
  #ended = false;
  #error: unknown = undefined;
  #closed = false;
  /** The pump is running (between its start and its return). */
  #pumping = false;
  /** The connection was upgraded: the pump stops, its reader reads the transport itself. */
  #handedOver = false;
  readonly #arrived = new CondVar();
  readonly #drained = new CondVar();
  /** Called once, from the pump, when the peer's end of stream or a read error is seen. */
  onPeerGone: (() => void) | undefined = undefined;

  constructor(source: Reader) {
    super();
    this.#source = source;
  }

  /** True once the pump saw the end of stream or a read error. */
  get peerGone(): boolean {
    return this.#ended || this.#error !== undefined;
  }

  /**
   * True when a read goes straight to the transport (see {@link WatchedReader.nextChunk}): the
   * connection was handed over, the pump has returned, nothing is stashed or buffered here, and
   * the pump saw no end or error.
   */
  get passesThrough(): boolean {
    return this.#handedOver && !this.#pumping && !this.hasBytes && !this.peerGone;
  }

  /** True when bytes are waiting in the stash (or in this reader's own buffer). */
  get hasBytes(): boolean {
    return this.#chunks.length > 0 || this.buffered > 0;
  }

  /**
   * Reads the transport into the stash until it ends; run it as a daemon task
   * of the connection. Ends quietly on a read error (readers get the error
   * after the stashed bytes).
   */
  *pump(): Operation<void> {
    const source = this.#source;
    this.#pumping = true;
    try {
      for (;;) {
        while (this.#stashed >= STASH_LIMIT && !this.#handedOver) yield* this.#drained.wait();
        if (this.#handedOver) return;
        let chunk: Uint8Array | undefined;
        try {
          chunk = yield* source.readSome();
        } catch (error) {
          if (error instanceof Cancelled) throw error;
          this.#error = error;
          this.#gone();
          return;
        }
        if (chunk === undefined) {
          this.#ended = true;
          this.#gone();
          return;
        }
        this.#chunks.push(plainView(chunk));
        this.#stashed += chunk.length;
        this.#arrived.broadcast();
      }
    } finally {
      this.#pumping = false;
      // A reader waiting for the stash after a hand-over reads the transport now.
      if (this.#handedOver) this.#arrived.broadcast();
    }
  }

  /**
   * The connection was upgraded: the pump stops after the read it is in
   * (whose bytes are stashed as usual), and reads go to the transport once
   * the stash is empty. The end of the stream is then no longer reported
   * through `onPeerGone`: the handler's own reads see it.
   */
  handOver(): void {
    this.#handedOver = true;
    this.onPeerGone = undefined;
    this.#drained.broadcast();
  }

  #gone(): void {
    this.#arrived.broadcast();
    const hook = this.onPeerGone;
    this.onPeerGone = undefined;
    hook?.();
  }

  /** Waits until a byte is there to read or the stream ended, taking nothing; returns true (for `withTimeoutOpt`). */
  *waitReadable(): Operation<true> {
    while (!this.hasBytes && !this.peerGone) yield* this.#arrived.wait();
    return true;
  }

  /**
   * For the reader of an upgraded connection, which has the connection to
   * itself: the next bytes as they were stashed (a whole chunk), without
   * going through this reader's buffer (bytes left in it come first);
   * `undefined` at end of stream. Once the pump has stopped and the stash is
   * empty, the transport's own `readSome()`, its chunks as they come.
   * Cancel-safe like `readSome`.
   */
  nextChunk(): Operation<Uint8Array | undefined> {
    // Not a generator itself: the operation it returns is the one the caller delegates to, a level less on every resume.
    if (this.buffered > 0) return this.readSome();
    if (current !== null && current.cancelDue) throw new Cancelled();
    if (this.passesThrough) {
      // The transport's read itself (a level less again): its end is then seen by the caller, not recorded here,
      // which nothing after a hand-over asks about.
      return this.#source.readSome();
    }
    return this.readChunk();
  }

  /** After the hand-over, with the pump gone and the stash empty: the transport's next chunk, as a plain view. */
  *#direct(): Operation<Uint8Array | undefined> {
    const chunk = yield* this.#source.readSome();
    if (chunk === undefined) {
      this.#ended = true;
      return undefined;
    }
    return plainView(chunk);
  }

  protected *readChunk(): Operation<Uint8Array | undefined> {
    while (this.#chunks.length === 0) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return undefined;
      if (this.#handedOver && !this.#pumping) return yield* this.#direct();
      yield* this.#arrived.wait();
    }
    const chunk = this.#chunks.shift()!;
    this.#stashed -= chunk.length;
    this.#drained.signal();
    return chunk;
  }

  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Stops reading through this reader (the transport is closed by its owner). */
  close(): void {
    this.#closed = true;
  }
}
