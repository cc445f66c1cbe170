/**
 * `Queue<T>`: an asynchronous FIFO queue of four kinds (see
 * docs/semantics.md, «Queue»: closing never leaves phantom values behind).
 *
 * Waiting readers exist only while the buffer is empty and waiting writers
 * only while it is full, and a value put while a reader waits goes straight
 * into that reader's record: nobody overtakes a waiter, and a hand-off
 * allocates nothing.
 */
import type { Coroutine } from "../core/coroutine.ts";
import { BUDGET_YIELD, overBudget, yieldForBudget } from "../core/budget.ts";
import { Cancelled, WeftUsageError } from "../core/errors.ts";
import { SUSPENDED_RESULT, SuspensionPoint, asOperation, describe, type Operation } from "../core/operation.ts";
import { Ring } from "../core/ring.ts";
import { WaiterList, WaiterRecord } from "../core/waiters.ts";
import { current, requireTask } from "../core/scheduler.ts";

/**
 * Thrown by a queue's operations once it is closed (unless `close` was given
 * an error of its own): at once by `put`/`tryPut`, and by `get`/`tryGet` once
 * the buffered items are drained.
 *
 * @example
 * ```ts
 * const queue = new Queue<string>();
 * queue.tryPut("a");
 * queue.tryPut("b");
 * queue.close();
 * try {
 *   for (;;) console.log(yield* queue.get()); // prints a, then b
 * } catch (e) {
 *   if (!(e instanceof QueueClosed)) throw e; // the producer is done
 * }
 * ```
 */
export class QueueClosed extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message = "the queue is closed") {
    super(message);
    this.name = "QueueClosed";
  }
}

/**
 * What a queue does when it is full: `unbounded` is never full; `blocking`
 * makes `put` wait for room; `discardOldest` drops the oldest buffered item to
 * make room; `discardLatest` drops the new item. `capacity` 0 is allowed: a
 * `blocking` queue of capacity 0 is a rendezvous channel, and the discard
 * kinds then hand items only to readers already waiting.
 *
 * @example
 * ```ts
 * const anything = new Queue<number>(); // unbounded
 * const bounded = new Queue<number>({ kind: "blocking", capacity: 16 }); // back-pressure
 * const latest = new Queue<string>({ kind: "discardOldest", capacity: 1 }); // keep only the latest frame
 * yield* latest.put("frame 1");
 * yield* latest.put("frame 2"); // evicts frame 1
 * console.log(yield* latest.get()); // prints frame 2
 * console.log(anything.size, bounded.size); // prints 0 0
 * ```
 */
export type QueueOptions = { kind: "unbounded" } | { kind: "blocking" | "discardOldest" | "discardLatest"; capacity: number };

/**
 * The name of {@link QueueOptions} before 0.2.0.
 *
 * @deprecated use {@link QueueOptions}
 * @example
 * ```ts
 * const options: QueueKind = { kind: "blocking", capacity: 4 };
 * console.log(new Queue<number>(options).size); // prints 0
 * ```
 */
export type QueueKind = QueueOptions;

const enum Kind {
  UNBOUNDED,
  BLOCKING,
  DISCARD_OLDEST,
  DISCARD_LATEST,
}

/** A blocked `get`; `handed` once a value was put into it. */
class Reader<T> extends WaiterRecord {
  value: T | undefined = undefined;
  override reset(task: Coroutine): void {
    super.reset(task);
    this.value = undefined;
  }
}

/** A blocked `put`; `handed` once its value was taken. */
class Writer<T> extends WaiterRecord {
  value: T | undefined = undefined;
  override reset(task: Coroutine): void {
    super.reset(task);
    this.value = undefined;
  }
}

const newReader = <T>(task: Coroutine): Reader<T> => new Reader<T>(task);
const newWriter = <T>(task: Coroutine): Writer<T> => new Writer<T>(task);

/** The internals the suspension points reach; kept off the public surface. */
interface QueueState<T> {
  kind: Kind;
  capacity: number;
  buffer: Ring<T>;
  readers: WaiterList<Reader<T>>;
  writers: WaiterList<Writer<T>>;
  closed: boolean;
  closeError: unknown;
}

/** Hands `value` to the oldest live reader; false if none waits. */
function handToReader<T>(q: QueueState<T>, value: T): boolean {
  const reader = q.readers.wakeFirst(true);
  if (reader === null) return false;
  reader.value = value;
  return true;
}

