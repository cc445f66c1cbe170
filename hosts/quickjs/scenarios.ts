/**
 * The weft scenarios that run INSIDE QuickJS (an engine with no event loop,
 * no timers, no console and no performance). `hosts/quickjs.ts` bundles this
 * file into one script, evaluates it in the guest and drives it through the
 * `weftScenarios` global this file installs:
 *
 * - `warmUp(steps)` runs throw-away work on an inner host (see the runner);
 * - `start(hostApi, lanes)` creates ONE `createHost({ now, onWake })` on the
 *   host's clock, runs the synchronous checks of the pump itself (on inner
 *   hosts with a fake clock) and spawns the scenarios as root tasks, at most
 *   `lanes` at a time (the next one is spawned when one ends);
 * - `pump(maxRounds)` pumps that host once and reports
 *   `{ blocked, nextDeadline, ready, finished, total, pumps }` as JSON;
 * - `deliver(key, payload)` is a host callback fired between two pumps (the
 *   scripted external events the scenarios ask for with `hostApi.schedule`);
 * - `results()` lists every scenario with its outcome, as JSON.
 *
 * Nothing here may use `run`, `runVirtual`, `call`/`until` or anything that
 * needs the host's event loop: the only driver is `pump()`.
 */
import {
  BreakFromSpawnLoop,
  Cancelled,
  CondVar,
  Lazy,
  Mutex,
  Queue,
  QueueClosed,
  Semaphore,
  TimeoutError,
  Timer,
  TimerCancelled,
  WeftUsageError,
  action,
  all,
  any,
  isBeingCancelled,
  now,
  pause,
  protectFromCancel,
  retry,
  sleep,
  suppressedErrors,
  withCancellationHandler,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type Operation,
  type Task,
} from "../../src/index.ts";
import { createHost, type Host, type PumpResult } from "../../src/host.ts";

// ── what the embedder gives the guest ──────────────────────────────────────

/** The functions the embedding host injects (QuickJS has none of its own). */
export interface HostApi {
  /** The host clock in milliseconds. */
  now(): number;
  /** onWake: the host should pump again soon. */
  wake(): void;
  /** A line for the host's output. */
  log(text: string): void;
  /** Asks the host to call `weftScenarios.deliver(key, payload)` once, after `afterMs` on its clock. */
  schedule(key: string, afterMs: number): void;
}

/** One scenario's outcome, as `results()` reports it. */
export interface Outcome {
  name: string;
  status: "running" | "passed" | "failed";
  error?: string;
}

/** What `pump()` reports (as JSON). */
export interface GuestPumpReport {
  blocked: number;
  nextDeadline?: number;
  ready: number;
  finished: number;
  total: number;
  pumps: number;
}

/** The guest's entry points, installed as `globalThis.weftScenarios`. */
export interface WeftScenarios {
  start(hostApi: HostApi, lanes?: number): number;
  warmUp(steps: number): number;
  pump(maxRounds?: number): string;
  deliver(key: string, payload: string): boolean;
  results(): string;
}

// ── a tiny assert ──────────────────────────────────────────────────────────

class AssertionFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionFailed";
  }
}

/**
 * Thrown by a timing scenario when the host stalled so long that the order it
 * checks could not be set up (a deadline passed before the step that had to
 * precede it); the scenario is run again, up to {@link ATTEMPTS} times.
 */
class Inconclusive extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Inconclusive";
  }
}

const ATTEMPTS = 3;

function fail(message: string): never {
  throw new AssertionFailed(message);
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  if (value === undefined) return "undefined";
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Deep equality for plain data (numbers, strings, booleans, arrays, undefined). */
function eq(actual: unknown, expected: unknown, what: string): void {
  if (typeof actual !== typeof expected || show(actual) !== show(expected)) {
    fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

function ok(condition: boolean, what: string): void {
  if (!condition) fail(what);
}

function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) fail(`${what}: expected the very value ${show(expected)}, got ${show(actual)}`);
}

function isA(error: unknown, cls: abstract new (...args: never[]) => unknown, what: string): void {
  if (!(error instanceof cls)) fail(`${what}: expected a ${cls.name}, got ${show(error)}`);
}

/** Runs `body` and returns what it threw; fails if it returned. */
function* caught(body: () => Operation<unknown>): Operation<unknown> {
  let value: unknown;
  try {
    value = yield* body();
  } catch (error) {
    return error;
  }
  return fail(`expected an error, but it returned ${show(value)}`);
}

/** Calls `fn` and returns what it threw; fails if it returned. */
function thrown(fn: () => unknown): unknown {
  let value: unknown;
  try {
    value = fn();
  } catch (error) {
    return error;
  }
  return fail(`expected an error, but it returned ${show(value)}`);
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : String(error);
}

class Boom extends Error {
  constructor(message = "boom") {
    super(message);
    this.name = "Boom";
  }
}

// ── the registry ───────────────────────────────────────────────────────────

type Check = () => void;
const scenarios: Array<{ name: string; body: () => Operation<void> }> = [];
const checks: Array<{ name: string; fn: Check }> = [];
const outcomes: Outcome[] = [];

/** A scenario: a task on the embedder-driven host. */
function scenario(name: string, body: () => Operation<void>): void {
  scenarios.push({ name, body });
}

/** A synchronous check, run once at start outside any pump (on hosts of its own). */
function check(name: string, fn: Check): void {
  checks.push({ name, fn });
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const stack = typeof error.stack === "string" ? error.stack.split("\n").slice(0, 4).join(" | ") : "";
    return `${error.name}: ${error.message}${stack ? ` [${stack.trim()}]` : ""}`;
  }
  return `thrown ${show(error)}`;
}

// ── host state shared with the scenarios ───────────────────────────────────

let api: HostApi | null = null;
let host: Host | null = null;
/** Pumps started so far. */
let pumps = 0;
let pumping = false;
/** Whether onWake came since the last pump began. */
let wokenSincePump = false;
let wakesDuringPump = 0;

/** Host callbacks the scenarios are waiting for, by key. */
const callbacks = new Map<string, (payload: string) => void>();
/** What each delivery saw: the pump count then, and whether the host had been told to pump. */
const deliveries = new Map<string, { atPump: number; wokeHost: boolean }>();
/** Keys delivered when nobody listened any more. */
const dropped = new Set<string>();

function hostApi(): HostApi {
  if (api === null) throw new Error("weftScenarios.start() has not been called");
  return api;
}

/** Registers `fn` as the host callback `key`, fired by the host after `afterMs`. */
function scheduleHostCallback(key: string, afterMs: number, fn: (payload: string) => void): void {
  if (callbacks.has(key)) fail(`host callback ${key} registered twice`);
  callbacks.set(key, fn);
  hostApi().schedule(key, afterMs);
}

