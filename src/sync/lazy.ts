/**
 * `Lazy<T>`: a value computed once, on first demand, shared by every waiter
 * (docs/semantics.md, «Lazy»: no restart race).
 */
import { Flag, type Coroutine } from "../core/coroutine.ts";
import { budgetYield, overBudget } from "../core/budget.ts";
import { captureLocation, debugEnabled } from "../core/debug.ts";
import { Cancelled } from "../core/errors.ts";
import { requireFunction, type Operation } from "../core/operation.ts";
import { park } from "../core/pause.ts";
import { requireTask } from "../core/scheduler.ts";
import { WaiterList, type WaiterRecord, newWaiterRecord } from "../core/waiters.ts";

const enum LazyState {
  IDLE,
  RUNNING,
  DONE,
  FAILED,
}

/**
 * A value computed by `body` the first time somebody waits for it. The
 * computation runs as its own task, outside any group, and every concurrent
 * waiter shares it. A value or a failure is kept for good. If every waiter
 * leaves (is cancelled) while it runs, the computation is cancelled, and the
 * next `wait` starts it again.
 *
 * @example
 * ```ts
 * let loads = 0;
 * function* loadConfig(name: string): Operation<{ name: string }> {
 *   loads++;
 *   yield* sleep(5);
 *   return { name };
 * }
 * const config = new Lazy(() => loadConfig("app.json"));
 * const a = yield* config.wait(); // loads
 * const b = yield* config.wait(); // the same object, at once
 * console.log(a === b, loads); // prints true 1
 * ```
 */
export class Lazy<T> {
  readonly #body: () => Operation<T>;
  readonly #loc: string | undefined;
  #state = LazyState.IDLE;
  #value: T | undefined = undefined;
  #error: unknown = undefined;
  #worker: Coroutine | null = null;
  readonly #waiters = new WaiterList<WaiterRecord>();

  /**
   * Creates the lazy value; nothing runs until the first `wait`.
   *
   * @param body computes the value; it runs on the first `wait`, not here
   */
  constructor(body: () => Operation<T>) {
    requireFunction("new Lazy()", "body", body);
    this.#body = body;
    this.#loc = debugEnabled ? captureLocation() : undefined;
  }

  /**
   * The value: at once if computed (even in a cancelled task, unless the
   * task's cooperative budget is spent: the wait then yields first, and a
   * cancellation can arrive there, see docs/semantics.md, «Cooperative budget»); otherwise
   * starts the computation if nobody has, and waits for it. Throws the
   * computation's error if it failed, and `Cancelled` if the waiting task is
   * cancelled (which does not stop the computation while others wait).
   */
  *wait(): Operation<T> {
    for (;;) {
      const state = this.#state;
      if (state === LazyState.DONE || state === LazyState.FAILED) {
        // An outcome at hand spends the cooperative budget (docs/semantics.md, «Cooperative budget»);
        // it is kept for good, so it is still the outcome after the yield.
        if (overBudget()) yield* budgetYield();
        if (state === LazyState.DONE) return this.#value as T;
        throw this.#error;
      }
      const task = requireTask("Lazy.wait()");
      if (this.#state === LazyState.IDLE) this.#start(task);
      const waiter = this.#waiters.enqueue(task, newWaiterRecord);
      try {
        yield* park();
      } catch (error) {
        if (waiter.handed) {
          // The computation ended before the cancellation reached this waiter
          // (it was woken with the outcome): the wait completed.
          const settled = this.#state as LazyState;
          if (settled === LazyState.DONE) return this.#value as T;
          if (settled === LazyState.FAILED) throw this.#error;
          throw error;
        }
        this.#waiters.tombstone(waiter);
        if (this.#waiters.live === 0 && this.#worker !== null) this.#worker.cancel();
        throw error;
      }
      this.#waiters.recycle(waiter); // woken: #ended took it off the list
      // Woken because the computation ended: look again (it may have been
      // cancelled by earlier waiters that left, and then this waiter restarts it).
    }
  }

  #start(waiter: Coroutine): void {
    this.#state = LazyState.RUNNING;
    const worker = waiter.scheduler.spawnRoot(this.#body, (ended) => this.#ended(ended), this.#loc);
    this.#worker = worker;
  }

  #ended(worker: Coroutine): void {
    if (worker !== this.#worker) return;
    this.#worker = null;
    const flags = worker.flags;
    if ((flags & Flag.STATE_MASK) === Flag.DONE) {
      this.#state = LazyState.DONE;
      this.#value = worker.result as T;
    } else if (worker.result instanceof Cancelled && (flags & Flag.CANCEL_DUE_MASK) === Flag.CANCELLED) {
      this.#state = LazyState.IDLE; // cancelled because nobody waited: start afresh next time
    } else {
      this.#state = LazyState.FAILED;
      this.#error = worker.result;
    }
    // A waiter whose cancellation came first is passed over, unsettled: its
    // cancellation wakes it, and it leaves having taken nothing.
    const waiters = this.#waiters;
    while (waiters.wakeFirst(true) !== null) {}
  }
}
