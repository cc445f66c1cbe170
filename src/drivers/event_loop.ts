/**
 * The event-loop driver, for hosts with an event loop (Node, Bun, Deno,
 * browsers), and `run(body)`.
 *
 * It drains rounds in time slices and yields to the host between slices with
 * the cheapest macrotask the host has (`setImmediate`, else `MessageChannel`,
 * else `setTimeout(0)`), so host IO is never starved and a pausing task never
 * pays a timer clamp. One host timer is armed, for the earliest deadline.
 *
 * When a wake-up comes from outside a drain (a host callback, `run()`), the
 * drain runs right after that host callback (`afterCallback`), up to
 * EAGER_PER_TURN times between two macrotask drains; later wake-ups wait for
 * the macrotask, which runs all of them in one slice. A task woken by a
 * socket's data (`fromIo`, see `Scheduler.wake`) runs even sooner,
 * inside the listener that delivered it, on the same allowance: before Node
 * runs the ticks that its stream code queued in that callback, so the answer
 * is written one step earlier (ws_echo at 1 connection: 0.5 to 4% more
 * messages per second in three interleaved comparisons of 16 to 20 runs
 * each, and 0.3 to 1 µs less server CPU per message; nothing measurable at
 * 64). Other wake-ups are not run in place: the code that woke the task
 * may not have finished its own bookkeeping, whereas a stream's listeners
 * may do anything.
 *
 * Both halves matter. A server with a few busy connections answers each
 * message in the callback that brought it, as a plain Node server does:
 * read one, answer it, read the next. Deferring every answer to the check
 * phase instead read every ready connection first and answered them all
 * after, which kept two ping-pong connections in step with each other and
 * idled the client while the server worked (ws_echo at 2 connections: 27,300
 * messages/s deferred, 34,600 answering at once, 38,500 for the `ws`
 * package). With many ready connections, one drain for all of them is
 * cheaper than a drain each (answering every one at once cost about 6% more
 * CPU per message at 64 connections), so after the first few the rest are
 * batched, and while the host stays that busy all of them are.
 */
import { hostClock, MAX_HOST_TIMER_MS } from "../core/clock.ts";
import { Flag, type Coroutine } from "../core/coroutine.ts";
import { captureLocation, debugEnabled, enterDebug } from "../core/debug.ts";
import { DeadlockError } from "../core/errors.ts";
import { describe, requireFunction, type Operation } from "../core/operation.ts";
import { Scheduler, type SchedulerDriver } from "../core/scheduler.ts";
import { afterCallback } from "./after_callback.ts";
import { reportDeadlock } from "./deadlock.ts";
import { macrotask } from "./macrotask.ts";

/** How long one slice of rounds may run before the host gets a turn (ms). */
const SLICE_MS = 4;

/**
 * How many drains may run right after the host callback that asked for them
 * (see the top of this file) before one must wait for the macrotask, which
 * gives the allowance back. Eight keeps most answers at once under light load
 * and adds a few drains per host turn under heavy load.
 */
const EAGER_PER_TURN = 8;

type Callback = () => void;
type TimerHandle = unknown;

interface HostGlobals {
  setTimeout(cb: Callback, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  process?: { on?(event: string, listener: Callback): void };
}

const host = globalThis as unknown as HostGlobals;

class EventLoopDriver implements SchedulerDriver {
  readonly scheduler: Scheduler;
  /** Schedules a drain in a macrotask. */
  private readonly post: Callback;
  /** Schedules a drain right after the current host callback. */
  private readonly postEager: Callback;
  /** A drain is scheduled, by either. */
  private posted = false;
  /** Drains that may still be scheduled right after a host callback before the next macrotask drain. */
  private eagerLeft = EAGER_PER_TURN;
  private hostTimer: TimerHandle = undefined;
  private hostTimerDeadline = Infinity;
  /** Pending `run` promises, to reject on deadlock. */
  readonly runs = new Map<Coroutine, (error: unknown) => void>();
  private readonly reported = new WeakSet<Coroutine>();

  constructor() {
    this.scheduler = new Scheduler(hostClock, this);
    this.post = macrotask(this.drainInMacrotask);
    this.postEager = afterCallback(this.drain);
    host.process?.on?.("beforeExit", this.beforeExit);
  }

  /**
   * A task was woken outside a drain: it runs right after this host callback
   * (inside it when woken by a socket's data, `fromIo`), or in the next
   * macrotask once the allowance is spent.
   */
  requestRun(fromIo: boolean): void {
    if (this.posted) return;
    if (this.eagerLeft > 0) {
      this.eagerLeft--;
      if (fromIo) {
        this.drain();
        return;
      }
      this.posted = true;
      this.postEager();
    } else {
      this.posted = true;
      this.post();
    }
  }

  timersChanged(): void {
    this.armHostTimer();
  }

  idle(): void {
    this.clearHostTimer();
  }

  private readonly drainInMacrotask = (): void => {
    // More tasks waiting than the allowance: the host is busy, and answering at once would only add drains. The
    // allowance comes back once a macrotask finds the host quiet again.
    this.eagerLeft = this.scheduler.ring.size > EAGER_PER_TURN ? 0 : EAGER_PER_TURN;
    this.drain();
  };