/** An operation completed by a host callback: resolves with its payload (or rejects with it). */
function hostEvent(key: string, afterMs: number, mode: "resolve" | "reject" = "resolve"): Operation<string> {
  return action<string>((resolve, reject) => {
    scheduleHostCallback(key, afterMs, (payload) => {
      if (mode === "resolve") resolve(payload);
      else reject(new Boom(payload));
    });
    return () => {
      callbacks.delete(key);
    };
  });
}

/** Tasks of the spawning group, spawned in order, that log when they end by a timer. */
function sleeper(log: string[], name: string, ms: number): () => Operation<string> {
  return function* () {
    yield* sleep(ms);
    log.push(name);
    return name;
  };
}

// ═══════════════════════════════════════════════════════════════════════════
// Core: pause, sleep, timers
// ═══════════════════════════════════════════════════════════════════════════

scenario("pause: two pausing tasks alternate strictly, one step per round", function* () {
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    for (const name of ["ping", "pong"]) {
      group.spawnBg(function* () {
        for (let i = 0; i < 4; i++) {
          log.push(`${name}${i}`);
          yield* pause();
        }
      });
    }
  });
  eq(log, ["ping0", "pong0", "ping1", "pong1", "ping2", "pong2", "ping3", "pong3"], "order");
});

scenario("pause: a task woken during a round runs in the next round, after those already queued", function* () {
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      log.push("a1");
      group.spawnBg(function* () {
        log.push("c1");
        yield* pause();
        log.push("c2");
      });
      yield* pause();
      log.push("a2");
      yield* pause();
      log.push("a3");
    });
    group.spawnBg(function* () {
      log.push("b1");
      yield* pause();
      log.push("b2");
    });
  });
  eq(log, ["a1", "b1", "c1", "a2", "b2", "c2", "a3"], "order");
});

scenario("sleep: tasks wake in deadline order, equal deadlines in the order they were set", function* () {
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    const plan: Array<[string, number]> = [
      ["a", 30],
      ["b", 10],
      ["c", 20],
      ["d", 10],
      ["e", 30],
      ["f", 10],
    ];
    for (const [name, ms] of plan)
      group.spawnBg(function* () {
        yield* sleeper(log, name, ms)();
      });
  });
  eq(log, ["b", "d", "f", "c", "a", "e"], "wake order");
});

scenario("sleep: now() moves by at least the duration; sleep(0) still lets a sibling run first", function* () {
  const t0 = now();
  yield* sleep(20);
  const slept = now() - t0;
  ok(slept >= 20, `slept only ${slept} ms`);
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      log.push("a1");
      yield* sleep(0);
      log.push("a2");
    });
    group.spawnBg(function* () {
      log.push("b1");
    });
  });
  eq(log, ["a1", "b1", "a2"], "sleep(0) order");
});

scenario("Timer: refresh() pushes the deadline back; an expired timer's wait returns at once", function* () {
  const t0 = now();
  const timer = new Timer(40);
  let woke = -1;
  let refreshedAt = -1;
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      yield* timer.wait();
      woke = now() - t0;
    });
    group.spawnBg(function* () {
      yield* sleep(10);
      refreshedAt = now() - t0;
      // Past the first deadline the timer may have fired already: no test.
      if (refreshedAt >= 40) throw new Inconclusive(`the host stalled: the refresh came at ${refreshedAt} ms`);
      timer.refresh();
    });
  });
  ok(refreshedAt >= 10, `refreshed at ${refreshedAt}`);
  ok(woke >= refreshedAt + 40, `woke at ${woke}, refreshed at ${refreshedAt}: the refresh was ignored`);
  let siblingRan = false;
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      siblingRan = true;
    });
    yield* timer.wait(); // expired: no suspension, so the sibling has not run yet
    eq(siblingRan, false, "wait on an expired timer suspended");
  });
});

scenario("Timer: cancel() throws TimerCancelled into every waiter, now and later; a custom error sticks", function* () {
  const t0 = now();
  const timer = new Timer(1000);
  const errors: unknown[] = [];
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < 2; i++) {
      group.spawnBg(function* () {
        errors.push(yield* caught(() => timer.wait()));
      });
    }
    yield* sleep(5);
    timer.cancel();
  });
  eq(errors.length, 2, "waiters woken");
  for (const e of errors) isA(e, TimerCancelled, "waiter");
  isA(yield* caught(() => timer.wait()), TimerCancelled, "a later wait");
  ok(now() - t0 < 1000, "the cancelled timer still ran to its deadline");
  const mine = new Boom("mine");
  const other = new Timer(1000);
  other.cancel(mine);
  other.cancel(new Boom("second")); // the first error stays
  same(yield* caught(() => other.wait()), mine, "custom cancel error");
});

// ═══════════════════════════════════════════════════════════════════════════
// Core: cancellation
// ═══════════════════════════════════════════════════════════════════════════

scenario("cancel: Cancelled is thrown at the suspension point, finally runs, and it is sticky", function* () {
  const t0 = now();
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    const child = group.spawn(function* () {
      log.push("start");
      try {
        yield* sleep(1000);
        log.push("sleep returned (wrong)");
      } catch (e) {
        log.push(`caught ${nameOf(e)}`);
        throw e;
      } finally {
        log.push("finally");
        try {
          yield* pause();
          log.push("pause returned (wrong)");
        } catch (e) {
          log.push(`sticky ${nameOf(e)}`);
        }
      }
    });
    yield* sleep(10);
    eq(child.done, false, "child done early");
    child.cancel();
    isA(yield* caught(() => child.wait()), Cancelled, "child.wait()");
    eq(child.done, true, "child.done");
  });
  eq(log, ["start", "caught Cancelled", "finally", "sticky Cancelled"], "log");
  ok(now() - t0 < 1000, "the cancelled sleep ran to its end");
});

scenario("cancel: a task cancelled before it started runs up to its first suspension", function* () {
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    const child = group.spawn(function* () {
      log.push(`started, being cancelled: ${isBeingCancelled()}`);
      try {
        yield* pause();
        log.push("pause returned (wrong)");
      } finally {
        log.push("finally");
      }
    });
    child.cancel();
    child.cancel(); // twice is once
    isA(yield* caught(() => child.wait()), Cancelled, "child.wait()");
  });
  eq(log, ["started, being cancelled: true", "finally"], "log");
});

