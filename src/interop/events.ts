/**
 * `on` and `once`: the events of an `EventTarget` or of a Node-style emitter,
 * waited for by a task. Duck-typed, so this module imports nothing from a host.
 */
import { action } from "../core/action.ts";
import { describe, type Operation } from "../core/operation.ts";
import { requireTask } from "../core/scheduler.ts";
import { tieToOwner } from "../group/lifetime.ts";
import { Queue, QueueClosed } from "../sync/queue.ts";

/**
 * What {@link on} and {@link once} accept as a DOM-style target: anything with
 * `addEventListener` and `removeEventListener` (an `EventTarget`, an
 * `AbortSignal`, a `WebSocket`, a DOM element, a `MessagePort`…). The
 * subscription's value is the event object the listener receives.
 *
 * @example
 * ```ts
 * const target: EventTargetLike = new EventTarget();
 * console.log(typeof target.addEventListener); // prints function
 * ```
 */
export interface EventTargetLike {
  // The listener's type is `never` so that every target's own listener type fits.
  /** Adds `listener` for events named `type`. */
  addEventListener(type: string, listener: never): void;
  /** Removes a listener added by `addEventListener`. */
  removeEventListener(type: string, listener: never): void;
}

/**
 * What {@link on} and {@link once} accept as an emitter: anything with `on`
 * and `off` (Node's `EventEmitter` and the objects built on it: streams,
 * sockets, child processes). The subscription's value is the first argument
 * the listener receives. An emitter's `"error"` event ends the wait: see
 * {@link on}.
 *
 * @example
 * ```ts
 * const listeners = new Map<string | symbol, (value: number) => void>();
 * const emitter: EventEmitterLike = {
 *   on: (name, listener) => listeners.set(name, listener as (value: number) => void),
 *   off: (name) => listeners.delete(name),
 * };
 * console.log(typeof emitter.on); // prints function
 * ```
 */
export interface EventEmitterLike {
  // The listener's type is `never` so that every emitter's own listener type fits.
  /** Adds `listener` for the event `name`. */
  on(name: string | symbol, listener: never): unknown;
  /** Removes a listener added by `on`. */
  off(name: string | symbol, listener: never): unknown;
}

/**
 * What a subscription made by {@link on} does with an event that finds its
 * buffer full: `"fail"` ends the subscription with {@link EventOverflow} (after
 * the buffered events are taken), `"discardOldest"` drops the oldest buffered
 * event, `"discardLatest"` drops the new one.
 *
 * @example
 * ```ts
 * const policy: EventOverflowPolicy = "discardOldest"; // keep only the latest events
 * console.log(policy); // prints discardOldest
 * ```
 */
export type EventOverflowPolicy = "fail" | "discardOldest" | "discardLatest";

/**
 * Options for {@link on}.
 *
 * @example
 * ```ts
 * const options: OnOptions = { capacity: 1, policy: "discardOldest" }; // only the latest event
 * console.log(options.capacity); // prints 1
 * ```
 */
export interface OnOptions {
  /**
   * How many events may wait in the buffer for a `get` (default 1024;
   * `Infinity` for no bound, 0 to receive only while a task waits in `get`).
   */
  capacity?: number;
  /** What an event that finds the buffer full does (default `"fail"`). */
  policy?: EventOverflowPolicy;
}

/**
 * Thrown by an {@link EventSubscription}'s `get` when an event found the
 * buffer full under the `"fail"` policy, once the events buffered before it
 * were taken. The subscription is closed: its listener was removed when the
 * event was refused.
 *
 * @example
 * ```ts
 * const target = new EventTarget();
 * const sub = yield* on<Event>(target, "tick", { capacity: 1 });
 * target.dispatchEvent(new Event("tick"));
 * target.dispatchEvent(new Event("tick")); // no room: the subscription fails
 * console.log((yield* sub.get()).type); // prints tick
 * try {
 *   yield* sub.get();
 * } catch (e) {
 *   console.log(e instanceof EventOverflow); // prints true
 * }
 * ```
 */
export class EventOverflow extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message: string) {
    super(message);
    this.name = "EventOverflow";
  }
}

/**
 * A subscription made by {@link on}: the events of one name, buffered in
 * arrival order until a task takes them. It ends when the code that made it
 * ends (its task, or the `withTimeout` body it runs in; made in a task
 * group's body, when the whole group has ended), or earlier by `close()` (also by leaving the block of a `using`
 * declaration); from then on its listener is gone.
 *
 * @example
 * ```ts
 * const target = new EventTarget();
 * using sub = yield* on<Event>(target, "ping");
 * target.dispatchEvent(new Event("ping"));
 * console.log(sub.size); // prints 1
 * console.log((yield* sub.get()).type); // prints ping
 * ```
 */
