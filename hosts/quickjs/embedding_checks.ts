/**
 * The embedding-contract checks that run INSIDE QuickJS (an engine with no
 * event loop, no timers, no console and no performance), next to the portable
 * test files the QuickJS host also runs there. What is here needs what a test
 * file cannot script: host callbacks fired by the embedder between two
 * pumps, and synchronous checks of `pump()` itself. `hosts/quickjs.ts`
 * bundles this file into one script, evaluates it in the guest and drives it
 * through the `weftScenarios` global this file installs:
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
  Cancelled,
  Queue,
  Semaphore,
  WeftUsageError,
  action,
  now,
  pause,
  sleep,
  withTaskGroup,
  withTimeout,
  type Operation,
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
/** Whether onWake was called since the last pump began. */
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
      group.startSoon(function* () {
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
      group.startSoon(() => pause());
      group.startSoon(() => sleep(0));
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
        group.startSoon(function* () {
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