scenario("protectFromCancel: protected cleanup sleeps its full time; the next unprotected suspension throws", function* () {
  const log: string[] = [];
  let protectedFor = -1;
  yield* withTaskGroup<void>(function* (group) {
    const child = group.spawn(function* () {
      try {
        yield* sleep(1000);
      } finally {
        const start = now();
        yield* protectFromCancel(function* () {
          log.push(`inside: being cancelled ${isBeingCancelled()}`);
          yield* sleep(20);
          yield* pause();
        });
        protectedFor = now() - start;
        log.push(`after: being cancelled ${isBeingCancelled()}`);
        try {
          yield* pause();
          log.push("unprotected pause returned (wrong)");
        } catch (e) {
          log.push(`unprotected ${nameOf(e)}`);
        }
      }
    });
    yield* sleep(5);
    child.cancel();
    isA(yield* caught(() => child.wait()), Cancelled, "child.wait()");
  });
  ok(protectedFor >= 20, `protected sleep was cut short: ${protectedFor} ms`);
  eq(log, ["inside: being cancelled false", "after: being cancelled true", "unprotected Cancelled"], "log");
});

scenario("withCancellationHandler: the handler runs on cancellation, values pass through", function* () {
  const log: string[] = [];
  const v = yield* withCancellationHandler(
    function* () {
      yield* sleep(1);
      return "value";
    },
    function* () {
      log.push("handler (wrong)");
    },
  );
  eq(v, "value", "value");
  yield* withTaskGroup<void>(function* (group) {
    const child = group.spawn(() =>
      withCancellationHandler(
        () => sleep(1000),
        function* () {
          log.push(`handler, being cancelled ${isBeingCancelled()}`);
        },
      ),
    );
    yield* sleep(5);
    child.cancel();
    isA(yield* caught(() => child.wait()), Cancelled, "child.wait()");
  });
  eq(log, ["handler, being cancelled true"], "log");
});

// ═══════════════════════════════════════════════════════════════════════════
// Core: task groups
// ═══════════════════════════════════════════════════════════════════════════

scenario("withTaskGroup: a failing task cancels its siblings and the body; its error leaves the group", function* () {
  const t0 = now();
  const log: string[] = [];
  const boom = new Boom();
  const error = yield* caught(() =>
    withTaskGroup<void>(function* (group) {
      group.spawnBg(function* () {
        try {
          yield* sleep(1000);
          log.push("sibling finished (wrong)");
        } finally {
          log.push("sibling finally");
        }
      });
      group.spawnBg(function* () {
        yield* sleep(10);
        throw boom;
      });
      try {
        yield* sleep(1000);
      } finally {
        log.push("body finally");
      }
    }),
  );
  same(error, boom, "group error");
  eq(log, ["body finally", "sibling finally"], "log");
  ok(now() - t0 < 1000, "the group waited for the cancelled sleeps");
});

scenario("withTaskGroup: the first failure wins; later cleanup and defer errors are suppressed in order", function* () {
  const first = new Boom("first");
  const c1 = new Boom("cleanup 1");
  const c2 = new Boom("cleanup 2");
  const d = new Boom("defer");
  const error = yield* caught(() =>
    withTaskGroup<void>(function* (group) {
      group.addDefer(function* () {
        throw d;
      });
      group.spawnBg(function* () {
        try {
          yield* sleep(1000);
        } finally {
          throw c1;
        }
      });
      group.spawnBg(function* () {
        try {
          yield* sleep(1000);
        } finally {
          throw c2;
        }
      });
      group.spawnBg(function* () {
        yield* sleep(10);
        throw first;
      });
    }),
  );
  same(error, first, "group error");
  const suppressed = suppressedErrors(error);
  eq(suppressed.length, 3, "suppressed count");
  same(suppressed[0], c1, "suppressed[0]");
  same(suppressed[1], c2, "suppressed[1]");
  same(suppressed[2], d, "suppressed[2]");
  eq(suppressedErrors(new Boom()).length, 0, "nothing suppressed into a fresh error");
});

scenario("spawn noWait: a background task is cancelled once the others are done", function* () {
  const log: string[] = [];
  let ticks = 0;
  const value = yield* withTaskGroup<string>(function* (group) {
    group.spawnBg(
      function* () {
        try {
          for (;;) {
            yield* sleep(5);
            ticks++;
          }
        } finally {
          log.push("background finally");
        }
      },
      { noWait: true },
    );
    group.spawnBg(
      function* () {
        yield* sleep(1);
        log.push("short helper done");
      },
      { noWait: true },
    );
    yield* pause(); // the helpers set their timers first
    yield* sleep(22);
    log.push("body done");
    return "v";
  });
  eq(value, "v", "group value");
  eq(log, ["short helper done", "body done", "background finally"], "log");
  ok(ticks >= 1, "the background task never ran");
});

scenario("spawn allowFailure: the failure stays with the task; wait() rethrows it", function* () {
  const boom = new Boom();
  const result = yield* withTaskGroup<number>(function* (group) {
    const fragile = group.spawn(
      function* (): Operation<number> {
        yield* sleep(5);
        throw boom;
      },
      { allowFailure: true },
    );
    const other = group.spawn(function* () {
      yield* sleep(15);
      return 2;
    });
    same(yield* caught(() => fragile.wait()), boom, "fragile.wait()");
    same(
      thrown(() => fragile.tryWait()),
      boom,
      "fragile.tryWait()",
    );
    return yield* other.wait();
  });
  eq(result, 2, "group value");
});

scenario("returnImmediately: ends the group with the value and cancels the rest", function* () {
  const t0 = now();
  const log: string[] = [];
  const value = yield* withTaskGroup<string>(function* (group) {
    group.spawnBg(function* () {
      try {
        yield* sleep(1000);
      } finally {
        log.push("slow finally");
      }
    });
    group.spawnBg(function* () {
      yield* sleep(10);
      try {
        group.returnImmediately("early");
        log.push("returnImmediately returned (wrong)");
      } catch (e) {
        log.push(`caller got ${nameOf(e)}`);
        throw e;
      }
    });
    yield* sleep(1000);
    return "late";
  });
  eq(value, "early", "group value");
  eq(log, ["caller got Cancelled", "slow finally"], "log");
  ok(now() - t0 < 1000, "waited for the slow sleep");
});

scenario("addDefer: defers run after every task, last registered first; addDefer after the end throws", function* () {
  const log: string[] = [];
  let saved: { addDefer(body: () => Operation<void>): void } | null = null;
  yield* withTaskGroup<void>(function* (group) {
    saved = group;
    group.addDefer(function* () {
      log.push("defer 1");
    });
    group.addDefer(function* () {
      yield* sleep(2);
      log.push("defer 2");
    });
    group.spawnBg(function* () {
      yield* sleep(10);
      log.push("task");
    });
    log.push("body");
  });
  eq(log, ["body", "task", "defer 2", "defer 1"], "log");
  const g = saved as { addDefer(body: () => Operation<void>): void } | null;
  ok(g !== null, "group not captured");
  isA(
    thrown(() => g!.addDefer(function* () {})),
    WeftUsageError,
    "addDefer after the end",
  );
});

