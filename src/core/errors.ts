/**
 * The error classes weft throws, and the record of errors that a group had to
 * set aside because an earlier one was already on its way out.
 *
 * @module
 */

/**
 * Thrown into a task at its suspension point when the task is cancelled.
 *
 * A task may catch it to clean up, but should normally let it propagate: a
 * group treats a `Cancelled` that leaves a task which is being cancelled as a
 * normal end, not as a failure.
 *
 * Outside debug mode, the `Cancelled` thrown into a parked task is one shared,
 * stackless instance (docs/semantics.md, «Cancellation»): do not mutate it.
 *
 * @example
 * ```ts
 * yield* withTimeoutOpt(10, function* () {
 *   try {
 *     yield* sleep(1000);
 *   } catch (e) {
 *     if (e instanceof Cancelled) console.log("stopped early"); // prints stopped early
 *     throw e;
 *   }
 * });
 * ```
 */
export class Cancelled extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says (a default names the cancellation)
   */
  constructor(message = "the task was cancelled") {
    super(message);
    this.name = "Cancelled";
  }
}

/**
 * Thrown by {@link withTimeout} when the body did not finish in time.
 *
 * @example
 * ```ts
 * try {
 *   yield* withTimeout(100, () => sleep(1000));
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log(e.message); // prints the timeout's message
 * }
 * ```
 */
export class TimeoutError extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says (a default names the timeout)
   */
  constructor(message = "the operation timed out") {
    super(message);
    this.name = "TimeoutError";
  }
}

/**
 * Thrown when weft is used in a way that can never work: spawning into a
 * finished group, a task waiting for itself, a bare `yield` where `yield*` was
 * meant, an operation run outside any task. It is a `TypeError`, so code that
 * handles programming errors generically still sees it as one.
 *
 * @example
 * ```ts
 * yield* withTaskGroup(function* (group) {
 *   const task: Task<void> = group.spawn(function* () {
 *     try {
 *       yield* task.wait();
 *     } catch (e) {
 *       console.log(e instanceof WeftUsageError); // prints true: a task cannot wait for itself
 *     }
 *   });
 * });
 * ```
 */
export class WeftUsageError extends TypeError {
  /**
   * Creates the error.
   *
   * @param message what was misused and how
   */
  constructor(message: string) {
    super(message);
    this.name = "WeftUsageError";
  }
}

/**
 * Thrown by an operation that the current host cannot perform (for example a
 * socket on a host with no network facility). The message names the operation.
 *
 * @example
 * ```ts
 * function* connectSomewhere(): Operation<string> {
 *   if (typeof process === "undefined") throw new Unsupported("connectSomewhere() needs Node");
 *   return "connected";
 * }
 * console.log(yield* connectSomewhere()); // prints connected (on Node)
 * ```
 */
export class Unsupported extends Error {
  /**
   * Creates the error.
   *
   * @param message what is not supported, and where
   */
  constructor(message: string) {
    super(message);
    this.name = "Unsupported";
  }
}

/**
 * Thrown from the body of a `spawnLoop` to end the loop normally.
 *
 * @example
 * ```ts
 * const lines = new Queue<string>();
 * for (const line of ["one", "two", "quit", "three"]) lines.tryPut(line);
 * yield* withTaskGroup(function* (group) {
 *   group.spawnLoop(function* () {
 *     const line = yield* lines.get();
 *     if (line === "quit") throw new BreakFromSpawnLoop();
 *     console.log(line); // prints one, then two
 *   });
 * });
 * ```
 */
export class BreakFromSpawnLoop extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message = "break from spawnLoop") {
    super(message);
    this.name = "BreakFromSpawnLoop";
  }
}

/**
 * The error a `run` promise rejects with when its tasks are blocked and
 * nothing can ever wake them (the host's event loop is about to exit).
 *
 * @example
 * ```ts
 * try {
 *   // A run whose only task waits for a permit nobody will release.
 *   await run(function* () { yield* new Semaphore(1, 0).acquire(); });
 * } catch (e) {
 *   if (e instanceof DeadlockError) console.log(e.locations.length); // prints 1 (after the report on stderr)
 * }
 * ```
 */
