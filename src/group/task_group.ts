/**
 * Task groups: `withTaskGroup` and the `TaskGroup` handle (see
 * docs/semantics.md, «Groups», and «Errors» for "first failure wins, later errors are suppressed").
 */
import { callBody } from "../core/cancel.ts";
import { debugEnabled } from "../core/debug.ts";
import { Flag, type CancelPropagator, type ChildOwner, type Coroutine } from "../core/coroutine.ts";
import { addSuppressed, BreakFromSpawnLoop, Cancelled, stacklessCancelled, WeftUsageError } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { park } from "../core/pause.ts";
import { current, requireTask } from "../core/scheduler.ts";
import type { Task } from "../core/task.ts";
import { retry, validateRetryMethod, validateRetryOptions, type RetryMethod } from "./retry.ts";

/**
 * Options for {@link TaskGroup.spawn} and {@link TaskGroup.startSoon}.
 *
 * @example
 * ```ts
 * const result = yield* withTaskGroup<string>(function* (group) {
 *   group.startSoon(function* () {
 *     for (;;) yield* sleep(10); // a heartbeat
 *   }, { daemon: true }); // cancelled when the rest is done
 *   const probe = group.spawn(function* (): Operation<string> {
 *     throw new Error("host unreachable");
 *   }, { allowFailure: true }); // its failure does not fail the group
 *   try {
 *     return yield* probe.wait();
 *   } catch (e) {
 *     return `probe failed: ${(e as Error).message}`;
 *   }
 * });
 * console.log(result); // prints probe failed: host unreachable
 * ```
 */
export interface SpawnOptions {
  /**
   * A daemon task: the group does not wait for it. Once every task that is
   * not a daemon has ended, the daemons still running are cancelled, and the
   * group returns after they have ended (no task outlives its group). For
   * helpers that live as long as the real work (a heartbeat, a progress
   * reporter). Default `false`: the group waits for the task.
   */
  daemon?: boolean;
  /** A failure of this task does not fail the group; only its `Task` handle reports it. */
  allowFailure?: boolean;
}

/**
 * Options for {@link TaskGroup.spawnLoop}.
 *
 * @example
 * ```ts
 * class ListenerClosed extends Error {}
 * const incoming = new Queue<string>();
 * for (const request of ["a", "bad", "b"]) incoming.tryPut(request);
 * incoming.close(new ListenerClosed());
 * yield* withTaskGroup(function* (group) {
 *   group.spawnLoop(function* () {
 *     const request = yield* incoming.get(); // throws ListenerClosed once drained
 *     if (request === "bad") throw new Error("bad request"); // retried after a pause
 *     console.log(`served ${request}`); // prints served a, then served b
 *   }, {
 *     retry: { kind: "exponentialDelay", initialMs: 5, factor: 2, maximumMs: 50 },
 *     fatalError: (e) => e instanceof ListenerClosed, // the end of the loop, not retried
 *     allowFailure: true, // and not a failure of the group
 *   });
 * });
 * ```
 */
export interface SpawnLoopOptions extends SpawnOptions {
  /** Retry a failed iteration with this back-off instead of ending the loop. */
  retry?: RetryMethod;
  /** With `retry`: how many times one iteration may be retried. */
  maxRetry?: number;
  /** With `retry`: errors for which retrying is pointless. */
  fatalError?: (error: unknown) => boolean;
}

/**
 * The handle a {@link withTaskGroup} body receives: it spawns the group's
 * tasks, registers cleanup, and can end the group early.
 */