scenario("withTimeout: a fast body returns its value; a slow one is cancelled and TimeoutError is thrown", function* () {
  const log: string[] = [];
  const fast = yield* withTimeout(50, function* () {
    yield* sleep(5);
    return "fast";
  });
  eq(fast, "fast", "fast body");
  const t0 = now();
  const error = yield* caught(() =>
    withTimeout(10, function* () {
      try {
        yield* sleep(1000);
      } finally {
        log.push("body finally");
      }
    }),
  );
  isA(error, TimeoutError, "slow body");
  const took = now() - t0;
  ok(took >= 10 && took < 1000, `timed out after ${took} ms`);
  eq(log, ["body finally"], "log");
  const mine = new Boom("custom timeout");
  same(yield* caught(() => withTimeout(5, () => sleep(1000), mine)), mine, "custom timeout error");
});

scenario("withTimeoutOpt: undefined on timeout, the value otherwise", function* () {
  const late = yield* withTimeoutOpt(10, function* () {
    yield* sleep(1000);
    return "late";
  });
  eq(late, undefined, "timed out");
  const soon = yield* withTimeoutOpt(50, function* () {
    yield* sleep(5);
    return "soon";
  });
  eq(soon, "soon", "in time");
});

scenario("retry fixedDelay: attempts are spaced by the delay; maxRetry and fatalError stop it", function* () {
  const times: number[] = [];
  let n = 0;
  const value = yield* retry({ kind: "fixedDelay", ms: 10 }, function* () {
    times.push(now());
    if (++n < 3) throw new Boom(`attempt ${n}`);
    return n;
  });
  eq(value, 3, "value");
  eq(times.length, 3, "attempts");
  for (let i = 1; i < times.length; i++) ok(times[i]! - times[i - 1]! >= 10, `gap ${i} was ${times[i]! - times[i - 1]!} ms`);
  let tries = 0;
  const last = yield* caught(() =>
    retry(
      { kind: "fixedDelay", ms: 1 },
      function* () {
        tries++;
        throw new Boom(`try ${tries}`);
      },
      { maxRetry: 2 },
    ),
  );
  eq(tries, 3, "maxRetry 2 means 3 attempts");
  eq((last as Error).message, "try 3", "the last error is thrown");
  let fatalTries = 0;
  const fatal = yield* caught(() =>
    retry(
      { kind: "immediate" },
      function* () {
        fatalTries++;
        throw new TypeError("fatal");
      },
      { fatalError: (e) => e instanceof TypeError },
    ),
  );
  isA(fatal, TypeError, "fatal error");
  eq(fatalTries, 1, "fatal errors are not retried");
});

scenario("retry exponentialDelay: back-off gaps measured with now() grow by the factor up to the maximum", function* () {
  const times: number[] = [];
  const value = yield* retry({ kind: "exponentialDelay", initial: 4, factor: 2, maximum: 10 }, function* () {
    times.push(now());
    if (times.length < 5) throw new Boom();
    return "done";
  });
  eq(value, "done", "value");
  eq(times.length, 5, "attempts");
  const expected = [4, 8, 10, 10];
  for (let i = 0; i < expected.length; i++) {
    const gap = times[i + 1]! - times[i]!;
    ok(gap >= expected[i]!, `gap ${i + 1} was ${gap} ms, expected at least ${expected[i]}`);
  }
});

scenario("all: values in input order; maxConcurrent bounds the running bodies; a failure cancels the rest", function* () {
  const log: string[] = [];
  const values = yield* all([sleeper(log, "a", 45), sleeper(log, "b", 5), sleeper(log, "c", 25)]);
  eq(values, ["a", "b", "c"], "values");
  eq(log, ["b", "c", "a"], "finish order");
  let running = 0;
  let peak = 0;
  const bodies = [1, 2, 3, 4, 5].map(
    (i) =>
      function* () {
        running++;
        peak = Math.max(peak, running);
        yield* sleep(3);
        running--;
        return i * 10;
      },
  );
  eq(yield* all(bodies, { maxConcurrent: 2 }), [10, 20, 30, 40, 50], "bounded values");
  eq(peak, 2, "peak concurrency");
  eq(yield* all([]), [], "all of nothing");
  const boom = new Boom();
  const cleanup: string[] = [];
  const error = yield* caught(() =>
    all<string>([
      function* () {
        try {
          yield* sleep(1000);
          return "slow";
        } finally {
          cleanup.push("slow finally");
        }
      },
      function* () {
        yield* sleep(5);
        throw boom;
      },
    ]),
  );
  same(error, boom, "all failure");
  eq(cleanup, ["slow finally"], "cleanup");
});

scenario("any: the first success wins and cancels the rest; allowFailure; any([]) is a RangeError", function* () {
  const cancelled: string[] = [];
  const body = (name: string, ms: number) =>
    function* (): Operation<string> {
      try {
        yield* sleep(ms);
        return name;
      } catch (e) {
        if (e instanceof Cancelled) cancelled.push(name);
        throw e;
      }
    };
  eq(yield* any([body("slow", 1000), body("fast", 10), body("mid", 1000)]), "fast", "winner");
  eq(cancelled, ["slow", "mid"], "cancelled in input order");
  const tolerant = yield* any<string>(
    [
      function* () {
        yield* sleep(3);
        throw new Boom("early failure");
      },
      body("ok", 12),
    ],
    { allowFailure: true },
  );
  eq(tolerant, "ok", "allowFailure winner");
  const last = yield* caught(() =>
    any<string>(
      [
        function* () {
          yield* sleep(30);
          throw new Boom("second");
        },
        function* () {
          yield* sleep(2);
          throw new Boom("first");
        },
      ],
      { allowFailure: true },
    ),
  );
  eq((last as Error).message, "second", "all failed: the last failure");
  isA(yield* caught(() => any([])), RangeError, "any([])");
});

scenario("spawnLoop: runs until BreakFromSpawnLoop; with retry a failed iteration is retried after the delay", function* () {
  const seen: number[] = [];
  let i = 0;
  yield* withTaskGroup<void>(function* (group) {
    group.spawnLoop(function* () {
      yield* sleep(1);
      i++;
      if (i === 4) throw new BreakFromSpawnLoop();
      seen.push(i);
    });
  });
  eq(seen, [1, 2, 3], "iterations");
  const times: number[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnLoop(
      function* () {
        times.push(now());
        yield* pause();
        if (times.length === 2) throw new Boom("flaky");
        if (times.length === 4) throw new BreakFromSpawnLoop();
      },
      { retry: { kind: "fixedDelay", ms: 8 } },
    );
  });
  eq(times.length, 4, "iterations with one retry");
  ok(times[2]! - times[1]! >= 8, `retried after ${times[2]! - times[1]!} ms`);
});

