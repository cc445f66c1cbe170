/**
 * `Mutex`: a semaphore of one permit, with `withLock` (docs/semantics.md, «Mutex»).
 */
import { callBody } from "../core/cancel.ts";
import { WeftUsageError } from "../core/errors.ts";
import { requireFunction, type Operation } from "../core/operation.ts";
import { Semaphore } from "./semaphore.ts";

/**
 * Mutual exclusion between tasks: strict FIFO, no barging, and a cancelled
 * `acquire` never holds the lock (unless the lock reached it first; then it
 * returns holding it). Prefer `withLock`, which always releases.
 *
 * @example
 * ```ts
 * let balance = 0;
 * function* readBalance(): Operation<number> { yield* sleep(1); return balance; }
 * function* writeBalance(value: number): Operation<void> { yield* sleep(1); balance = value; }
 * const lock = new Mutex();
 * yield* withTaskGroup(function* (group) {
 *   for (let i = 0; i < 5; i++) {
 *     group.startSoon(() =>
 *       lock.withLock(function* () {
 *         const current = yield* readBalance();
 *         yield* writeBalance(current + 10);
 *       }),
 *     );
 *   }
 * });
 * console.log(balance); // prints 50: no update was lost
 * ```
 */
export class Mutex {
  readonly #permit = new Semaphore(1);

  /** Whether some task holds the lock. */
  get locked(): boolean {
    return this.#permit.available === 0;
  }

  /** Waits until the lock is free and takes it. */
  acquire(): Operation<void> {
    return this.#permit.acquire();
  }

  /** Takes the lock if it is free and nobody waits; never waits. */
  tryAcquire(): boolean {
    return this.#permit.tryAcquire();
  }

  /**
   * Releases the lock: the oldest waiter gets it at once. Throws
   * `WeftUsageError` if the lock is not held.
   */
  release(): void {
    if (!this.locked) throw new WeftUsageError("Mutex.release(): the mutex is not locked");
    this.#permit.release();
  }

  /** Runs `body` holding the lock, and releases it however `body` ends. */
  *withLock<T>(body: () => Operation<T>): Operation<T> {
    requireFunction("Mutex.withLock()", "body", body);
    yield* this.#permit.acquire();
    try {
      return yield* callBody("Mutex.withLock()", body);
    } finally {
      this.#permit.release();
    }
  }
}