export interface TaskGroup<T> {
  /**
   * Starts `body` as a task of the group (in a later round, never inside this
   * call) and returns its handle. Throws `WeftUsageError` if the group has
   * already finished.
   *
   * @example
   * ```ts
   * function* fetchUser(id: number): Operation<{ id: number; name: string }> {
   *   yield* sleep(5);
   *   return { id, name: "Ada" };
   * }
   * yield* withTaskGroup(function* (group) {
   *   const task = group.spawn(function* () { return yield* fetchUser(7); });
   *   const user = yield* task.wait();
   *   console.log(user.name); // prints Ada
   * });
   * ```
   */
  spawn<X>(body: () => Operation<X>, options?: SpawnOptions): Task<X>;
  /**
   * Starts `body` as a task of the group, like {@link TaskGroup.spawn}, for a
   * task whose value nobody needs: no handle is returned. The task starts in a
   * later round (never inside this call), and the group waits for it like any
   * other unless it is a `daemon`. Its failure fails the group unless
   * `allowFailure` is set (then the failure is dropped, since no handle can
   * report it).
   *
   * @example
   * ```ts
   * let beats = 0;
   * yield* withTaskGroup(function* (group) {
   *   group.startSoon(function* () { for (;;) { yield* sleep(5); beats++; } }, { daemon: true });
   *   yield* sleep(50); // the real work; the heartbeat is cancelled when it is done
   * });
   * console.log(beats > 0); // prints true
   * ```
   */
  startSoon(body: () => Operation<void>, options?: SpawnOptions): void;
  /**
   * Starts a task that runs `body` over and over until it throws
   * {@link BreakFromSpawnLoop} (a normal end) or another error (the task's
   * failure, unless `retry` is given: then the iteration is retried with that
   * back-off, which starts afresh after each success). There is no implicit
   * yield between iterations: a body that never suspends spins.
   *
   * @example
   * ```ts
   * const jobs = new Queue<number>();
   * for (const job of [1, 2, 3]) jobs.tryPut(job);
   * jobs.close();
   * let failedOnce = false;
   * function* handle(job: number): Operation<void> {
   *   if (job === 2 && !failedOnce) { failedOnce = true; throw new Error("flaky"); }
   *   console.log(`job ${job} done`); // prints job 1 done, then job 3 done
   * }
   * yield* withTaskGroup(function* (group) {
   *   group.spawnLoop(function* () {
   *     let job: number;
   *     try {
   *       job = yield* jobs.get();
   *     } catch (e) {
   *       if (e instanceof QueueClosed) throw new BreakFromSpawnLoop();
   *       throw e;
   *     }
   *     yield* handle(job);
   *   }, { retry: { kind: "fixedDelay", delayMs: 10 }, maxRetry: 3 }); // a retried iteration starts over: job 2 is not seen again
   * });
   * ```
   */
  spawnLoop(body: () => Operation<void>, options?: SpawnLoopOptions): void;
  /**
   * Registers cleanup that runs in the group's caller after every task of the
   * group has ended, in reverse order of registration. Throws
   * `WeftUsageError` once the group is no longer running (finished, failed or
   * cancelled).
   *
   * @example
   * ```ts
   * const [reader, writer] = pipe();
   * yield* withTaskGroup(function* (group) {
   *   group.addDefer(function* () {
   *     writer.close(); // runs after every task of the group has ended
   *     console.log("closed"); // prints closed, after wrote
   *   });
   *   group.startSoon(function* () {
   *     yield* writer.write("hello");
   *     console.log("wrote"); // prints wrote
   *   });
   *   yield* reader.readExactly(5);
   * });
   * ```
   */
  addDefer(body: () => Operation<void>): void;
  /**
   * Ends the group now with `value` (unless a value was already set): every
   * task of the group is cancelled, and `withTaskGroup` returns `value` once
   * they have all ended. Called from a task of the group, it throws
   * `Cancelled` at once so the caller stops there too.
   *
   * @example
   * ```ts
   * const outcome = yield* withTaskGroup<string>(function* (group) {
   *   group.startSoon(function* () {
   *     yield* sleep(20);
   *     group.returnImmediately("gave up");
   *   }, { daemon: true });
   *   yield* sleep(60_000); // the work that took too long
   *   return "done";
   * });
   * console.log(outcome); // prints gave up
   * ```
   */
  returnImmediately(value: T): void;
}