scenario("Task: done/tryWait while running and after; wait() gives the value or the error", function* () {
  const boom = new Boom();
  yield* withTaskGroup<void>(function* (group) {
    const task: Task<number> = group.spawn(function* () {
      yield* sleep(5);
      return 42;
    });
    eq(task.done, false, "done while running");
    eq(task.tryWait(), undefined, "tryWait while running");
    eq(yield* task.wait(), 42, "wait()");
    eq(task.done, true, "done after");
    eq(task.tryWait(), 42, "tryWait after");
    eq(yield* task.wait(), 42, "a second wait()");
    const failing = group.spawn(
      function* (): Operation<number> {
        yield* sleep(1);
        throw boom;
      },
      { allowFailure: true },
    );
    same(yield* caught(() => failing.wait()), boom, "failing.wait()");
    same(
      thrown(() => failing.tryWait()),
      boom,
      "failing.tryWait()",
    );
  });
});

scenario("Task: a task waiting for itself gets WeftUsageError (a TypeError)", function* () {
  yield* withTaskGroup<void>(function* (group) {
    const box: { task: Task<unknown> | null } = { task: null };
    const self = group.spawn(function* (): Operation<unknown> {
      try {
        yield* box.task!.wait();
        return "no error";
      } catch (e) {
        return e;
      }
    });
    box.task = self;
    const result = yield* self.wait();
    isA(result, WeftUsageError, "self-wait");
    isA(result, TypeError, "self-wait");
  });
});

scenario("bad input: durations, sizes, kinds, bodies and a bare yield give clear errors", function* () {
  isA(
    thrown(() => sleep(-1)),
    RangeError,
    "sleep(-1)",
  );
  isA(
    thrown(() => sleep(NaN)),
    RangeError,
    "sleep(NaN)",
  );
  isA(
    thrown(() => sleep("5" as unknown as number)),
    TypeError,
    "sleep('5')",
  );
  isA(
    thrown(() => new Timer(-5)),
    RangeError,
    "new Timer(-5)",
  );
  isA(
    thrown(() => new Semaphore(0)),
    RangeError,
    "new Semaphore(0)",
  );
  isA(
    thrown(() => new Semaphore(2, 3)),
    RangeError,
    "new Semaphore(2, 3)",
  );
  isA(
    thrown(() => new Queue<number>({ kind: "blocking", capacity: -1 })),
    RangeError,
    "capacity -1",
  );
  isA(
    thrown(() => new Queue<number>({ kind: "nope" } as unknown as { kind: "unbounded" })),
    TypeError,
    "unknown kind",
  );
  isA(
    thrown(() => new Lazy(5 as unknown as () => Operation<number>)),
    TypeError,
    "new Lazy(5)",
  );
  isA(yield* caught(() => withTaskGroup(5 as unknown as () => Operation<void>)), TypeError, "withTaskGroup(5)");
  isA(yield* caught(() => withTimeout(-1, () => sleep(1))), RangeError, "withTimeout(-1)");
  isA(
    yield* caught(() => retry({ kind: "sometimes" } as unknown as { kind: "immediate" }, () => sleep(1))),
    TypeError,
    "retry with a bad method",
  );
  isA(yield* caught(() => all([5 as unknown as () => Operation<number>])), TypeError, "all([5])");
  const sem = new Semaphore(1);
  isA(
    thrown(() => sem.release()),
    WeftUsageError,
    "release beyond size",
  );
  const bare = yield* withTaskGroup<unknown>(function* (group) {
    const t = group.spawn(function* (): Operation<unknown> {
      try {
        yield 5;
        return "bare yield accepted (wrong)";
      } catch (e) {
        return e;
      }
    });
    return yield* t.wait();
  });
  isA(bare, WeftUsageError, "bare yield");
  yield* withTaskGroup<void>(function* (group) {
    isA(
      thrown(() => group.spawn(5 as unknown as () => Operation<void>)),
      TypeError,
      "spawn(5)",
    );
    const { spawn } = group;
    isA(
      thrown(() => spawn(function* () {})),
      WeftUsageError,
      "detached spawn",
    );
  });
});

// ═══════════════════════════════════════════════════════════════════════════
// Sync: queues
// ═══════════════════════════════════════════════════════════════════════════

scenario("Queue unbounded: FIFO; waiting readers are served in the order they started waiting", function* () {
  const q = new Queue<number>();
  eq(q.tryGet(), undefined, "tryGet on empty");
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    for (const name of ["r1", "r2", "r3"]) {
      group.spawnBg(function* () {
        log.push(`${name}:${yield* q.get()}`);
      });
    }
    yield* pause();
    yield* q.put(1);
    yield* q.put(2);
    yield* q.put(3);
    eq(q.size, 0, "values went straight to the readers");
  });
  eq(log, ["r1:1", "r2:2", "r3:3"], "readers");
  for (let i = 0; i < 5; i++) ok(q.tryPut(i), "tryPut on unbounded");
  eq(q.size, 5, "size");
  const got: number[] = [];
  for (let i = 0; i < 5; i++) got.push(yield* q.get());
  eq(got, [0, 1, 2, 3, 4], "FIFO");
});

scenario("Queue blocking: a full queue makes put wait (back-pressure); capacity 0 is a rendezvous", function* () {
  const q = new Queue<number>({ kind: "blocking", capacity: 1 });
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      for (let i = 1; i <= 3; i++) {
        log.push(`put ${i}`);
        yield* q.put(i);
        log.push(`put ${i} done`);
      }
    });
    group.spawnBg(function* () {
      yield* sleep(10);
      eq(q.size, 1, "buffered while the producer waits");
      eq(q.tryPut(99), false, "tryPut on a full queue");
      for (let i = 0; i < 3; i++) {
        log.push(`got ${yield* q.get()}`);
        yield* sleep(2);
      }
    });
  });
  const at = (entry: string): number => log.indexOf(entry);
  eq(at("put 1 done") >= 0 && at("put 1 done") < at("put 2"), true, `put 1 must not wait: ${show(log)}`);
  ok(at("got 1") < at("put 2 done"), `put 2 finished before room was made: ${show(log)}`);
  ok(at("got 2") < at("put 3 done"), `put 3 finished before room was made: ${show(log)}`);
  eq(
    log.filter((e) => e.startsWith("got")),
    ["got 1", "got 2", "got 3"],
    "values",
  );
  const rendezvous = new Queue<string>({ kind: "blocking", capacity: 0 });
  const order: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      yield* rendezvous.put("x");
      order.push("put returned");
    });
    group.spawnBg(function* () {
      yield* sleep(5);
      order.push(`took ${yield* rendezvous.get()}`);
    });
  });
  eq(order, ["took x", "put returned"], "rendezvous");
});

