/**
 * `Broadcast<T>`: publish/subscribe with a bounded buffer per subscriber
 * (docs/semantics.md, «Broadcast»).
 *
 * Each subscription is an unbounded weft `Queue` whose bound the broadcast
 * enforces itself, so reads keep the queue's guarantees (a cancelled read
 * takes nothing, a hand-off that came first is kept) and a publish can check
 * every buffer before it touches any: that is what makes a blocked publish
 * all-or-nothing.
 */
import { budgetYield, overBudget } from "../core/budget.ts";
import type { Coroutine } from "../core/coroutine.ts";
import { describe, type Operation } from "../core/operation.ts";
import { requireTask } from "../core/scheduler.ts";
import { tieToOwner } from "../group/lifetime.ts";
import type { ItemSource } from "../interop/each.ts";
import { CondVar } from "./cond_var.ts";
import { Mutex } from "./mutex.ts";
import { Queue, QueueClosed } from "./queue.ts";

/**
 * Thrown by a subscription's reads once the `dropSubscriber` policy dropped
 * it: a message arrived while its buffer was full. Its buffered messages are
 * discarded; the subscriber missed messages from that point on.
 *
 * @example
 * ```ts
 * const bus = new Broadcast<number>({ capacity: 1, policy: "dropSubscriber" });
 * const sub = bus.subscribe();
 * yield* bus.publish(1);
 * yield* bus.publish(2); // sub's buffer is full: sub is dropped
 * try {
 *   yield* sub.get();
 * } catch (e) {
 *   console.log(e instanceof SubscriberDropped); // prints true
 * }
 * ```
 */
export class SubscriberDropped extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message = "this subscriber was dropped: a message arrived while its buffer was full (policy dropSubscriber)") {
    super(message);
    this.name = "SubscriberDropped";
  }
}

/**
 * What a publish does when a subscriber's buffer is full: `block` waits
 * until every subscriber has room, then delivers to all at once;
 * `dropOldest` discards that subscriber's oldest buffered message;
 * `dropSubscriber` ends that subscription (its reads throw
 * {@link SubscriberDropped}).
 *
 * @example
 * ```ts
 * const policy: BroadcastPolicy = "dropOldest";
 * console.log(new Broadcast<string>({ capacity: 8, policy }).policy); // prints dropOldest
 * ```
 */
export type BroadcastPolicy = "block" | "dropOldest" | "dropSubscriber";

/**
 * The options of a {@link Broadcast}.
 *
 * @example
 * ```ts
 * const options: BroadcastOptions = { capacity: 16, policy: "block" };
 * console.log(new Broadcast<number>(options).capacity); // prints 16
 * ```
 */
export interface BroadcastOptions {
  /** How many messages each subscriber may have buffered: an integer >= 1. */
  capacity: number;
  /** What happens when a subscriber's buffer is full; `block` by default. */
  policy?: BroadcastPolicy;
}

const POLICIES: readonly string[] = ["block", "dropOldest", "dropSubscriber"];

/**
 * A publish/subscribe channel: every subscriber gets every message published
 * after it subscribed, in publish order, unless its buffer overflowed under
 * a dropping policy. A subscription belongs to the code that made it (its
 * task, or the `withTimeout` body it runs in) and ends with it, so a
 * subscriber that forgot to unsubscribe never holds publishers back.
 *
 * Cancellation loses nothing: a cancelled `publish` delivered its message to
 * every subscriber or to none (under `block` it delivers only once every
 * buffer has room, all in one step), and a cancelled read takes no message.
 *
 * @example
 * ```ts
 * const bus = new Broadcast<string>({ capacity: 4 });
 * yield* withTaskGroup(function* (group) {
 *   for (const name of ["a", "b"]) {
 *     const sub = bus.subscribe(); // subscribe before publishing: it gets everything from now on
 *     group.startSoon(function* () {
 *       yield* each(sub, function* (msg) { console.log(name, msg); });
 *     });
 *   }
 *   yield* bus.publish("hello");
 *   yield* bus.publish("world");
 *   bus.close(); // the subscribers read what is buffered, then their each() ends
 * });
 * // prints a hello, a world, b hello, b world (each subscriber reads its own buffer)
 * ```
 */
export class Broadcast<T> {
  /** How many messages each subscriber may have buffered. */
  readonly capacity: number;
  /** What a publish does when a subscriber's buffer is full. */
  readonly policy: BroadcastPolicy;
  readonly #subscriptions = new Set<Subscriber<T>>();
  /** Blocked publishers queue here, so they deliver in the order they came. */
  readonly #publishers = new Mutex();
  /** The publisher at the head waits here for room. */
  readonly #room = new CondVar();
  #closed = false;

