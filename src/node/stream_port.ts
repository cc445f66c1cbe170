/**
 * The bridge between Node's streams (sockets, child process pipes, stdio,
 * file streams) and weft's `readChunk`/`writeChunk` primitives.
 *
 * Reading keeps the Node stream in paused mode and takes data with
 * `stream.read()` only when a weft task asks for it, so the bytes wait in the
 * stream's buffer (and the kernel's) until then: backpressure is Node's own,
 * and a cancelled read has taken nothing. A port in flowing mode (sockets)
 * lets the stream hand each chunk over as it arrives instead and keeps the
 * chunks in a queue of its own, pausing the stream while that queue holds a
 * high-water mark's worth: the same promises (a cancelled read takes nothing,
 * the queue is bounded), without the work paused mode costs per chunk (a
 * 'readable' event on a later tick, then `read()`). Both ports listen for
 * `error` for as long as they live, so an error the stream reports between
 * operations is kept for the next one instead of crashing the process as an
 * unhandled `error` event.
 */
import { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { action } from "../core/action.ts";
import type { Coroutine } from "../core/coroutine.ts";
import { Cancelled } from "../core/errors.ts";
import { current, requireTask } from "../core/scheduler.ts";
import { SUSPENDED_RESULT, SuspensionPoint, asOperation, type Operation } from "../core/operation.ts";
import { NO_RETURN, type GiveBack } from "../io/writer.ts";

/**
 * True once the stream has received its end of data (for a socket, the
 * peer's FIN), even if bytes before it are still buffered. Node has no public
 * flag for this ('end' and `readableEnded` wait until the buffer is drained),
 * so the readable state is read, with `readableEnded` as the fallback.
 */
function receivedEnd(stream: Readable): boolean {
  const state = (stream as Readable & { _readableState?: { ended?: unknown } })._readableState;
  return state?.ended === true || stream.readableEnded;
}

/**
 * True when `stream` holds no bytes and will emit 'readable' when some come:
 * nothing ended, failed or was destroyed, and Node's `needReadable` is set
 * (as the `read()` that took the last bytes leaves it). Read from the
 * readable state, as {@link receivedEnd} does; false whenever it is unsure.
 */
function nothingYet(stream: Readable): boolean {
  const state = (stream as Readable & { _readableState?: ReadableStateFlags })._readableState;
  return (
    state !== undefined &&
    state.length === 0 &&
    state.needReadable === true &&
    state.ended !== true &&
    state.destroyed !== true &&
    (state.errored ?? null) === null
  );
}

interface ReadableStateFlags {
  length?: number;
  needReadable?: boolean;
  ended?: boolean;
  destroyed?: boolean;
  errored?: unknown;
}

/** Reads a Node `Readable` chunk by chunk from weft tasks. */
export class ReadPort {
  #error: unknown = undefined;
  /** The stream had received its end (a TCP FIN) before the error: the error concerns writing only. */
  #endedBeforeError = false;
  #ended = false;
  readonly #stream: Readable;
  /** With standing listeners: the task whose read is waiting, if one is. */
  #waiter: Coroutine | undefined = undefined;
  readonly #standing: boolean;
  #standingWake: (() => void) | undefined = undefined;
  /** In flowing mode: the 'data' listener, and the chunks it received that no read has taken yet. */
  #onData: ((chunk: Uint8Array | string) => void) | undefined = undefined;
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  /** The port paused the stream because its queue reached the high-water mark. */
  #pausedFull = false;

  /**
   * `standingListeners`: listen for 'readable', 'end', 'error' and 'close'
   * once, for the port's life, instead of around each wait. Cheaper for a
   * busy socket (no listener churn per read); not for stdin, where a
   * 'readable' listener starts reading the terminal. `flowing` (standing
   * listeners, with 'data' in place of 'readable'): the stream flows into
   * the port's own queue, paused while that holds its high-water mark; for
   * a socket, whose chunks then cost no later tick each. Not for a stream
   * someone else also reads.
   */
  constructor(stream: Readable, options?: { standingListeners?: boolean; flowing?: boolean }) {
    this.#stream = stream;
    // A 'readable' listener would hold the stream in paused mode whatever the port does: paused mode then.
    const flowing = options?.flowing === true && stream.listenerCount("readable") === 0;
    this.#standing = flowing || options?.standingListeners === true;
    if (this.#standing) {
      // Not `#wakeWaiter` itself: 'error' passes an argument.
      const wake = (): void => this.#wakeWaiter(false);
      this.#standingWake = wake;
      if (flowing) {
        const limit = stream.readableHighWaterMark;
        const onData = (chunk: Uint8Array | string): void => {
          const bytes = asBytes(chunk);
          this.#queue.push(bytes);
          this.#queued += bytes.length;
          // Paused again if something else resumed it meanwhile: the queue stays bounded whoever resumes the stream.
          if (this.#queued >= limit && stream.readableFlowing === true) {
            this.#pausedFull = true;
            stream.pause();
          }
          // A socket's data is delivered by the host's read callback: the task may run inside it (`Scheduler.wake`).
          this.#wakeWaiter(true);
        };
        this.#onData = onData;
        stream.on("data", onData);
      } else {
        stream.on("readable", wake);
      }
      stream.on("end", wake);
      stream.on("error", wake);
      stream.on("close", wake);
    }
    if (flowing) {
      // A 'data' listener starts a stream whose flow was never set; one paused explicitly must be resumed.
      if (stream.readableFlowing !== true) stream.resume();
    } else if (stream.readableFlowing === true) {
      // Only a flowing stream needs stopping. pause() on a fresh process.stdin
      // emits 'pause', and Node's stdin then stops its handle one tick later,
      // undoing a read() made in this tick: the process would exit waiting.
      stream.pause();
    }
    stream.on("error", (error) => {
      if (this.#error !== undefined) return;
      this.#error = error;
      this.#endedBeforeError = receivedEnd(stream);
    });
    stream.once("end", () => {
      this.#ended = true;
    });
  }

  /** The error the stream reported, if any. */
  get error(): unknown {
    return this.#error;
  }

  /** Wakes the task parked on the port, if any; `fromIo` as for `Scheduler.wake`. */
  #wakeWaiter(fromIo: boolean): void {
    const task = this.#waiter;
    if (task === undefined) return;
    this.#waiter = undefined;
    task.scheduler.wake(task, fromIo);
  }

  /**
   * Removes the standing listeners, for a stream handed over to another
   * reader (TLS taking over a socket). The error listener stays, so that a
   * late error is still not unhandled.
   */
  detach(): void {
    const wake = this.#standingWake;
    if (wake === undefined) return;
    this.#standingWake = undefined;
    const stream = this.#stream;
    const onData = this.#onData;
    if (onData !== undefined) {
      // The stream stops flowing (a flowing stream without a 'data' listener would drop what arrives); the next
      // owner reads it. The caller hands over only a port whose queue is empty (see `queued`).
      this.#onData = undefined;
      stream.off("data", onData);
      stream.pause();
    } else {
      stream.off("readable", wake);
    }
    stream.off("end", wake);
    stream.off("error", wake);
    stream.off("close", wake);
  }

  /** In flowing mode, the bytes received that no read has taken yet (0 in paused mode: they wait in the stream). */
  get queued(): number {
    return this.#queued;
  }

  /**
   * What {@link ReadPort.read} would return without waiting: the next chunk,
   * `undefined` at end of stream, `null` when nothing has arrived yet; throws
   * the stream's error. For a reader that drives the stream itself (TLS over
   * a weft stream) and waits in its own way.
   */
  poll(): Uint8Array | undefined | null {
    const stream = this.#stream;
    if (this.#onData !== undefined) {
      const queued = this.#takeQueued();
      if (queued !== undefined) return queued;
      if (stream.readableLength === 0) return this.#noBytes();
      // Bytes still in the stream's own buffer (on their way to a 'data' event, or left there when the stream
      // failed or was destroyed while paused): read() takes the next chunk and, unless the stream has closed, emits
      // it as 'data' too, which puts it in the queue.
      const chunk: unknown = stream.read();
      const emitted = this.#takeQueued();
      if (emitted !== undefined) return emitted;
      if (chunk !== null) return asBytes(chunk as Uint8Array | string);
      return this.#noBytes();
    }
    // A destroyed stream keeps its buffer: what arrived is still delivered.
    const chunk: unknown = stream.read();
    if (chunk !== null) return asBytes(chunk as Uint8Array | string);
    return this.#noBytes();
  }

  /** In flowing mode, the oldest chunk of the queue, if any; resumes the stream once the queue is below its high-water mark. */
  #takeQueued(): Uint8Array | undefined {
    const chunk = this.#queue.shift();
    if (chunk === undefined) return undefined;
    this.#queued -= chunk.length;
    if (this.#pausedFull && this.#queued < this.#stream.readableHighWaterMark) {
      this.#pausedFull = false;
      this.#stream.resume();
    }
    return chunk;
  }

  /** What a read that found no bytes returns: `undefined` at the end, the stream's error, or `null` (wait). */
  #noBytes(): undefined | null {
    const stream = this.#stream;
    if (this.#ended || stream.readableEnded) return undefined;
    if (this.#error !== undefined) {
      if (this.#endedBeforeError) return undefined;
      throw this.#error;
    }
    if (stream.destroyed) {
      if (stream.errored !== null) throw stream.errored;
      return undefined;
    }
    return null;
  }

  /**
   * A chunk to hand on now: `null` when nothing has arrived yet (and, with
   * standing listeners, Node is armed to say when something does). As
   * {@link ReadPort.poll}, which it skips when that would only find nothing.
   */
  take(): Uint8Array | undefined | null {
    if (this.#onData !== undefined) return this.poll();
    return this.#standing && this.#error === undefined && !this.#ended && nothingYet(this.#stream) ? null : this.poll();
  }

  /**
   * {@link ReadPort.read} as one hand-written suspension point, for a port
   * with standing listeners: a read that waits costs no generator, and a
   * task resuming it walks no generator of the port's (see `PortRead`).
   * `hooks` let the owner check its own state and rename the errors, as a
   * `try`/`catch` around `read()` would. One read at a time: the caller's
   * reader keeps that rule.
   */
  reading(hooks: PortReadHooks): Operation<Uint8Array | undefined> {
    if (!this.#standing) throw new TypeError("ReadPort.reading() needs standing listeners");
    return asOperation(new PortRead(this, hooks));
  }

  /** Parks `task` until the standing listeners see data, an end, an error or a close. */
  park(task: Coroutine): void {
    this.#waiter = task;
    task.scheduler.external++;
  }

  /** Undoes {@link ReadPort.park}: the task was woken, cancelled or closed. */
  unpark(task: Coroutine): void {
    this.#waiter = undefined;
    task.scheduler.external--;
  }

  /**
   * The next chunk, or `undefined` at end of stream (or once the stream was
   * destroyed without an error). Bytes that arrived before an error are
   * delivered before it; an error after the end of stream was received (a
   * write to a peer that had closed) leaves the reading side at its end.
   */
  *read(): Operation<Uint8Array | undefined> {
    // With standing listeners, the one hand-written read (parked directly, woken by the listeners).
    if (this.#standing) return yield* this.reading(AS_IS);
    const stream = this.#stream;
    let waited = false;
    for (;;) {
      // Woken by 'readable' in the round the task was cancelled: the action
      // returns, but nothing was taken yet, so let the cancellation win and
      // leave the bytes in the stream for the next read.
      if (waited && requireTask("read()").cancelDue) throw new Cancelled();
      const got = this.poll();
      if (got !== null) return got;
      waited = true;
      yield* action<void>((resolve) => {
        stream.on("readable", resolve);
        stream.on("end", resolve);
        stream.on("error", resolve);
        stream.on("close", resolve);
        return () => {
          stream.off("readable", resolve);
          stream.off("end", resolve);
          stream.off("error", resolve);
          stream.off("close", resolve);
        };
      });
    }
  }
}

/** A chunk as a stream gives it, as bytes (a stream with an encoding set gives strings). */
function asBytes(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === "string" ? Buffer.from(chunk) : chunk;
}

/** Hooks for a port read by nobody but itself: always open, errors as the stream gave them. */
const AS_IS: PortReadHooks = {
  checkOpen(): void {},
  rename: (error) => error,
};

/** What the owner of a port does around a {@link ReadPort.reading} read. */
export interface PortReadHooks {
  /** Throws the owner's error if it can no longer read (an abort): before the read, and before a chunk is handed on. */
  checkOpen(): void;
  /** The error to throw for `error` (the stream's, or a `Cancelled`), as the owner names it. */
  rename(error: unknown): unknown;
}

/**
 * `ReadPort.read()` written out as a suspension point: the same steps, with
 * the loop's state (the task it parked, if any) in `#task` instead of a
 * generator's frame. The first
 * `next()` reads or parks; a `next(RESUME)` after a wake-up reads or parks
 * again; `throw` (a cancellation: nothing was taken, the bytes stay for the
 * next read) and `return` unpark.
 */
class PortRead extends SuspensionPoint<Uint8Array | undefined> {
  #task: Coroutine | null = null;

  constructor(
    private readonly port: ReadPort,
    private readonly hooks: PortReadHooks,
  ) {
    super();
  }

  next(value?: unknown): IteratorResult<unknown, Uint8Array | undefined> {
    const hooks = this.hooks;
    const woken = this.#task;
    if (woken !== null) {
      // RESUME: a standing listener woke the task. (A cancellation that came
      // meanwhile arrives through `throw`: the scheduler resumes a task whose
      // cancellation is due that way, so nothing is taken then.)
      this.#task = null;
      this.port.unpark(woken);
    } else if (value === undefined) {
      hooks.checkOpen();
    }
    let got: Uint8Array | undefined | null;
    try {
      got = this.port.take();
    } catch (error) {
      throw hooks.rename(error);
    }
    if (got !== null) {
      hooks.checkOpen();
      return { done: true, value: got };
    }
    const task = current ?? requireTask("read()");
    // As park(): a read that must wait honours a due cancellation at once.
    if (task.cancelDue) throw hooks.rename(new Cancelled());
    this.#task = task;
    this.port.park(task);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, Uint8Array | undefined> {
    this.#unpark();
    throw this.hooks.rename(error);
  }

  override return(value: Uint8Array | undefined): IteratorResult<unknown, Uint8Array | undefined> {
    this.#unpark();
    return { done: true, value };
  }

  #unpark(): void {
    const task = this.#task;
    if (task === null) return;
    this.#task = null;
    this.port.unpark(task);
  }
}

/**
 * The largest typed array V8 may keep on the JavaScript heap (`new Uint8Array(n)` for n up to 64), rather than in
 * a backing store of its own. Node makes a Buffer of a written Uint8Array by viewing its `.buffer`, and for such an
 * array that first moves the bytes off the heap (a malloc'd store, registered with the heap and freed later by a
 * background sweep): about 0.2 µs more per write than copying them into Node's pool, which is what is done instead.
 * A small frame or response built for one write is the common case.
 */
const ON_HEAP_MAX = 64;

/** Writes to a Node `Writable` from weft tasks, honouring its backpressure. */
export class WritePort {
  #error: unknown = undefined;
  readonly #stream: Writable;
  /**
   * Whether the stream may keep handed-over bytes (see {@link WritePort.write}): a socket (TCP, TLS, a pipe, a
   * terminal) writes from the very chunk it is given and is done with it when it calls back. Another stream may
   * hold a chunk past its callback (a `PassThrough` passes it on to its readable side), so it gets a copy.
   */
  readonly #keepsHandedOver: boolean;

  constructor(stream: Writable) {
    this.#stream = stream;
    this.#keepsHandedOver = stream instanceof Socket;
    stream.on("error", (error) => {
      this.#error ??= error;
    });
  }

  /** The error the stream reported, if any. */
  get error(): unknown {
    return this.#error;
  }

  /**
   * Queues `bytes` and, if the stream's buffer is over its high-water mark,
   * waits for it to drain. Cancelled while waiting, the bytes stay queued
   * and will still be sent. The bytes are copied, since the caller may reuse
   * its buffer, unless the caller handed them over with `giveBack`: a socket
   * then queues them as they are, and `giveBack` is called once, when it is
   * done with them (written, or dropped by a failed stream). Another stream
   * gets a copy, and `giveBack` is called at once. Bytes handed over with
   * `NO_RETURN` are queued as they are on any stream (at most 64 bytes, as a
   * copy: see `ON_HEAP_MAX`).
   */
  *write(bytes: Uint8Array, giveBack: GiveBack | null = null): Operation<void> {
    if (this.offer(bytes, giveBack)) return;
    yield* this.waitDrain();
  }

  /**
   * The first half of {@link WritePort.write}, for a caller that saves the
   * operation when there is room: queues `bytes` (as `write` does) and
   * returns true when the stream's buffer is under its high-water mark,
   * false when the caller must `waitDrain()` next. Throws as `write` does,
   * before queueing anything.
   */
  offer(bytes: Uint8Array, giveBack: GiveBack | null = null): boolean {
    const stream = this.#stream;
    if (this.#error !== undefined) throw this.#error;
    if (stream.destroyed || stream.writableEnded) {
      throw Object.assign(new Error("write(): the stream is closed for writing"), { code: "EPIPE" });
    }
    // Never wanted back: whatever the stream, it may keep them. A small array is passed on as a copy instead: see
    // ON_HEAP_MAX.
    if (giveBack === NO_RETURN)
      return stream.write(bytes.byteLength <= ON_HEAP_MAX && !(bytes instanceof Buffer) ? Buffer.from(bytes) : bytes);
    if (giveBack === null || !this.#keepsHandedOver) {
      const room = stream.write(Buffer.from(bytes));
      giveBack?.();
      return room;
    }
    return this.#handOver(stream, bytes, giveBack);
  }

  #handOver(stream: Writable, bytes: Uint8Array, giveBack: GiveBack): boolean {
    let out = true;
    // A Uint8Array given to a stream is viewed, not copied. The callback runs once the chunk is written or dropped
    // (also with an error: a destroyed stream calls back what it still held), never while the socket needs it.
    const room = stream.write(bytes, () => {
      if (out) {
        out = false;
        giveBack();
      }
    });
    // Nothing left queued: the socket wrote it all at once (the kernel had room), and holds no chunk. Its callback
    // would only come on a later tick, by when the writer would have needed another buffer.
    if (out && stream.writableLength === 0) {
      out = false;
      giveBack();
    }
    return room;
  }

  /** The second half of {@link WritePort.write}: waits until the stream's buffer has drained (or the stream closed or failed). */
  *waitDrain(): Operation<void> {
    const stream = this.#stream;
    yield* action<void>((resolve, reject) => {
      const onDrain = (): void => resolve();
      const onError = (error: unknown): void => reject(error);
      const onClose = (): void => {
        if (this.#error !== undefined) reject(this.#error);
        else resolve();
      };
      stream.on("drain", onDrain);
      stream.on("error", onError);
      stream.on("close", onClose);
      return () => {
        stream.off("drain", onDrain);
        stream.off("error", onError);
        stream.off("close", onClose);
      };
    });
  }
}