scenario("Queue close: readers drain then get QueueClosed; blocked readers and writers are woken; clear empties", function* () {
  const q = new Queue<number>();
  q.tryPut(1);
  q.tryPut(2);
  q.close();
  eq(q.closed, true, "closed");
  isA(
    thrown(() => q.tryPut(3)),
    QueueClosed,
    "tryPut after close",
  );
  isA(yield* caught(() => q.put(3)), QueueClosed, "put after close");
  eq(yield* q.get(), 1, "drain 1");
  eq(q.tryGet(), 2, "drain 2");
  isA(yield* caught(() => q.get()), QueueClosed, "get once drained");

  const empty = new Queue<number>();
  const full = new Queue<number>({ kind: "blocking", capacity: 1 });
  full.tryPut(10);
  const errors: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      errors.push(`reader ${nameOf(yield* caught(() => empty.get()))}`);
    });
    group.spawnBg(function* () {
      errors.push(`writer ${nameOf(yield* caught(() => full.put(11)))}`);
    });
    yield* sleep(5);
    empty.close();
    full.close();
  });
  eq(errors, ["reader QueueClosed", "writer QueueClosed"], "woken by close");
  eq(full.tryGet(), 10, "the buffered item survives a soft close");
  isA(
    thrown(() => full.tryGet()),
    QueueClosed,
    "the blocked writer's value was never delivered",
  );

  const cleared = new Queue<number>();
  cleared.tryPut(1);
  const mine = new Boom("closed for good");
  cleared.close(mine, { clear: true });
  same(
    thrown(() => cleared.tryGet()),
    mine,
    "clear: true throws at once, with the custom error",
  );
});

scenario("Queue discard kinds: discardOldest evicts, discardLatest drops; tryPut never evicts", function* () {
  const oldest = new Queue<number>({ kind: "discardOldest", capacity: 2 });
  for (const v of [1, 2, 3]) yield* oldest.put(v);
  eq(oldest.tryPut(4), false, "tryPut on full discardOldest");
  eq([oldest.tryGet(), oldest.tryGet(), oldest.tryGet()], [2, 3, undefined], "discardOldest content");
  const latest = new Queue<number>({ kind: "discardLatest", capacity: 2 });
  for (const v of [1, 2, 3]) yield* latest.put(v);
  eq(latest.tryPut(4), false, "tryPut on full discardLatest");
  eq([latest.tryGet(), latest.tryGet(), latest.tryGet()], [1, 2, undefined], "discardLatest content");
  const zero = new Queue<string>({ kind: "discardOldest", capacity: 0 });
  yield* zero.put("dropped");
  const got: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.spawnBg(function* () {
      got.push(yield* zero.get());
    });
    yield* pause();
    yield* zero.put("handed");
  });
  eq(got, ["handed"], "capacity 0 hands only to a waiting reader");
});

// ═══════════════════════════════════════════════════════════════════════════
// Sync: semaphore, mutex, condition variable, lazy
// ═══════════════════════════════════════════════════════════════════════════

scenario("Semaphore: waiters get permits in arrival order; a cancelled waiter holds nothing", function* () {
  const sem = new Semaphore(1);
  yield* sem.acquire();
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    const tasks = ["w1", "w2", "w3"].map((name) =>
      group.spawn(function* () {
        yield* sem.acquire();
        log.push(name);
        yield* sleep(1);
        sem.release();
      }),
    );
    yield* sleep(5);
    eq(sem.tryAcquire(), false, "tryAcquire while held");
    tasks[1]!.cancel();
    yield* pause();
    sem.release();
    isA(yield* caught(() => tasks[1]!.wait()), Cancelled, "cancelled waiter");
  });
  eq(log, ["w1", "w3"], "grant order");
  eq(sem.available, 1, "every permit came back");
});

scenario("Semaphore: a permit handed over in the same round as the cancellation is kept", function* () {
  const sem = new Semaphore(1);
  yield* sem.acquire();
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    const waiter = group.spawn(function* () {
      yield* sem.acquire();
      log.push(`acquired, being cancelled: ${isBeingCancelled()}`);
      return "finished";
    });
    yield* sleep(5);
    sem.release(); // straight to the waiter
    waiter.cancel(); // same round
    eq(yield* waiter.wait(), "finished", "waiter value");
  });
  eq(log, ["acquired, being cancelled: true"], "log");
  eq(sem.available, 0, "the waiter kept the permit");
  eq(sem.tryAcquire(), false, "nothing free");
});

scenario("Mutex.withLock: exclusion in arrival order; released on error and on cancellation", function* () {
  const lock = new Mutex();
  const log: string[] = [];
  let inside = 0;
  let peak = 0;
  yield* withTaskGroup<void>(function* (group) {
    for (const name of ["a", "b", "c"]) {
      group.spawnBg(function* () {
        yield* lock.withLock(function* () {
          inside++;
          peak = Math.max(peak, inside);
          log.push(name);
          yield* sleep(3);
          inside--;
        });
      });
    }
  });
  eq(log, ["a", "b", "c"], "order");
  eq(peak, 1, "exclusion");
  const boom = new Boom();
  same(
    yield* caught(() =>
      lock.withLock(function* () {
        yield* pause();
        throw boom;
      }),
    ),
    boom,
    "error passes through",
  );
  eq(lock.locked, false, "released after the error");
  yield* withTaskGroup<void>(function* (group) {
    const holder = group.spawn(() => lock.withLock(() => sleep(1000)));
    yield* sleep(3);
    eq(lock.locked, true, "held");
    holder.cancel();
    isA(yield* caught(() => holder.wait()), Cancelled, "holder");
  });
  eq(lock.locked, false, "released after the cancellation");
  eq(
    yield* lock.withLock(function* () {
      return "value";
    }),
    "value",
    "withLock value",
  );
});

scenario("CondVar: signal wakes the oldest waiter, broadcast the rest in order; a signal with nobody waiting is lost", function* () {
  const cv = new CondVar();
  cv.signal(); // nobody waits: lost
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    for (const name of ["w1", "w2", "w3"]) {
      group.spawnBg(function* () {
        yield* cv.wait();
        log.push(name);
      });
    }
    yield* sleep(3);
    eq(log, [], "the early signal counted");
    cv.signal();
    yield* sleep(3);
    eq(log, ["w1"], "signal");
    cv.broadcast();
  });
  eq(log, ["w1", "w2", "w3"], "broadcast order");
  eq(yield* withTimeoutOpt(5, () => cv.wait()), undefined, "a wait with no signal times out");
});