/** The non-waiting put: hand to a reader, or buffer if there is room. */
function tryPutValue<T>(q: QueueState<T>, value: T): boolean {
  if (q.closed) throw q.closeError;
  if (q.readers.size > 0 && handToReader(q, value)) return true;
  if (q.kind === Kind.UNBOUNDED || q.buffer.size < q.capacity) {
    q.buffer.push(value);
    return true;
  }
  return false;
}

const EMPTY: unique symbol = Symbol("weft.queue.empty");

/** The non-waiting get: an item, or EMPTY; throws once closed and drained. */
function tryGetValue<T>(q: QueueState<T>): T | typeof EMPTY {
  const buffer = q.buffer;
  if (buffer.size > 0) {
    const item = buffer.shift();
    // The buffer has room now: the oldest waiting writer's value moves in.
    if (q.writers.size > 0) {
      const writer = q.writers.wakeFirst(true);
      if (writer !== null) {
        buffer.push(writer.value as T);
        writer.value = undefined;
      }
    }
    return item;
  }
  if (q.writers.size > 0) {
    // A rendezvous (capacity 0): take straight from the writer.
    const writer = q.writers.wakeFirst(true);
    if (writer !== null) {
      const value = writer.value as T;
      writer.value = undefined;
      return value;
    }
  }
  if (q.closed) throw q.closeError;
  return EMPTY;
}

class GetOp<T> extends SuspensionPoint<T> {
  private readonly result: { done: true; value: T | undefined } = { done: true, value: undefined };

  constructor(private readonly q: QueueState<T>) {
    super();
  }

  /** Reuses one result object: `yield*` reads it at once and never keeps it. */
  private done(value: T): IteratorResult<unknown, T> {
    const result = this.result;
    result.value = value;
    return result as IteratorResult<unknown, T>;
  }

  next(value?: unknown): IteratorResult<unknown, T> {
    if (value !== undefined) {
      // RESUME: handed a value, or woken by close, or back from a forced yield.
      const task = current!;
      const reader = task.waitRecord as Reader<T> | typeof BUDGET_YIELD;
      task.waitRecord = undefined;
      if (reader === BUDGET_YIELD) return this.next(undefined); // the get has not run yet: run it now
      this.q.readers.recycle(reader); // the waker took it off the list
      if (reader.handed) return this.done(takeReaderValue(reader));
      throw this.q.closeError; // woken by close
    }
    // The fast path takes an item without a cancellation check (docs/semantics.md, «Queue»),
    // unless the task's budget is spent: it then yields first (docs/semantics.md, «Cooperative budget»).
    const q = this.q;
    if (overBudget() && (q.buffer.size > 0 || q.writers.size > 0)) return yieldForBudget(current!);
    const item = tryGetValue(q);
    if (item !== EMPTY) return this.done(item);
    const task = current ?? requireTask("Queue.get()");
    if (task.cancelDue) throw new Cancelled();
    task.waitRecord = q.readers.enqueue(task, newReader<T>);
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, T> {
    const task = current!;
    const reader = task.waitRecord as Reader<T> | typeof BUDGET_YIELD;
    task.waitRecord = undefined;
    // Cancelled in a forced yield: the get never ran, so it took nothing.
    if (reader === BUDGET_YIELD) throw error;
    // A value reached this reader in the same round as the cancellation: keep it.
    if (this.q.readers.keepsHandOff(reader)) return this.done(takeReaderValue(reader));
    throw error;
  }
}

function takeReaderValue<T>(reader: Reader<T>): T {
  const value = reader.value as T;
  reader.value = undefined;
  return value;
}

/**
 * The reusable `put` operation. `put(v)` parks `v` in the queue's slot and
 * returns this object; its first `next()` takes the value from the slot. A
 * second `put` made before the first one ran gets a fresh operation instead.
 */
class PutOp<T> extends SuspensionPoint<void> {
  /** The value of the put made but not yet started (only for the shared op). */
  pending: T | undefined = undefined;
  hasPending = false;

  constructor(
    private readonly q: QueueState<T>,
    private readonly shared: boolean,
  ) {
    super();
  }