export class DeadlockError extends Error {
  /** How many tasks were blocked when the deadlock was found. */
  readonly blocked: number;
  /** Where the blocked tasks were spawned (in debug mode) or their ids. */
  readonly locations: readonly string[];
  /**
   * Creates the error.
   *
   * @param blocked how many tasks were blocked
   * @param locations where they were spawned, or their ids
   */
  constructor(blocked: number, locations: readonly string[]) {
    super(
      `deadlock: ${blocked} task(s) are blocked and nothing can wake them` + (locations.length > 0 ? `\n  ${locations.join("\n  ")}` : ""),
    );
    this.name = "DeadlockError";
    this.blocked = blocked;
    this.locations = locations;
  }
}

/**
 * Thrown into the tasks waiting on a {@link Timer} that was cancelled without
 * an error of its own.
 *
 * @example
 * ```ts
 * const timer = new Timer(1000);
 * timer.cancel();
 * try {
 *   yield* timer.wait();
 * } catch (e) {
 *   console.log(e instanceof TimerCancelled); // prints true
 * }
 * ```
 */
export class TimerCancelled extends Error {
  /**
   * Creates the error.
   *
   * @param message what the error says
   */
  constructor(message = "the timer was cancelled") {
    super(message);
    this.name = "TimerCancelled";
  }
}

/**
 * A `Cancelled` with no stack: built outside the task it is for, a stack would
 * name only weft's own frames, and capturing one was half the cost of
 * cancelling a parked task.
 */
export function stacklessCancelled(message?: string): Cancelled {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let error: Cancelled;
  try {
    error = new Cancelled(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
  if (stackTraceLimitIgnored ?? detectStackTraceLimitIgnored(error)) {
    // QuickJS captures frames whatever the limit says; what V8 and JSC would
    // have left (the header line) is written in their place.
    Object.defineProperty(error, "stack", {
      value: `${error.name}: ${error.message}`,
      writable: true,
      configurable: true,
    });
  }
  return error;
}

/** Whether this engine records stack frames even with `Error.stackTraceLimit` at 0; decided by the first stackless error made. */
let stackTraceLimitIgnored: boolean | undefined;

function detectStackTraceLimitIgnored(made: Error): boolean {
  const stack = made.stack;
  stackTraceLimitIgnored = typeof stack === "string" && /(^|\n)\s+at /.test(stack);
  return stackTraceLimitIgnored;
}

let shared: Cancelled | undefined;

/**
 * The one `Cancelled` thrown into every task cancelled at a suspension point
 * outside debug mode, as one `AbortSignal` reason is shared by every operation
 * it aborts. Making an `Error` costs more than the rest of a cancellation
 * (cancelling 1M sleeping tasks ran 2.5 to 3.5 times faster with one instance),
 * and it carries nothing specific to a task: the task that catches it knows
 * which task it is. It is never given a suppressed-errors record (see
 * `addSuppressed`), so nothing one task does to it shows in another.
 */
export function sharedCancelled(): Cancelled {
  return shared ?? (shared = stacklessCancelled());
}

const suppressedByError = new WeakMap<object, unknown[]>();

/**
 * Records that `later` happened while `first` was already the error on its way
 * out, and returns the error that carries the record: `first` itself, or, when
 * `first` is the shared `Cancelled`, a fresh `Cancelled` to use in its place
 * (a record on the shared one would show on every task's cancellation).
 * Primitive errors (a thrown string) cannot carry a record; for them the later
 * error is dropped, which is one more reason to throw `Error` objects.
 */
export function addSuppressed(first: unknown, later: unknown): unknown {
  if (first === later) return first;
  if ((typeof first !== "object" || first === null) && typeof first !== "function") return first;
  let carrier: object = first;
  if (carrier === shared) carrier = stacklessCancelled();
  const list = suppressedByError.get(carrier);
  if (list === undefined) suppressedByError.set(carrier, [later]);
  else list.push(later);
  return carrier;
}

/**
 * The errors that were raised after `error` had already decided a group's
 * outcome (siblings failing during their cancellation, failing defers), in the
 * order they happened. Empty for any other value.
 *
 * @example
 * ```ts
 * try {
 *   yield* withTimeout(10, function* () {
 *     try {
 *       yield* sleep(1000);
 *     } finally {
 *       throw new Error("cleanup failed");
 *     }
 *   });
 * } catch (e) {
 *   console.log(e instanceof TimeoutError); // prints true: the first failure wins
 *   console.log(suppressedErrors(e).map((s) => (s as Error).message)); // prints [ 'cleanup failed' ]
 * }
 * ```
 */
export function suppressedErrors(error: unknown): unknown[] {
  if ((typeof error !== "object" || error === null) && typeof error !== "function") return [];
  const list = suppressedByError.get(error);
  return list === undefined ? [] : list.slice();
}