scenario("Lazy: computed on the first wait, once, shared by concurrent waiters; a failure is cached", function* () {
  let starts = 0;
  const lazy = new Lazy(function* () {
    starts++;
    yield* sleep(10);
    return { id: starts };
  });
  yield* sleep(1);
  eq(starts, 0, "started on creation");
  const got: Array<{ id: number }> = [];
  yield* withTaskGroup<void>(function* (group) {
    for (let i = 0; i < 3; i++) {
      group.spawnBg(function* () {
        got.push(yield* lazy.wait());
      });
    }
  });
  eq(starts, 1, "runs once");
  ok(got.length === 3 && got[0] === got[1] && got[1] === got[2], "waiters share the value");
  same(yield* lazy.wait(), got[0], "cached");
  let failures = 0;
  const boom = new Boom();
  const broken = new Lazy<number>(function* () {
    failures++;
    yield* pause();
    throw boom;
  });
  same(yield* caught(() => broken.wait()), boom, "first wait");
  same(yield* caught(() => broken.wait()), boom, "second wait");
  eq(failures, 1, "the failure is cached");
});

scenario("Lazy: cancelled when its only waiter leaves, restarted by a later wait", function* () {
  const log: string[] = [];
  let attempts = 0;
  const lazy = new Lazy(function* () {
    const attempt = ++attempts;
    log.push(`start ${attempt}`);
    try {
      yield* sleep(attempt === 1 ? 1000 : 5);
    } catch (e) {
      log.push(`cancelled ${attempt}`);
      throw e;
    }
    log.push(`done ${attempt}`);
    return attempt;
  });
  eq(yield* withTimeoutOpt(8, () => lazy.wait()), undefined, "the first waiter timed out");
  yield* sleep(4);
  eq(yield* lazy.wait(), 2, "restarted value");
  eq(yield* lazy.wait(), 2, "cached");
  eq(log, ["start 1", "cancelled 1", "start 2", "done 2"], "log");
});

// ═══════════════════════════════════════════════════════════════════════════
// The host pump, with host callbacks fired between pumps
// ═══════════════════════════════════════════════════════════════════════════

scenario("host pump: an action resolved by a host callback wakes the host and finishes at the next pump", function* () {
  const started = pumps;
  const value = yield* hostEvent("resolve-a", 15);
  eq(value, "payload:resolve-a", "payload");
  const info = deliveries.get("resolve-a");
  ok(info !== undefined, "no delivery recorded");
  eq(info!.wokeHost, true, "onWake had not been called when the callback returned");
  eq(pumps, info!.atPump + 1, "the task did not resume in the first pump after the callback");
  ok(pumps > started, "resumed in the pump it blocked in");
});

scenario("host pump: an action rejected by a host callback throws its error in the task", function* () {
  const error = yield* caught(() => hostEvent("reject-a", 10, "reject"));
  isA(error, Boom, "rejection");
  eq((error as Error).message, "payload:reject-a", "message");
  eq(deliveries.get("reject-a")?.wokeHost, true, "onWake");
});

scenario("host pump: host callbacks due at different times resume their tasks in due order", function* () {
  const log: string[] = [];
  yield* withTaskGroup<void>(function* (group) {
    for (const [key, ms] of [
      ["ev-45", 45],
      ["ev-5", 5],
      ["ev-25", 25],
    ] as Array<[string, number]>) {
      group.spawnBg(function* () {
        yield* hostEvent(key, ms);
        log.push(key);
      });
    }
  });
  eq(log, ["ev-5", "ev-25", "ev-45"], "order");
  for (const key of log) eq(deliveries.get(key)?.wokeHost, true, `onWake for ${key}`);
});

scenario("host pump: a semaphore released from a host callback (outside any task) hands the permit to the waiter", function* () {
  const sem = new Semaphore(1, 0);
  const t0 = now();
  scheduleHostCallback("release-sem", 12, () => sem.release());
  yield* sem.acquire();
  ok(now() - t0 >= 12, "acquired before the host released");
  const info = deliveries.get("release-sem");
  eq(info?.wokeHost, true, "onWake");
  eq(pumps, info!.atPump + 1, "resumed at the next pump");
  sem.release();
  eq(sem.available, 1, "permit back");
});

scenario("host pump: cancelling a task that waits for the host runs the action's cleanup; the late callback is dropped", function* () {
  let cleaned = false;
  yield* withTaskGroup<void>(function* (group) {
    const waiter = group.spawn(function* () {
      try {
        return yield* hostEvent("late", 25);
      } finally {
        cleaned = !callbacks.has("late");
      }
    });
    yield* sleep(5);
    waiter.cancel();
    isA(yield* caught(() => waiter.wait()), Cancelled, "waiter");
  });
  eq(cleaned, true, "the action's cleanup did not run before the finally");
  // A second event due after the dropped one: by then the host has fired "late".
  eq(yield* hostEvent("after-late", 40), "payload:after-late", "second event");
  eq(dropped.has("late"), true, "the late callback found a listener");
});

scenario("host pump: a long chain of pauses is spread over several bounded pumps", function* () {
  // The embedder pumps with maxRounds 16. A lone pausing task skips the
  // switch 31 times out of 32, so 1000 pauses are still at least 31 rounds:
  // more than one bounded pump, which returns with ready > 0.
  const first = pumps;
  for (let i = 0; i < 1000; i++) yield* pause();
  ok(pumps > first, "1000 pauses ran inside a single bounded pump");
});

// ═══════════════════════════════════════════════════════════════════════════
// Synchronous checks of pump() itself, on inner hosts with a fake clock
// ═══════════════════════════════════════════════════════════════════════════

function innerHost(): { host: Host; clock: { t: number }; wakes: () => number } {
  const clock = { t: 0 };
  let count = 0;
  const h = createHost({ now: () => clock.t, onWake: () => void count++ });
  return { host: h, clock, wakes: () => count };
}

check("pump() returns with a task blocked on an action and never resumes it while idle", () => {
  const { host: h } = innerHost();
  let steps = 0;
  const task = h.spawn(function* () {
    steps++;
    yield* action<void>(() => {});
    steps++;
  });
  eq(h.pump(), { blocked: 1, nextDeadline: undefined, ready: 0 }, "first pump");
  for (let i = 0; i < 200; i++) eq(h.pump(), { blocked: 1, nextDeadline: undefined, ready: 0 }, `idle pump ${i}`);
  eq(steps, 1, "steps");
  eq(task.done, false, "done");
  eq(h.live, 1, "live");
});