  next(value?: unknown): IteratorResult<unknown, void> {
    if (value !== undefined) {
      // RESUME: the value was taken, or woken by close, or back from a forced yield.
      const task = current!;
      const writer = task.waitRecord as Writer<T> | typeof BUDGET_YIELD;
      task.waitRecord = undefined;
      if (writer === BUDGET_YIELD) return this.next(undefined); // the put has not run yet: run it now
      this.q.writers.recycle(writer); // the waker took it off the list
      if (writer.handed) return DONE;
      throw this.q.closeError; // woken by close: the value was never delivered
    }
    if (!this.hasPending) {
      throw new WeftUsageError(
        this.shared
          ? "Queue.put(): this operation has already run; call queue.put(value) again for another put"
          : "Queue.put(): an operation object runs once; call queue.put(value) again for another put",
      );
    }
    const q = this.q;
    // Over budget, a put that would complete at once yields first. The value
    // stays pending in this operation meanwhile (a put made by another task
    // then gets an operation of its own, as for any put made but not run).
    if (overBudget() && !q.closed && (q.kind !== Kind.BLOCKING || q.readers.size > 0 || q.buffer.size < q.capacity)) {
      return yieldForBudget(current!);
    }
    const item = this.pending as T;
    this.pending = undefined;
    this.hasPending = false;
    if (tryPutValue(q, item)) return DONE;
    switch (q.kind) {
      case Kind.DISCARD_OLDEST:
        if (q.capacity > 0) {
          q.buffer.shift();
          q.buffer.push(item);
        }
        return DONE;
      case Kind.DISCARD_LATEST:
        return DONE;
    }
    const task = current ?? requireTask("Queue.put()");
    if (task.cancelDue) throw new Cancelled();
    const writer = q.writers.enqueue(task, newWriter<T>);
    writer.value = item;
    task.waitRecord = writer;
    return SUSPENDED_RESULT;
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    const task = current!;
    const writer = task.waitRecord as Writer<T> | typeof BUDGET_YIELD;
    task.waitRecord = undefined;
    if (writer === BUDGET_YIELD) {
      // Cancelled in a forced yield: the put never ran, so nothing was delivered.
      this.pending = undefined;
      this.hasPending = false;
      throw error;
    }
    // The value was taken in the same round as the cancellation: the put happened.
    if (this.q.writers.keepsHandOff(writer)) return DONE;
    writer.value = undefined;
    throw error;
  }
}

const DONE: IteratorResult<never, void> = Object.freeze({ done: true, value: undefined });

function parseOptions(options: unknown): { kind: Kind; capacity: number } {
  if (options === undefined) return { kind: Kind.UNBOUNDED, capacity: Infinity };
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `new Queue(): options must be a QueueOptions object such as { kind: "blocking", capacity: 16 }, got ${describe(options)}`,
    );
  }
  const { kind: name, capacity } = options as { kind?: unknown; capacity?: unknown };
  let parsed: Kind;
  switch (name) {
    case "unbounded":
      return { kind: Kind.UNBOUNDED, capacity: Infinity };
    case "blocking":
      parsed = Kind.BLOCKING;
      break;
    case "discardOldest":
      parsed = Kind.DISCARD_OLDEST;
      break;
    case "discardLatest":
      parsed = Kind.DISCARD_LATEST;
      break;
    default:
      throw new TypeError(
        `new Queue(): options.kind must be "unbounded", "blocking", "discardOldest" or "discardLatest", got ${describe(name)}`,
      );
  }
  if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 0) {
    throw new RangeError(`new Queue(): options.capacity must be an integer >= 0, got ${describe(capacity)}`);
  }
  return { kind: parsed, capacity };
}

/**
 * Options for {@link Queue.close}.
 *
 * @example
 * ```ts
 * const queue = new Queue<number>();
 * queue.tryPut(1);
 * const options: QueueCloseOptions = { clear: true };
 * queue.close(undefined, options);
 * console.log(queue.size); // prints 0
 * ```
 */
export interface QueueCloseOptions {
  /** Drop the buffered items: readers get the close error at once instead of after draining them (default false). */
  clear?: boolean;
}