export interface EventSubscription<E> {
  /** How many events wait in the buffer. */
  readonly size: number;
  /** True once the subscription has ended (closed, failed, or its task ended). */
  readonly closed: boolean;
  /**
   * Waits for the next event and returns it (at once if one is buffered). A
   * cancelled `get` takes no event. Once the subscription has ended and its
   * buffer is drained it throws: `QueueClosed` after `close()` or the end of
   * its task, {@link EventOverflow} after an overflow under `"fail"`, or the
   * error an emitter reported with its `"error"` event.
   */
  get(): Operation<E>;
  /** Takes a buffered event if there is one, else returns `undefined`; throws as `get` once ended and drained. */
  tryGet(): E | undefined;
  /** Removes the listener; buffered events can still be taken, then `get` throws `QueueClosed`. Idempotent. */
  close(): void;
  /** Closes the subscription (for `using`). */
  [Symbol.dispose](): void;
}

type Listener = (value: unknown) => void;

/** The add and remove of one target, whichever kind it is. */
interface Attachment {
  add(name: string | symbol, listener: Listener): void;
  remove(name: string | symbol, listener: Listener): void;
  /** True for an emitter, whose `"error"` event is listened to as well. */
  emitter: boolean;
}

function attachmentOf(api: string, target: unknown): Attachment {
  const t = target as Partial<EventTargetLike & EventEmitterLike & { removeListener: EventEmitterLike["off"] }> | null;
  if (typeof t === "object" || typeof t === "function") {
    if (t !== null && typeof t.addEventListener === "function" && typeof t.removeEventListener === "function") {
      const add = t.addEventListener;
      const remove = t.removeEventListener;
      return {
        add: (name, listener) => add.call(t, name as string, listener as never),
        remove: (name, listener) => remove.call(t, name as string, listener as never),
        emitter: false,
      };
    }
    const off = t?.off ?? t?.removeListener;
    if (t !== null && typeof t.on === "function" && typeof off === "function") {
      const add = t.on;
      return {
        add: (name, listener) => void add.call(t, name, listener as never),
        remove: (name, listener) => void off.call(t, name, listener as never),
        emitter: true,
      };
    }
  }
  throw new TypeError(
    `${api}: target must be an EventTarget (addEventListener/removeEventListener) or an emitter (on/off), got ${describe(target)}`,
  );
}

function requireEventName(api: string, target: Attachment, name: unknown): asserts name is string | symbol {
  if (typeof name === "string" || (typeof name === "symbol" && target.emitter)) return;
  throw new TypeError(`${api}: eventName must be a string${target.emitter ? " or a symbol" : ""}, got ${describe(name)}`);
}

function parseOnOptions(options: unknown): { capacity: number; policy: EventOverflowPolicy } {
  if (options === undefined) return { capacity: 1024, policy: "fail" };
  if (typeof options !== "object" || options === null) throw new TypeError(`on(): options must be an object, got ${describe(options)}`);
  const { capacity = 1024, policy = "fail" } = options as { capacity?: unknown; policy?: unknown };
  if (typeof capacity !== "number") throw new TypeError(`on(): options.capacity must be a number, got ${describe(capacity)}`);
  if (capacity !== Infinity && (!Number.isInteger(capacity) || capacity < 0)) {
    throw new RangeError(`on(): options.capacity must be an integer >= 0 or Infinity, got ${capacity}`);
  }
  if (policy !== "fail" && policy !== "discardOldest" && policy !== "discardLatest") {
    throw new TypeError(`on(): options.policy must be "fail", "discardOldest" or "discardLatest", got ${describe(policy)}`);
  }
  return { capacity, policy };
}

function queueFor<E>(capacity: number, policy: EventOverflowPolicy): Queue<E> {
  if (capacity === Infinity) return new Queue<E>();
  // "fail" is a blocking queue that is never waited on: a refused tryPut is the overflow.
  return new Queue<E>({ kind: policy === "fail" ? "blocking" : policy, capacity });
}

class Subscription<E> implements EventSubscription<E> {
  readonly #queue: Queue<E>;
  #detach: (() => void) | null;

  constructor(queue: Queue<E>, detach: () => void) {
    this.#queue = queue;
    this.#detach = detach;
  }

  get size(): number {
    return this.#queue.size;
  }

  get closed(): boolean {
    return this.#queue.closed;
  }

  get(): Operation<E> {
    return this.#queue.get();
  }

  tryGet(): E | undefined {
    return this.#queue.tryGet();
  }

  /** Removes the listeners and closes the queue with `error` (keeping the buffered events). */
  end(error: unknown): void {
    const detach = this.#detach;
    if (detach === null) return;
    this.#detach = null;
    detach();
    this.#queue.close(error);
  }