check("pump() fires a sleep only once the fake clock reaches nextDeadline", () => {
  const { host: h, clock } = innerHost();
  clock.t = 1000;
  const task = h.spawn(function* () {
    yield* sleep(100);
    return now();
  });
  eq(h.pump(), { blocked: 1, nextDeadline: 1100, ready: 0 }, "first pump");
  clock.t = 1099.5;
  eq(h.pump(), { blocked: 1, nextDeadline: 1100, ready: 0 }, "early pump");
  eq(task.done, false, "woke early");
  clock.t = 1100;
  eq(h.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 }, "due pump");
  eq(task.tryWait(), 1100, "now() inside the task");
});

check("onWake fires once between pumps for host-side wake-ups, never inside a pump", () => {
  const { host: h, wakes } = innerHost();
  let resolveIt: ((v: number) => void) | undefined;
  const task = h.spawn(function* () {
    const v = yield* action<number>((resolve) => {
      resolveIt = resolve;
    });
    yield* withTaskGroup<void>(function* (group) {
      group.spawnBg(() => pause());
      group.spawnBg(() => sleep(0));
    });
    return v;
  });
  eq(wakes(), 1, "the spawn");
  h.pump();
  eq(wakes(), 1, "wakes during the pump");
  resolveIt!(7);
  resolveIt!(8);
  eq(wakes(), 2, "the callback");
  eq(task.done, false, "ran inside the callback");
  eq(h.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 }, "second pump");
  eq(task.tryWait(), 7, "value");
  eq(wakes(), 2, "wakes during the second pump");
});

check("pump() from inside a task throws WeftUsageError; maxRounds bounds the rounds", () => {
  const { host: h } = innerHost();
  const nested = h.spawn(function* () {
    try {
      h.pump();
      return "pumped (wrong)";
    } catch (e) {
      return e;
    }
  });
  h.pump();
  isA(nested.tryWait(), WeftUsageError, "nested pump");
  const steps = { a: 0, b: 0 };
  for (const name of ["a", "b"] as const) {
    h.spawn(function* () {
      for (let i = 0; i < 5; i++) {
        steps[name]++;
        yield* pause();
      }
    });
  }
  eq(h.pump({ maxRounds: 1 }).ready, 2, "ready after one round");
  eq(steps, { a: 1, b: 1 }, "one round");
  eq(h.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 }, "rest");
  eq(steps, { a: 5, b: 5 }, "all rounds");
  isA(
    thrown(() => h.pump({ maxRounds: 0 })),
    RangeError,
    "maxRounds 0",
  );
});

// ── the entry points ───────────────────────────────────────────────────────

/**
 * Work of the same kind as the scenarios, on an inner host with a fake clock,
 * so the engine running QuickJS can settle (V8 compiles the hot parts of the
 * QuickJS WebAssembly module again in the background) before the clock matters.
 */
function warmUp(steps: number): number {
  const clock = { t: 0 };
  const h = createHost({ now: () => clock.t });
  let done = 0;
  const task = h.spawn(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 4 });
    const sem = new Semaphore(2);
    yield* withTaskGroup<void>(function* (group) {
      for (let k = 0; k < 4; k++) {
        group.spawnBg(function* () {
          for (let i = 0; i < steps; i++) {
            yield* sem.acquire();
            try {
              yield* q.put(i);
              done += yield* q.get();
              yield* sleep(0);
              try {
                yield* withTimeout(0, () => pause());
              } catch {
                // a timeout or not: both are fine here
              }
            } finally {
              sem.release();
            }
          }
        });
      }
    });
  });
  while (!task.done) {
    h.pump();
    clock.t += 1;
  }
  task.tryWait();
  return done;
}

const entry: WeftScenarios = {
  warmUp,

  start(given: HostApi, lanes = Infinity): number {
    if (host !== null) throw new Error("weftScenarios.start() called twice");
    if (!(lanes >= 1)) throw new RangeError(`start(): lanes must be >= 1, got ${lanes}`);
    api = given;
    for (const { name, fn } of checks) {
      const outcome: Outcome = { name: `[pump check] ${name}`, status: "running" };
      outcomes.push(outcome);
      try {
        fn();
        outcome.status = "passed";
      } catch (error) {
        outcome.status = "failed";
        outcome.error = describeError(error);
      }
    }
    host = createHost({
      now: () => given.now(),
      onWake: () => {
        wokenSincePump = true;
        if (pumping) wakesDuringPump++;
        given.wake();
      },
    });
    // At most `lanes` scenarios run at once: QuickJS interprets, so a round
    // over dozens of scenarios takes long enough to blur 10 ms deadlines.
    const pending = scenarios.map(({ name, body }) => {
      const outcome: Outcome = { name, status: "running" };
      outcomes.push(outcome);
      return { body, outcome };
    });
    const h = host;
    const launchNext = (): void => {
      const next = pending.shift();
      if (next === undefined) return;
      const { body, outcome } = next;
      h.spawn(function* () {
        try {
          for (let attempt = 1; ; attempt++) {
            try {
              yield* body();
              outcome.status = "passed";
              return;
            } catch (error) {
              if (!(error instanceof Inconclusive) || attempt >= ATTEMPTS) throw error;
              hostApi().log(`${outcome.name}: attempt ${attempt} inconclusive (${error.message}); running it again`);
            }
          }
        } catch (error) {
          outcome.status = "failed";
          outcome.error = describeError(error);
        } finally {
          launchNext();
        }
      });
    };
    for (let i = 0; i < lanes && pending.length > 0; i++) launchNext();
    return outcomes.length;
  },

  pump(maxRounds?: number): string {
    if (host === null) throw new Error("weftScenarios.start() has not been called");
    pumps++;
    wokenSincePump = false;
    pumping = true;
    let r: PumpResult;
    try {
      r = host.pump(maxRounds === undefined ? undefined : { maxRounds });
    } finally {
      pumping = false;
    }
    const report: GuestPumpReport = {
      blocked: r.blocked,
      ready: r.ready,
      finished: outcomes.filter((o) => o.status !== "running").length,
      total: outcomes.length,
      pumps,
    };
    if (r.nextDeadline !== undefined) report.nextDeadline = r.nextDeadline;
    if (wakesDuringPump > 0) {
      hostApi().log(`onWake was called ${wakesDuringPump} time(s) during a pump`);
      wakesDuringPump = 0;
    }
    return JSON.stringify(report);
  },

  deliver(key: string, payload: string): boolean {
    const fn = callbacks.get(key);
    if (fn === undefined) {
      dropped.add(key);
      return false;
    }
    callbacks.delete(key);
    fn(payload);
    deliveries.set(key, { atPump: pumps, wokeHost: wokenSincePump });
    return true;
  },

  results(): string {
    return JSON.stringify(outcomes);
  },
};

(globalThis as { weftScenarios?: WeftScenarios }).weftScenarios = entry;