const enum GroupState {
  RUNNING,
  DONE,
  FAILED,
  /**
   * The caller was cancelled while the group ran: every task is cancelled, and
   * the outcome waits for them. If the body returned (its blocking operation
   * had completed before it could see the cancellation) and every other task
   * the group waits for returned too, the body's value is the outcome;
   * otherwise the cancellation is. See docs/semantics.md, "Outcomes".
   */
  CANCELLED,
}

export class Group<T> implements TaskGroup<T>, ChildOwner, CancelPropagator {
  state: GroupState = GroupState.RUNNING;
  error: unknown = undefined;
  result: T | undefined = undefined;
  hasResult = false;
  /** Live children, in spawn order. */
  head: Coroutine | null = null;
  tail: Coroutine | null = null;
  count = 0;
  /** Live children the group waits for (not `daemon`). */
  waiting = 0;
  /** In state CANCELLED: a task the group waits for ended without returning. */
  cutShort = false;
  defers: (() => Operation<void>)[] | null = null;

  constructor(readonly parent: Coroutine) {}

  spawn<X>(body: () => Operation<X>, options?: SpawnOptions): Task<X> {
    requireGroup(this, "TaskGroup.spawn()");
    requireFunction("TaskGroup.spawn()", "body", body);
    return this.spawnChild(body, spawnFlags("TaskGroup.spawn()", options)) as unknown as Task<X>;
  }

  startSoon(body: () => Operation<void>, options?: SpawnOptions): void {
    requireGroup(this, "TaskGroup.startSoon()");
    requireFunction("TaskGroup.startSoon()", "body", body);
    this.spawnChild(body, spawnFlags("TaskGroup.startSoon()", options));
  }

  spawnLoop(body: () => Operation<void>, options?: SpawnLoopOptions): void {
    requireGroup(this, "TaskGroup.spawnLoop()");
    requireFunction("TaskGroup.spawnLoop()", "body", body);
    const flags = spawnFlags("TaskGroup.spawnLoop()", options);
    const method = options?.retry;
    if (method !== undefined) validateRetryMethod("TaskGroup.spawnLoop()", method);
    validateRetryOptions("TaskGroup.spawnLoop()", options);
    const maxRetry = options?.maxRetry;
    const userFatal = options?.fatalError;
    const fatalError = (error: unknown): boolean => error instanceof BreakFromSpawnLoop || (userFatal !== undefined && userFatal(error));
    this.spawnChild(function* spawnLoop(): Operation<void> {
      try {
        if (method === undefined) {
          for (;;) yield* callBody("TaskGroup.spawnLoop()", body);
        } else {
          for (;;) yield* retry(method, body, { maxRetry, fatalError });
        }
      } catch (error) {
        if (error instanceof BreakFromSpawnLoop) return;
        throw error;
      }
    }, flags);
  }

  addDefer(body: () => Operation<void>): void {
    requireGroup(this, "TaskGroup.addDefer()");
    requireFunction("TaskGroup.addDefer()", "body", body);
    if (this.state !== GroupState.RUNNING) {
      throw new WeftUsageError("TaskGroup.addDefer(): the group is no longer running (it has finished, failed or been cancelled)");
    }
    (this.defers ??= []).push(body);
  }