  close(): void {
    this.end(new QueueClosed("on(): the subscription is closed"));
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Subscribes the current task to the events named `eventName` of `target`
 * (an {@link EventTargetLike} or an {@link EventEmitterLike}): from now on each
 * event is buffered, in arrival order, until a task takes it with `get`. The
 * listener is removed when the code that subscribed ends (its task by value,
 * error or cancellation, or the `withTimeout` body it runs in; made in a
 * task group's body, when the whole group has ended) or when the
 * subscription is closed, whichever comes first.
 *
 * The buffer is bounded (`capacity`, 1024 by default): an event that finds it
 * full ends the subscription with {@link EventOverflow} (`policy: "fail"`,
 * the default: a consumer that falls behind learns of it) or is dropped
 * (`"discardOldest"`, `"discardLatest"`). On an emitter, an `"error"` event
 * ends the subscription with that error, as Node's `events.on` does (the
 * listener it adds means the emitter no longer throws it).
 *
 * @example
 * ```ts
 * const target = new EventTarget();
 * yield* withTaskGroup<void>(function* (group) {
 *   const ticks = yield* on<Event>(target, "tick", { capacity: 16 });
 *   group.startSoon(function* () {
 *     for (let i = 0; i < 3; i++) {
 *       target.dispatchEvent(new Event("tick"));
 *       yield* sleep(10);
 *     }
 *     ticks.close();
 *   });
 *   let count = 0;
 *   try {
 *     for (;;) {
 *       yield* ticks.get();
 *       count++;
 *     }
 *   } catch (e) {
 *     if (!(e instanceof QueueClosed)) throw e;
 *   }
 *   console.log(count); // prints 3
 * });
 * ```
 */
export function* on<E = unknown>(
  target: EventTargetLike | EventEmitterLike,
  eventName: string | symbol,
  options?: OnOptions,
): Operation<EventSubscription<E>> {
  const attachment = attachmentOf("on()", target);
  requireEventName("on()", attachment, eventName);
  const { capacity, policy } = parseOnOptions(options);
  const task = requireTask("on()");
  const queue = queueFor<E>(capacity, policy);
  const listenForError = attachment.emitter && eventName !== "error";
  const onEvent: Listener = (value) => {
    if (queue.closed) return;
    if (queue.tryPut(value as E)) return;
    if (policy === "fail") {
      subscription.end(
        new EventOverflow(
          `on(): an event ${typeof eventName === "string" ? JSON.stringify(eventName) : String(eventName)} found the buffer full (capacity ${capacity}); the subscription was closed ` +
            "(take events faster, or pass a larger options.capacity or a discard options.policy)",
        ),
      );
      return;
    }
    // A discard policy: "discardLatest" drops this event; "discardOldest" makes room for it.
    if (policy === "discardOldest" && capacity > 0) {
      queue.tryGet();
      queue.tryPut(value as E);
    }
  };
  const onError: Listener = (error) => subscription.end(error);
  const subscription = new Subscription<E>(queue, () => {
    attachment.remove(eventName, onEvent);
    if (listenForError) attachment.remove("error", onError);
    untie();
  });
  // Ends with the code that made it; in a group's body, with the whole group.
  const untie = tieToOwner(task, () => subscription.close());
  attachment.add(eventName, onEvent);
  if (listenForError) attachment.add("error", onError);
  return subscription;
}

/**
 * Waits for the next event named `eventName` of `target` and returns it (the
 * event object, or an emitter's first argument). Cancellable: a cancelled
 * `once` removes its listener at once. On an emitter, an `"error"` event
 * while waiting is thrown, as Node's `events.once` does.
 *
 * @example
 * ```ts
 * const target = new EventTarget();
 * yield* withTaskGroup<void>(function* (group) {
 *   group.startSoon(function* () {
 *     yield* sleep(10);
 *     target.dispatchEvent(new Event("ready"));
 *   });
 *   const event = yield* once<Event>(target, "ready");
 *   console.log(event.type); // prints ready
 * });
 * ```
 */
export function* once<E = unknown>(target: EventTargetLike | EventEmitterLike, eventName: string | symbol): Operation<E> {
  const attachment = attachmentOf("once()", target);
  requireEventName("once()", attachment, eventName);
  const listenForError = attachment.emitter && eventName !== "error";
  return yield* action<E>((resolve, reject) => {
    const onEvent: Listener = (value) => resolve(value as E);
    const onError: Listener = (error) => reject(error);
    attachment.add(eventName, onEvent);
    if (listenForError) attachment.add("error", onError);
    return () => {
      attachment.remove(eventName, onEvent);
      if (listenForError) attachment.remove("error", onError);
    };
  });
}