  private readonly drain = (): void => {
    this.posted = false;
    const s = this.scheduler;
    if (!s.drain(SLICE_MS, Infinity)) return;
    if (s.ring.size !== 0) {
      // The slice is spent: the host gets its turn before the next one.
      s.runRequested = true;
      this.posted = true;
      this.post();
    } else {
      this.armHostTimer();
    }
  };

  private armHostTimer(): void {
    const s = this.scheduler;
    // An unobserved timer never keeps the program alive: no live task, no host timer.
    const deadline = s.live === 0 ? undefined : s.timers.nextDeadline();
    if (deadline === undefined) {
      this.clearHostTimer();
      return;
    }
    if (this.hostTimer !== undefined && this.hostTimerDeadline <= deadline) return;
    this.clearHostTimer();
    // The true deadline is kept even when the host timer fires earlier: a new
    // deadline before it must still re-arm, and an early firing re-arms on drain.
    this.hostTimerDeadline = deadline;
    const delay = Math.min(MAX_HOST_TIMER_MS, Math.max(0, Math.ceil(deadline - s.clock())));
    this.hostTimer = host.setTimeout(this.onHostTimer, delay);
  }

  private clearHostTimer(): void {
    if (this.hostTimer !== undefined) {
      host.clearTimeout(this.hostTimer);
      this.hostTimer = undefined;
      this.hostTimerDeadline = Infinity;
    }
  }

  private readonly onHostTimer = (): void => {
    this.hostTimer = undefined;
    this.hostTimerDeadline = Infinity;
    this.drainInMacrotask();
  };

  /** The host is about to exit: tasks still blocked can never be woken. */
  private readonly beforeExit = (): void => {
    // Until the next macrotask drain, drains go through the macrotask. Node emits 'beforeExit' again only if the
    // loop has come alive, and a drain right after a callback does not make it so: a run started now (say, after
    // a deadlocked one was rejected) that parked for good would let the process exit without a report.
    this.eagerLeft = 0;
    const s = this.scheduler;
    if (s.live === 0 || s.ring.size !== 0) return;
    let fresh = false;
    for (const root of s.roots.keys()) {
      if (!this.reported.has(root)) fresh = true;
    }
    if (!fresh) return;
    const report = reportDeadlock(s);
    for (const root of s.roots.keys()) {
      this.reported.add(root);
      const reject = this.runs.get(root);
      if (reject !== undefined) {
        this.runs.delete(root);
        reject(new DeadlockError(report.blocked, report.locations));
      }
    }
  };
}

let defaultDriver: EventLoopDriver | null = null;

function eventLoop(): EventLoopDriver {
  return (defaultDriver ??= new EventLoopDriver());
}

/** The scheduler that `run` uses (created on first use). */
export function defaultScheduler(): Scheduler {
  return eventLoop().scheduler;
}

/**
 * Options for {@link run}.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 10); // e.g. a shutdown request
 * try {
 *   await run(function* () { yield* sleep(60_000); }, { signal: controller.signal, debug: true });
 * } catch (e) {
 *   console.log(e instanceof Cancelled); // prints true: the abort cancelled the body, after its cleanup
 * }
 * ```
 */
export interface RunOptions {
  /** Cancels the run when aborted; the promise then rejects once cleanup has finished. */
  signal?: AbortSignal;
  /** Records spawn locations for deadlock reports while this run lasts. */
  debug?: boolean;
}

/**
 * Runs `body` as a task on the host's event loop and returns a promise of its
 * value, or of its error. Runs may be started from plain async code or from
 * inside a task; all of them share one scheduler.
 *
 * @example
 * ```ts
 * import { run, sleep } from "weftjs";
 *
 * const answer = await run(function* () {
 *   yield* sleep(10);
 *   return 42;
 * });
 * console.log(answer); // prints 42
 * ```
 */
export function run<T>(body: () => Operation<T>, options?: RunOptions): Promise<T> {
  requireFunction("run()", "body", body);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`run(): options must be an object, got ${describe(options)}`);
  }
  const signal = options?.signal;
  if (signal !== undefined && (typeof signal !== "object" || signal === null || typeof signal.addEventListener !== "function")) {
    throw new TypeError(`run(): options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  const driver = eventLoop();
  const leaveDebug = options?.debug === true ? enterDebug() : null;
  // Captured here: inside the promise executor the caller's frame is hidden.
  const loc = debugEnabled ? captureLocation() : undefined;
  return new Promise<T>((resolve, reject) => {
    let onAbort: Callback | null = null;
    const task = driver.scheduler.spawnRoot(
      body,
      (ended) => {
        leaveDebug?.();
        if (onAbort !== null) signal!.removeEventListener("abort", onAbort);
        driver.runs.delete(ended);
        if (ended.state === Flag.DONE) resolve(ended.result as T);
        else reject(ended.result);
      },
      loc,
    );
    driver.runs.set(task, reject);
    if (signal !== undefined) {
      if (signal.aborted) task.cancel();
      else {
        onAbort = () => task.cancel();
        signal.addEventListener("abort", onAbort, { once: true });
      }
    }
  });
}