  /**
   * Creates a broadcast channel.
   *
   * @param options the buffer size of each subscriber and the policy when one is full
   */
  constructor(options: BroadcastOptions) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Broadcast: options must be an object { capacity, policy? }, got ${describe(options)}`);
    }
    const { capacity, policy = "block" } = options;
    if (typeof capacity !== "number" || !Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Broadcast: capacity must be an integer >= 1, got ${describe(capacity)}`);
    }
    if (typeof policy !== "string" || !POLICIES.includes(policy)) {
      throw new TypeError(`Broadcast: policy must be "block", "dropOldest" or "dropSubscriber", got ${describe(policy)}`);
    }
    this.capacity = capacity;
    this.policy = policy;
  }

  /** How many subscriptions are live. */
  get subscribers(): number {
    return this.#subscriptions.size;
  }

  /** Whether `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Subscribes the running task: the subscription receives every message
   * published from now on, and ends when the task (or the `withTimeout`
   * body it runs in) ends, or at
   * `unsubscribe()`. Made in the body of a task group, it ends when the
   * whole group has ended, so the tasks the body starts can read it. On a closed
   * broadcast the subscription is already at its end. Throws
   * `WeftUsageError` outside a task.
   */
  subscribe(): Subscription<T> {
    const task = requireTask("Broadcast.subscribe()");
    const sub = new Subscriber<T>(this, task, (s) => this.#detach(s));
    if (this.#closed) sub.end(new QueueClosed("the broadcast is closed"), false);
    else this.#subscriptions.add(sub);
    return sub;
  }

  /**
   * Sends `value` to every subscriber. Under `block` it waits until every
   * subscriber has room; if cancelled while waiting, no subscriber got it.
   * Under the dropping policies it never waits. Throws `QueueClosed` once the
   * broadcast is closed.
   */
  *publish(value: T): Operation<void> {
    // A publish that would deliver at once yields first when the task's
    // budget is spent (docs/semantics.md, «Cooperative budget»): nothing is
    // delivered before the yield, so a cancellation there loses nothing.
    if (overBudget() && !this.#closed && this.#deliversNow()) yield* budgetYield();
    this.#checkOpen();
    if (this.#deliversNow()) {
      this.#deliver(value);
      return;
    }
    yield* this.#publishers.acquire();
    try {
      while (!this.#closed && !this.#hasRoom()) yield* this.#room.wait();
      this.#checkOpen();
      this.#deliver(value);
    } finally {
      this.#publishers.release();
    }
  }

  /**
   * Sends `value` now if it can: under `block`, returns false and sends
   * nothing if a subscriber is full or a publisher waits. Never waits.
   */
  tryPublish(value: T): boolean {
    this.#checkOpen();
    if (this.policy === "block" && (this.#publishers.locked || !this.#hasRoom())) return false;
    this.#deliver(value);
    return true;
  }

  /**
   * Closes the broadcast: publishing throws `QueueClosed` from now on
   * (blocked publishers too, having delivered nothing), and each subscriber
   * reads what it has buffered, then its `get` throws `QueueClosed` and its
   * `each` loop ends. Closing twice does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const subs = [...this.#subscriptions];
    this.#subscriptions.clear();
    for (const sub of subs) sub.end(new QueueClosed("the broadcast is closed"), false);
    this.#room.broadcast();
  }

  #checkOpen(): void {
    if (this.#closed) throw new QueueClosed("Broadcast.publish(): the broadcast is closed");
  }

  /** Whether a publish would deliver without waiting. */
  #deliversNow(): boolean {
    return this.policy !== "block" || (!this.#publishers.locked && this.#hasRoom());
  }

  #hasRoom(): boolean {
    for (const sub of this.#subscriptions) if (sub.size >= this.capacity) return false;
    return true;
  }

  #deliver(value: T): void {
    const capacity = this.capacity;
    for (const sub of this.#subscriptions) {
      if (sub.size >= capacity) {
        if (this.policy === "dropSubscriber") {
          this.#subscriptions.delete(sub);
          sub.end(new SubscriberDropped(), true);
          continue;
        }
        // dropOldest (block never gets here: it delivers only with room everywhere).
        sub.discardOldest();
      }
      sub.push(value);
    }
  }

  /** A subscription read a message or ended: the head publisher may have room now. */
  #detach(sub: Subscriber<T> | null): void {
    if (sub !== null) this.#subscriptions.delete(sub);
    this.#room.signal();
  }
}

/**
 * One subscriber's view of a {@link Broadcast}: its own buffer of the
 * messages published since it subscribed. Read it with `get`, or loop over
 * it with `each` (the loop ends when the broadcast is closed or the
 * subscription ended). It ends with the code that made it; `unsubscribe()`
 * ends it sooner. (It is not `Disposable`, so that the portable entry point
 * typechecks without the `esnext.disposable` lib.)
 *
 * @example
 * ```ts
 * const bus = new Broadcast<number>({ capacity: 2, policy: "dropOldest" });
 * const sub = bus.subscribe();
 * for (let i = 1; i <= 5; i++) yield* bus.publish(i);
 * console.log(sub.size, sub.dropped); // prints 2 3
 * console.log(yield* sub.get(), yield* sub.get()); // prints 4 5
 * ```
 */
export interface Subscription<T> extends ItemSource<T> {
  /** The broadcast this subscription listens to. */
  readonly broadcast: Broadcast<T>;
  /** How many messages are buffered, waiting to be read. */
  readonly size: number;
  /** How many messages the `dropOldest` policy discarded from this buffer. */
  readonly dropped: number;
  /** Whether the subscription ended (unsubscribed, dropped, its task ended, or the broadcast closed). */
  readonly ended: boolean;
  /**
   * Waits for the next message and takes it. A cancelled `get` takes
   * nothing. Throws `QueueClosed` once the subscription ended and its buffer
   * is drained (after `unsubscribe`, at once), {@link SubscriberDropped} if
   * it was dropped.
   */
  get(): Operation<T>;
  /** Takes a buffered message if there is one; never waits. Throws as `get` does once ended and drained. */
  tryGet(): T | undefined;
  /**
   * The {@link ItemSource} form of `get`, for `each`: the loop ends when the
   * subscription ended normally, and throws {@link SubscriberDropped} if it
   * was dropped.
   */
  nextItem(): Operation<IteratorResult<T, unknown>>;
  /** Ends the subscription now: buffered messages are discarded, and publishers stop waiting for it. */
  unsubscribe(): void;
}

/** The implementation of {@link Subscription}; its extra methods are the broadcast's alone. */
class Subscriber<T> implements Subscription<T> {
  readonly #buffer = new Queue<T>();
  readonly #broadcast: Broadcast<T>;
  readonly #onChange: (sub: Subscriber<T> | null) => void;
  /** Unties the subscription from the life of the code that made it. */
  readonly #untie: () => void;
  #ended = false;
  #dropped = 0;

  constructor(broadcast: Broadcast<T>, task: Coroutine, onChange: (sub: Subscriber<T> | null) => void) {
    this.#broadcast = broadcast;
    this.#onChange = onChange;
    // Ends with the code that made it; in a group's body, with the whole group.
    this.#untie = tieToOwner(task, () => this.unsubscribe());
  }

  /** The broadcast this subscription listens to. */
  get broadcast(): Broadcast<T> {
    return this.#broadcast;
  }

  /** How many messages are buffered, waiting to be read. */
  get size(): number {
    return this.#buffer.size;
  }

  /** How many messages the `dropOldest` policy discarded from this buffer. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether the subscription ended (unsubscribed, dropped, its task ended, or the broadcast closed). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Waits for the next message and takes it. A cancelled `get` takes
   * nothing. Throws `QueueClosed` once the subscription ended and its buffer
   * is drained (after `unsubscribe`, at once), {@link SubscriberDropped} if
   * it was dropped.
   */
  *get(): Operation<T> {
    const value = yield* this.#buffer.get();
    this.#onChange(null);
    return value;
  }

  /** Takes a buffered message if there is one; never waits. Throws as `get` does once ended and drained. */
  tryGet(): T | undefined {
    const size = this.#buffer.size;
    const value = this.#buffer.tryGet();
    if (size > 0) this.#onChange(null);
    return value;
  }

  /**
   * The {@link ItemSource} form of {@link Subscription.get}, for `each`: the
   * loop ends when the subscription ended normally, and throws
   * {@link SubscriberDropped} if it was dropped.
   */
  *nextItem(): Operation<IteratorResult<T, unknown>> {
    try {
      return { done: false, value: yield* this.get() };
    } catch (error) {
      if (error instanceof QueueClosed) return { done: true, value: undefined };
      throw error;
    }
  }

  /** Ends the subscription now: buffered messages are discarded, and publishers stop waiting for it. */
  unsubscribe(): void {
    this.end(new QueueClosed("the subscription has ended"), true);
  }

  end(error: Error, clear: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#buffer.close(error, { clear });
    this.#untie();
    this.#onChange(this);
  }

  push(value: T): void {
    this.#buffer.tryPut(value);
  }

  discardOldest(): void {
    this.#buffer.tryGet();
    this.#dropped++;
  }
}
