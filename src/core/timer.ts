/**
 * `Timer`: a restartable one-shot deadline that any number of tasks can wait on.
 */
import { hostClock } from "./clock.ts";
import { TimerCancelled } from "./errors.ts";
import { requireDuration, type Operation } from "./operation.ts";
import { park } from "./pause.ts";
import { current, requireTask, type Scheduler } from "./scheduler.ts";
import { TimerEntry } from "./timer_heap.ts";
import { WaiterList, type WaiterRecord, newWaiterRecord } from "./waiters.ts";

const DETACHED = 0; // counting, but no scheduler timer (nobody waits)
const ARMED = 1; // a scheduler timer is set for the deadline
const EXPIRED = 2;
const CANCELLED = 3;

class TimerFire extends TimerEntry {
  constructor(private readonly timer: Timer) {
    super();
  }
  fire(): void {
    expireTimer(this.timer, this);
  }
}

let expireTimer: (timer: Timer, entry: TimerFire) => void;

/**
 * A deadline `ms` after its creation that tasks can wait for. `refresh()`
 * restarts the count (an idle timeout); `cancel(error)` makes every current
 * and future wait throw `error` (by default `TimerCancelled`). A timer nobody
 * waits for costs nothing and never keeps the program alive.
 *
 * @example
 * ```ts
 * const lines = new Queue<string>();
 * const said = yield* withTaskGroup<string>(function* (group) {
 *   const idle = new Timer(50);
 *   group.startSoon(function* () {
 *     yield* idle.wait();
 *     group.returnImmediately("idle");   // 50 ms without input: stop
 *   }, { daemon: true });
 *   group.startSoon(function* () {
 *     for (const line of ["a", "b"]) { yield* sleep(5); yield* lines.put(line); }
 *   });
 *   for (;;) { yield* lines.get(); idle.refresh(); }
 * });
 * console.log(said); // prints idle
 * ```
 */
export class Timer {
  readonly #duration: number;
  readonly #clock: () => number;
  #deadline: number;
  #state = DETACHED;
  #error: unknown = undefined;
  #entry: TimerFire | null = null;
  #scheduler: Scheduler | null = null;
  readonly #waiters = new WaiterList<WaiterRecord>();

  static {
    expireTimer = (timer, entry) => timer.#expire(entry);
  }

  /**
   * Starts counting now, on the clock of the task that creates it (the
   * virtual clock under `weft/testing`, the embedder's clock under
   * `weft/host`); made outside any task it counts on the host's clock.
   * `ms` must be a finite number of milliseconds >= 0.
   */
  constructor(ms: number) {
    requireDuration("new Timer()", "ms", ms);
    this.#duration = ms;
    const task = current;
    this.#scheduler = task !== null ? task.scheduler : null;
    this.#clock = task !== null ? task.scheduler.clock : hostClock;
    this.#deadline = this.#clock() + ms;
  }

  /**
   * Waits until the deadline. Returns at once if it has passed; throws the
   * cancellation error if the timer was cancelled (before or during the wait),
   * and `Cancelled` if the waiting task is cancelled.
   */
  *wait(): Operation<void> {
    if (this.#state === EXPIRED) return;
    if (this.#state === CANCELLED) throw this.#error;
    const task = requireTask("Timer.wait()");
    if (this.#state === DETACHED) {
      if (this.#clock() >= this.#deadline) return;
      this.#arm(task.scheduler);
    }
    const waiter = this.#waiters.enqueue(task, newWaiterRecord);
    try {
      yield* park();
    } catch (error) {
      this.#waiters.tombstone(waiter);
      // With nobody left waiting, a scheduler timer would only keep the host
      // alive; the deadline still holds, so a later wait sees the same result.
      if (this.#waiters.live === 0 && this.#state === ARMED) {
        this.#disarm();
        this.#state = DETACHED;
      }
      throw error;
    }
    this.#waiters.recycle(waiter); // woken: #wakeAll took it off the list
    if (this.#state === CANCELLED) throw this.#error;
  }

  /**
   * Restarts the count: the deadline becomes `ms` from now. Restarts an
   * expired timer too; does nothing to a cancelled one.
   */
  refresh(): void {
    if (this.#state === CANCELLED) return;
    this.#deadline = this.#clock() + this.#duration;
    this.#disarm();
    if (this.#waiters.live > 0) this.#arm(this.#scheduler!);
    else this.#state = DETACHED;
  }

  /**
   * Cancels the timer: every waiter, now and later, gets `error` (by default
   * a `TimerCancelled`). A second cancel keeps the first error.
   */
  cancel(error?: unknown): void {
    if (this.#state === CANCELLED) return;
    this.#state = CANCELLED;
    this.#error = error === undefined ? new TimerCancelled() : error;
    this.#disarm();
    this.#wakeAll();
  }

  #arm(scheduler: Scheduler): void {
    this.#scheduler = scheduler;
    const entry = new TimerFire(this);
    this.#entry = entry;
    this.#state = ARMED;
    scheduler.addTimer(entry, this.#deadline);
  }

  #disarm(): void {
    const entry = this.#entry;
    if (entry !== null) {
      this.#entry = null;
      this.#scheduler!.removeTimer(entry);
    }
  }

  #expire(entry: TimerFire): void {
    if (entry !== this.#entry) return;
    this.#entry = null;
    this.#state = EXPIRED;
    this.#wakeAll();
  }

  #wakeAll(): void {
    // A waiter whose cancellation came first is passed over: its cancellation wakes it.
    const waiters = this.#waiters;
    while (waiters.wakeFirst(true) !== null) {}
  }
}