/**
 * An asynchronous FIFO queue between tasks.
 *
 * Readers and writers are served strictly in arrival order. A cancelled `get`
 * never consumes an item, and a cancelled `put` either delivered its value
 * (it returned) or did not (it threw); if the hand-off happened in the same
 * round as the cancellation, the operation succeeds and the task meets the
 * cancellation at its next suspension point.
 *
 * @example
 * ```ts
 * type Job = { id: number };
 * const pending: Job[] = Array.from({ length: 20 }, (_, id) => ({ id }));
 * function* runJob(job: Job): Operation<void> {
 *   yield* sleep(1);
 *   if (job.id === 19) console.log("last job done"); // prints last job done
 * }
 * const jobs = new Queue<Job>({ kind: "blocking", capacity: 8 });
 * yield* withTaskGroup<void>(function* (group) {
 *   group.startSoon(function* () {
 *     for (const job of pending) yield* jobs.put(job); // waits while 8 are queued
 *     jobs.close();
 *   });
 *   try {
 *     for (;;) yield* runJob(yield* jobs.get());
 *   } catch (e) {
 *     if (!(e instanceof QueueClosed)) throw e;
 *   }
 * });
 * ```
 */
export class Queue<T> {
  readonly #state: QueueState<T>;
  readonly #get: Operation<T>;
  readonly #put: PutOp<T>;

  /**
   * Creates an empty, open queue.
   *
   * @param options the queue's kind: what happens when it is full (default: `{ kind: "unbounded" }`)
   */
  constructor(options?: QueueOptions) {
    const { kind: parsed, capacity } = parseOptions(options);
    this.#state = {
      kind: parsed,
      capacity,
      buffer: new Ring<T>(parsed === Kind.UNBOUNDED ? 16 : Math.min(capacity, 1024)),
      readers: new WaiterList<Reader<T>>(),
      writers: new WaiterList<Writer<T>>(),
      closed: false,
      closeError: undefined,
    };
    this.#get = asOperation(new GetOp(this.#state));
    this.#put = new PutOp(this.#state, true);
  }

  /** The number of buffered items (not counting values held by blocked writers). */
  get size(): number {
    return this.#state.buffer.size;
  }

  /** Whether `close` has been called. */
  get closed(): boolean {
    return this.#state.closed;
  }

  /**
   * Waits for an item and returns it (at once if one is buffered). Once the
   * queue is closed and drained it throws the close error.
   */
  get(): Operation<T> {
    return this.#get;
  }

  /**
   * Puts `value`: hands it to the oldest waiting reader, or buffers it. When
   * the queue is full, a `blocking` queue waits for room, `discardOldest`
   * drops the oldest item and `discardLatest` drops `value`. Throws the close
   * error if the queue is closed, also while waiting.
   */
  put(value: T): Operation<void> {
    const shared = this.#put;
    if (shared.hasPending) {
      // An earlier put(...) was made but not run yet: this one gets its own operation.
      const own = new PutOp(this.#state, false);
      own.pending = value;
      own.hasPending = true;
      return asOperation(own);
    }
    shared.pending = value;
    shared.hasPending = true;
    return asOperation(shared);
  }

  /**
   * Puts `value` if that needs no waiting (a reader waits, or there is room);
   * returns false otherwise. Never evicts, whatever the kind. Throws the
   * close error if the queue is closed.
   */
  tryPut(value: T): boolean {
    return tryPutValue(this.#state, value);
  }

  /**
   * Takes an item if one is available now, else returns `undefined`. Throws
   * the close error once the queue is closed and drained.
   */
  tryGet(): T | undefined {
    const item = tryGetValue(this.#state);
    return item === EMPTY ? undefined : item;
  }

  /**
   * Closes the queue: later `put`/`tryPut` throw `error` (a new
   * `QueueClosed` by default), and so do `get`/`tryGet` once the buffered
   * items are drained, at once with `{ clear: true }`. Blocked readers and
   * blocked writers are woken with the error; a blocked writer's value is then
   * never delivered. Closing again replaces the error.
   */
  close(error?: unknown, options?: QueueCloseOptions): void {
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new TypeError(`Queue.close(): options must be an object, got ${describe(options)}`);
    }
    const q = this.#state;
    q.closed = true;
    q.closeError = error === undefined ? new QueueClosed() : error;
    if (options?.clear === true) while (q.buffer.size > 0) q.buffer.shift();
    while (q.readers.wakeFirst(false) !== null) {}
    for (let writer = q.writers.wakeFirst(false); writer !== null; writer = q.writers.wakeFirst(false)) writer.value = undefined;
  }
}