  returnImmediately(value: T): void {
    requireGroup(this, "TaskGroup.returnImmediately()");
    if (!this.hasResult) {
      this.result = value;
      this.hasResult = true;
    }
    if (this.state === GroupState.RUNNING) {
      this.state = GroupState.DONE;
      this.cancelAll();
    }
    const task = current;
    if (task !== null && (task.flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED) throw new Cancelled();
  }

  /** Spawns a child, or throws if the group has ended (docs/semantics.md, «Groups»). */
  spawnChild(body: () => Operation<unknown>, flags: number): Coroutine {
    if (this.state !== GroupState.RUNNING && this.count === 0) {
      throw new WeftUsageError("TaskGroup.spawn(): the group has already finished; spawn only while its withTaskGroup is running");
    }
    const child = this.parent.scheduler.spawn(body, flags, this);
    const tail = this.tail;
    child.prevSibling = tail;
    if (tail === null) this.head = child;
    else tail.nextSibling = child;
    this.tail = child;
    this.count++;
    if ((flags & Flag.DAEMON) === 0) this.waiting++;
    // A group that has failed or finished cancels newcomers; they still start (docs/semantics.md, «Groups»).
    if (this.state !== GroupState.RUNNING) child.flags |= Flag.CANCELLED | Flag.TASK_CANCELLED;
    return child;
  }

  childDone(child: Coroutine): void {
    const flags = child.flags;
    const state = flags & Flag.STATE_MASK;
    if (state === Flag.FAILED) {
      const error = child.result;
      const cancelledNormally = error instanceof Cancelled && (flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED;
      if ((flags & Flag.ALLOW_FAILURE) === 0 && !cancelledNormally) this.fail(error);
    } else if (state === Flag.DONE && (flags & Flag.GROUP_BODY) !== 0 && !this.hasResult) {
      this.result = child.result as T;
      this.hasResult = true;
    }
    if (this.state === GroupState.CANCELLED && state !== Flag.DONE && (flags & Flag.DAEMON) === 0) this.cutShort = true;
    const prev = child.prevSibling;
    const next = child.nextSibling;
    if (prev === null) this.head = next;
    else prev.nextSibling = next;
    if (next === null) this.tail = prev;
    else next.prevSibling = prev;
    child.prevSibling = child.nextSibling = null;
    this.count--;
    if ((flags & Flag.DAEMON) === 0 && --this.waiting === 0 && this.state === GroupState.RUNNING) {
      this.state = GroupState.DONE;
      this.cancelAll();
    }
    if (this.count === 0) {
      const parent = this.parent;
      parent.scheduler.wake(parent);
    }
  }

  /** Records a failure: the first decides the outcome, later ones are suppressed. */
  fail(error: unknown): void {
    if (this.state === GroupState.RUNNING) {
      this.state = GroupState.FAILED;
      this.error = error;
      this.cancelAll();
    } else if (this.state === GroupState.DONE) {
      this.state = GroupState.FAILED;
      this.error = error;
    } else {
      // FAILED, or CANCELLED: the cancellation came first and stays the error;
      // a real failure during it means the body's value cannot win either.
      this.state = GroupState.FAILED;
      this.error = addSuppressed(this.error, error);
    }
  }

  /**
   * The caller was cancelled: unless the outcome is already decided, cancel
   * every task and let the outcome wait for them. Idempotent.
   */
  cancelFromOutside(error: unknown): void {
    if (this.state !== GroupState.RUNNING) return;
    this.state = GroupState.CANCELLED;
    this.error = error;
    this.cancelAll();
  }

  parentCancelled(): void {
    this.cancelFromOutside(debugEnabled ? new Cancelled() : stacklessCancelled());
  }

  cancelAll(): void {
    for (let child = this.head; child !== null; child = child.nextSibling) child.scheduler.cancel(child);
  }

  /** Calls `visit` for every live child (for reports). */
  forEachChild(visit: (child: Coroutine) => void): void {
    for (let child = this.head; child !== null; child = child.nextSibling) visit(child);
  }

  *runDefers(): Operation<void> {
    const defers = this.defers!;
    this.defers = null;
    const parent = this.parent;
    for (let i = defers.length - 1; i >= 0; i--) {
      try {
        yield* callBody("TaskGroup.addDefer()", defers[i]!);
      } catch (error) {
        // The caller's own cancellation cutting a defer short is not a new failure.
        if (error instanceof Cancelled && parent.cancelDue) continue;
        if (this.state === GroupState.DONE) {
          this.state = GroupState.FAILED;
          this.error = error;
        } else {
          this.error = addSuppressed(this.error, error);
        }
      }
    }
  }

  /** Parks the caller until the group has no live child. */
  *waitForChildren(): Operation<void> {
    while (this.count > 0) yield* park();
  }
}

/** A method called on no group (destructured: `const { spawn } = group`) fails clearly. */
function requireGroup(self: unknown, api: string): void {
  if (!(self instanceof Group)) {
    throw new WeftUsageError(`${api} was called without its group: call it as group.method(...), not as a detached function`);
  }
}

function spawnFlags(api: string, options: SpawnOptions | undefined): number {
  if (options === undefined) return 0;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`);
  }
  if ("noWait" in options) {
    // The option's name before 0.2.0: ignoring it would make the group wait forever for a helper.
    throw new TypeError(`${api}: options.noWait is now called options.daemon`);
  }
  let flags = 0;
  if (options.daemon) flags |= Flag.DAEMON;
  if (options.allowFailure) flags |= Flag.ALLOW_FAILURE;
  return flags;
}

/**
 * Runs `body` as the first task of a new group and returns when every task of
 * the group has ended: the body's value (or the value given to
 * `returnImmediately`), or the group's first failure. A failing task cancels
 * all the others. If the caller is cancelled, every task is cancelled and the
 * group still waits for all of them before `Cancelled` leaves it. Cleanup
 * registered with `addDefer` runs last, in reverse order.
 *
 * @example
 * ```ts
 * type User = { name: string };
 * type Order = { total: number };
 * function* fetchUser(id: number): Operation<User> { yield* sleep(10); return { name: `user ${id}` }; }
 * function* fetchOrders(id: number): Operation<Order[]> { yield* sleep(5); return [{ total: id }]; }
 * const [a, b] = yield* withTaskGroup<[User, Order[]]>(function* (group) {
 *   const user = group.spawn(() => fetchUser(3));
 *   const orders = group.spawn(() => fetchOrders(3));
 *   return [yield* user.wait(), yield* orders.wait()];
 * });
 * console.log(a.name, b.length); // prints user 3 1
 * ```
 */
export function* withTaskGroup<T>(body: (group: TaskGroup<T>) => Operation<T>): Operation<T> {
  requireFunction("withTaskGroup()", "body", body);
  const parent = requireTask("withTaskGroup()");
  const group = new Group<T>(parent);
  group.spawnChild(() => body(group), Flag.GROUP_BODY);
  const outerRecord = parent.waitRecord;
  parent.waitRecord = group;
  try {
    try {
      parent.flags |= Flag.GROUP_WAIT;
      yield* group.waitForChildren();
    } catch (error) {
      // The caller was cancelled (docs/semantics.md, «Groups»): unless the outcome is already
      // decided, the tasks are cancelled and waited for, shielded, so no task
      // outlives the group; what the body did then decides the outcome.
      group.cancelFromOutside(error);
      if (group.count > 0) {
        const wasShielded = (parent.flags & Flag.SHIELDED) !== 0;
        parent.flags |= Flag.SHIELDED;
        try {
          yield* group.waitForChildren();
        } finally {
          if (!wasShielded) parent.flags &= Flag.NOT_SHIELDED;
        }
      }
    }
  } finally {
    parent.flags &= ~Flag.GROUP_WAIT;
    parent.waitRecord = outerRecord;
  }
  if (group.state === GroupState.CANCELLED) {
    // A body that returned before it could see the cancellation wins, unless
    // the cancellation cut short another task the group waits for: the body's
    // operation completed, so its value must reach the caller, who meets the
    // cancellation at its next suspension point instead.
    group.state = group.hasResult && !group.cutShort ? GroupState.DONE : GroupState.FAILED;
  }
  if (group.defers !== null) yield* group.runDefers();
  if (group.state === GroupState.DONE) return group.result as T;
  throw group.error;
}
