/**
 * Bad input: every public function rejects it with the documented error class
 * (TypeError, RangeError or WeftUsageError) and a message that names the
 * argument, and leaves the state it touched unchanged (docs/semantics.md, «Misuse»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Semaphore,
  Timer,
  WeftUsageError,
  all,
  any,
  pause,
  protectFromCancel,
  retry,
  run,
  sleep,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type Operation,
  type RetryMethod,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { Log, testOnEveryDriver, assertEvents } from "../support.ts";

type ErrorClass = new (...args: never[]) => Error;

/** Something of the wrong type, smuggled past the type checker. */
function bad<T>(value: unknown): T {
  return value as T;
}

function matches(error: unknown, cls: ErrorClass, pattern: RegExp): boolean {
  return error instanceof cls && pattern.test(error.message);
}

/** A synchronous call that must throw `cls` with a message matching `pattern`. */
function expectThrow(call: () => unknown, cls: ErrorClass, pattern: RegExp): void {
  assert.throws(call, (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

/** An operation that must throw `cls` with a message matching `pattern` when run in a task. */
function* expectOpThrow(op: () => Operation<unknown>, cls: ErrorClass, pattern: RegExp): Operation<void> {
  let error: unknown;
  let threw = false;
  try {
    yield* op();
  } catch (e) {
    threw = true;
    error = e;
  }
  assert.ok(threw, `expected ${cls.name} matching ${pattern}, but it did not throw`);
  assert.ok(error instanceof cls, `expected ${cls.name}, got ${String(error)}`);
  assert.match((error as Error).message, pattern);
}

function* ok(): Operation<string> {
  return "ok";
}

const asyncBody = bad<() => Operation<number>>(async function () {
  return 1;
});

// ── durations ───────────────────────────────────────────────────────────────

testOnEveryDriver("sleep rejects negative, NaN, infinite and non-number durations; sleep still works after", async (run) => {
  const result = await run(function* () {
    expectThrow(() => sleep(-1), RangeError, /sleep\(\).*\bms\b/);
    expectThrow(() => sleep(NaN), RangeError, /sleep\(\).*\bms\b/);
    expectThrow(() => sleep(Infinity), RangeError, /sleep\(\).*\bms\b/);
    expectThrow(() => sleep(bad<number>("1")), TypeError, /sleep\(\).*\bms\b/);
    yield* sleep(1);
    return "slept";
  });
  assert.equal(result, "slept");
});

test("sleep's argument is checked at the call, even outside any task", () => {
  expectThrow(() => sleep(-1), RangeError, /\bms\b/);
  expectThrow(() => sleep(bad<number>(undefined)), TypeError, /\bms\b/);
});

testOnEveryDriver("new Timer rejects a negative duration", async (run) => {
  await run(function* () {
    expectThrow(() => new Timer(-5), RangeError, /Timer.*\bms\b/);
    expectThrow(() => new Timer(NaN), RangeError, /Timer.*\bms\b/);
    expectThrow(() => new Timer(bad<number>("5")), TypeError, /Timer.*\bms\b/);
    const timer = new Timer(1);
    yield* timer.wait();
  });
});

testOnEveryDriver("withTimeout and withTimeoutOpt reject a bad duration and a non-function body", async (run) => {
  let calls = 0;
  const body = function* () {
    calls++;
    return 1;
  };
  await run(function* () {
    yield* expectOpThrow(() => withTimeout(NaN, body), RangeError, /withTimeout\(\).*\bms\b/);
    yield* expectOpThrow(() => withTimeout(-1, body), RangeError, /withTimeout\(\).*\bms\b/);
    yield* expectOpThrow(() => withTimeout(10, bad(42)), TypeError, /withTimeout\(\).*\bbody\b/);
    yield* expectOpThrow(() => withTimeoutOpt(Infinity, body), RangeError, /withTimeoutOpt\(\).*\bms\b/);
    yield* expectOpThrow(() => withTimeoutOpt(10, bad(null)), TypeError, /withTimeoutOpt\(\).*\bbody\b/);
    assert.equal(calls, 0, "the body never ran");
    assert.equal(yield* withTimeout(10, body), 1);
  });
});

// ── non-function bodies ───────────────────────────────────────────────────────

test("run rejects a non-function body at the call", () => {
  expectThrow(() => run(bad(42)), TypeError, /run\(\).*\bbody\b/);
  expectThrow(() => run(bad("function* () {}")), TypeError, /run\(\).*\bbody\b/);
  expectThrow(() => runVirtual(bad(undefined)), TypeError, /runVirtual\(\).*\bbody\b/);
});

testOnEveryDriver("withTaskGroup rejects a non-function body; a group can still be made after", async (run) => {
  const result = await run(function* () {
    yield* expectOpThrow(() => withTaskGroup(bad(42)), TypeError, /withTaskGroup\(\).*\bbody\b/);
    return yield* withTaskGroup<string>(function* (group) {
      return yield* group.spawn(ok).wait();
    });
  });
  assert.equal(result, "ok");
});

testOnEveryDriver("spawn, startSoon, spawnLoop and addDefer reject non-function bodies; the group still works", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      expectThrow(() => group.spawn(bad(42)), TypeError, /spawn\(\).*\bbody\b/);
      expectThrow(() => group.startSoon(bad({})), TypeError, /startSoon\(\).*\bbody\b/);
      expectThrow(() => group.spawnLoop(bad("loop")), TypeError, /spawnLoop\(\).*\bbody\b/);
      expectThrow(() => group.addDefer(bad(null)), TypeError, /addDefer\(\).*\bbody\b/);
      group.addDefer(function* () {
        log.add("defer ran");
      });
      group.startSoon(function* () {
        yield* sleep(1);
        log.add("background task ran");
      });
      const task = group.spawn(function* () {
        yield* pause();
        return "spawned task ran";
      });
      return yield* task.wait();
    });
  });
  assert.equal(result, "spawned task ran");
  assertEvents(run, log.entries, ["background task ran", "defer ran"]);
});

testOnEveryDriver("protectFromCancel rejects a non-function body", async (run) => {
  const result = await run(function* () {
    yield* expectOpThrow(() => protectFromCancel(bad(42)), TypeError, /protectFromCancel\(\).*\bbody\b/);
    return yield* protectFromCancel(ok);
  });
  assert.equal(result, "ok");
});

testOnEveryDriver("all and any reject a non-array and non-function bodies before running any body", async (run) => {
  let calls = 0;
  const body = function* () {
    calls++;
    return 1;
  };
  const result = await run(function* () {
    yield* expectOpThrow(() => all<unknown>(bad(42)), TypeError, /all\(\).*\bbodies\b/);
    yield* expectOpThrow(() => all([body, bad(42), body]), TypeError, /all\(\).*bodies\[1\]/);
    yield* expectOpThrow(() => any<unknown>(bad("bodies")), TypeError, /any\(\).*\bbodies\b/);
    yield* expectOpThrow(() => any([bad(null), body]), TypeError, /any\(\).*bodies\[0\]/);
    assert.equal(calls, 0, "no body ran");
    return [yield* all([body, body]), yield* any([body])];
  });
  assert.deepEqual(result, [[1, 1], 1]);
});

testOnEveryDriver("all and any reject maxConcurrent 0, NaN and non-integers", async (run) => {
  let calls = 0;
  const body = function* () {
    calls++;
    return 1;
  };
  await run(function* () {
    yield* expectOpThrow(() => all([body], { maxConcurrent: 0 }), RangeError, /all\(\).*maxConcurrent/);
    yield* expectOpThrow(() => all([body], { maxConcurrent: NaN }), RangeError, /all\(\).*maxConcurrent/);
    yield* expectOpThrow(() => all([body], { maxConcurrent: 1.5 }), RangeError, /all\(\).*maxConcurrent/);
    yield* expectOpThrow(() => any([body], { maxConcurrent: 0 }), RangeError, /any\(\).*maxConcurrent/);
    yield* expectOpThrow(() => any([body], { maxConcurrent: NaN }), RangeError, /any\(\).*maxConcurrent/);
    assert.equal(calls, 0, "no body ran");
    assert.deepEqual(yield* all([body, body, body], { maxConcurrent: 1 }), [1, 1, 1]);
  });
});

// ── retry ─────────────────────────────────────────────────────────────────────

testOnEveryDriver("retry rejects a non-function body, bad methods and bad maxRetry without running the body", async (run) => {
  let calls = 0;
  const body = function* () {
    calls++;
    return "done";
  };
  const immediate: RetryMethod = { kind: "immediate" };
  const result = await run(function* () {
    yield* expectOpThrow(() => retry(immediate, bad(42)), TypeError, /retry\(\).*\bbody\b/);
    yield* expectOpThrow(() => retry(bad(null), body), TypeError, /retry\(\).*\bmethod\b/);
    yield* expectOpThrow(() => retry(bad("immediate"), body), TypeError, /retry\(\).*\bmethod\b/);
    yield* expectOpThrow(() => retry(bad({ kind: "sometimes" }), body), TypeError, /retry\(\).*method\.kind/);
    yield* expectOpThrow(() => retry({ kind: "fixedDelay", delayMs: -1 }, body), RangeError, /retry\(\).*method\.delayMs/);
    yield* expectOpThrow(() => retry(bad({ kind: "fixedDelay" }), body), RangeError, /retry\(\).*method\.delayMs/);
    yield* expectOpThrow(
      () => retry({ kind: "exponentialDelay", initialMs: NaN, factor: 2, maximumMs: 100 }, body),
      RangeError,
      /retry\(\).*method\.initialMs/,
    );
    yield* expectOpThrow(
      () => retry({ kind: "exponentialDelay", initialMs: 10, factor: 0.5, maximumMs: 100 }, body),
      RangeError,
      /retry\(\).*method\.factor/,
    );
    yield* expectOpThrow(
      () => retry({ kind: "exponentialDelay", initialMs: 10, factor: 2, maximumMs: -5 }, body),
      RangeError,
      /retry\(\).*method\.maximumMs/,
    );
    // The field names before 0.2.0 are refused with their new names, not read as a missing delay.
    yield* expectOpThrow(
      () => retry(bad({ kind: "fixedDelay", ms: 10 }), body),
      TypeError,
      /retry\(\): method\.ms is now called method\.delayMs/,
    );
    yield* expectOpThrow(
      () => retry(bad({ kind: "exponentialDelay", initial: 10, factor: 2, maximumMs: 100 }), body),
      TypeError,
      /retry\(\): method\.initial is now called method\.initialMs/,
    );
    yield* expectOpThrow(
      () => retry(bad({ kind: "exponentialDelay", initialMs: 10, factor: 2, maximum: 100, maximumMs: 100 }), body),
      TypeError,
      /retry\(\): method\.maximum is now called method\.maximumMs/,
    );
    yield* expectOpThrow(() => retry(immediate, body, { maxRetry: -1 }), RangeError, /retry\(\).*maxRetry/);
    yield* expectOpThrow(() => retry(immediate, body, { maxRetry: 1.5 }), RangeError, /retry\(\).*maxRetry/);
    yield* expectOpThrow(() => retry(immediate, body, { fatalError: bad("yes") }), TypeError, /retry\(\).*fatalError/);
    assert.equal(calls, 0, "the body never ran");
    return yield* retry(immediate, body, { maxRetry: 0 });
  });
  assert.equal(result, "done");
});

testOnEveryDriver("spawnLoop rejects bad retry options; nothing is spawned and the group still works", async (run) => {
  let calls = 0;
  const body = function* () {
    calls++;
  };
  const result = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      expectThrow(() => group.spawnLoop(body, { retry: bad({ kind: "nope" }) }), TypeError, /spawnLoop\(\).*method\.kind/);
      expectThrow(
        () => group.spawnLoop(body, { retry: { kind: "fixedDelay", delayMs: NaN } }),
        RangeError,
        /spawnLoop\(\).*method\.delayMs/,
      );
      expectThrow(() => group.spawnLoop(body, { retry: { kind: "immediate" }, maxRetry: -1 }), RangeError, /spawnLoop\(\).*maxRetry/);
      expectThrow(() => group.spawnLoop(body, { retry: { kind: "immediate" }, maxRetry: 1.5 }), RangeError, /spawnLoop\(\).*maxRetry/);
      yield* sleep(5);
      assert.equal(calls, 0, "no loop was started");
      return yield* group.spawn(ok).wait();
    });
  });
  assert.equal(result, "ok");
});

// ── Semaphore ───────────────────────────────────────────────────────────────

test("new Semaphore rejects size 0, NaN and non-integers, and an initial value outside [0, size]", () => {
  expectThrow(() => new Semaphore(0), RangeError, /Semaphore.*\bsize\b/);
  expectThrow(() => new Semaphore(NaN), RangeError, /Semaphore.*\bsize\b/);
  expectThrow(() => new Semaphore(-1), RangeError, /Semaphore.*\bsize\b/);
  expectThrow(() => new Semaphore(1.5), RangeError, /Semaphore.*\bsize\b/);
  expectThrow(() => new Semaphore(2, 3), RangeError, /Semaphore.*\binitial\b/);
  expectThrow(() => new Semaphore(2, -1), RangeError, /Semaphore.*\binitial\b/);
  expectThrow(() => new Semaphore(2, NaN), RangeError, /Semaphore.*\binitial\b/);
  assert.equal(new Semaphore(2, 0).tryAcquire(), false);
});

testOnEveryDriver("releasing a Semaphore beyond its size throws WeftUsageError; it still works afterwards", async (run) => {
  const log = new Log();
  await run(function* () {
    const sem = new Semaphore(2);
    expectThrow(() => sem.release(), WeftUsageError, /release/);
    assert.equal(sem.available, 2, "the failed release changed nothing");
    yield* sem.acquire();
    sem.release();
    expectThrow(() => sem.release(), WeftUsageError, /release/);
    assert.equal(sem.available, 2);
    // Still exactly two permits, handed out FIFO.
    yield* withTaskGroup<void>(function* (group) {
      for (const [name, ms] of [
        ["a", 10],
        ["b", 60],
        ["c", 10],
      ] as const) {
        group.startSoon(function* () {
          yield* sem.acquire();
          log.add(`${name} acquired`);
          yield* sleep(ms);
          log.add(`${name} released`);
          sem.release();
        });
      }
    });
    assert.equal(sem.available, 2);
    assert.equal(sem.tryAcquire(), true);
    assert.equal(sem.tryAcquire(), true);
    assert.equal(sem.tryAcquire(), false);
  });
  assertEvents(run, log.entries, ["a acquired", "b acquired", "a released", "c acquired", "c released", "b released"]);
});

// ── bodies that are not generators ────────────────────────────────────────────

testOnEveryDriver("run rejects an async function body with a TypeError that points at function*", async (run) => {
  await assert.rejects(run(asyncBody), (e) => matches(e, TypeError, /function\*/));
});

testOnEveryDriver("an async function spawned into a group fails the group with a TypeError naming function*", async (run) => {
  const log = new Log();
  await assert.rejects(
    run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(bad(asyncBody));
        try {
          yield* sleep(1000);
        } catch (e) {
          log.add("body cancelled");
          throw e;
        }
      });
    }),
    (e) => matches(e, TypeError, /function\*/),
  );
  assertEvents(run, log.entries, ["body cancelled"]);
});

testOnEveryDriver("operations that call a body reject an async function with a TypeError naming function*", async (run) => {
  await run(function* () {
    yield* expectOpThrow(() => withTimeout(100, asyncBody), TypeError, /function\*/);
    yield* expectOpThrow(() => protectFromCancel(asyncBody), TypeError, /function\*/);
    yield* expectOpThrow(() => retry({ kind: "immediate" }, asyncBody, { maxRetry: 0 }), TypeError, /function\*/);
    yield* expectOpThrow(() => all([asyncBody]), TypeError, /function\*/);
  });
});

testOnEveryDriver("a bare yield in a body throws WeftUsageError at that point, and the body can catch it", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    try {
      yield 5;
      log.add("bare yield returned");
    } catch (e) {
      assert.ok(e instanceof WeftUsageError, `got ${String(e)}`);
      assert.match(e.message, /yield\*/);
      log.add("caught WeftUsageError");
    }
    // The task is intact: it can suspend properly afterwards.
    yield* sleep(1);
    log.add("slept after");
    return "recovered";
  });
  assert.equal(result, "recovered");
  assertEvents(run, log.entries, ["caught WeftUsageError", "slept after"]);
});

testOnEveryDriver("an uncaught bare yield fails the task with WeftUsageError", async (run) => {
  await assert.rejects(
    run(function* () {
      yield "oops";
      return 1;
    }),
    (e) => matches(e, WeftUsageError, /yield\*/),
  );
});

test("operations used outside any task throw WeftUsageError", () => {
  expectThrow(() => pause().next(), WeftUsageError, /pause\(\)/);
  expectThrow(() => sleep(1).next(), WeftUsageError, /sleep\(\)/);
  expectThrow(() => new Timer(1000).wait().next(), WeftUsageError, /Timer\.wait\(\)/);
  expectThrow(() => withTaskGroup(ok).next(), WeftUsageError, /withTaskGroup\(\)/);
  // The misuse left nothing behind: weft still runs normally.
  return run(function* () {
    yield* pause();
    yield* sleep(1);
  });
});

testOnEveryDriver("a TaskGroup method called detached from its group throws WeftUsageError naming it", async (run) => {
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const { spawn, startSoon, addDefer, returnImmediately } = group;
      assert.throws(
        () => spawn(function* () {}),
        (e) => e instanceof WeftUsageError && /TaskGroup\.spawn\(\)/.test((e as Error).message),
      );
      assert.throws(
        () => startSoon(function* () {}),
        (e) => e instanceof WeftUsageError && /startSoon/.test((e as Error).message),
      );
      assert.throws(
        () => addDefer(function* () {}),
        (e) => e instanceof WeftUsageError && /addDefer/.test((e as Error).message),
      );
      assert.throws(
        () => returnImmediately(undefined),
        (e) => e instanceof WeftUsageError && /returnImmediately/.test((e as Error).message),
      );
      // The group itself is untouched and still works.
      const task = group.spawn(function* () {
        return 1;
      });
      assert.equal(yield* task.wait(), 1);
    });
  });
});

test("a missing argument is described as undefined, once", () => {
  expectThrow(() => withTimeout(10, undefined as unknown as () => Operation<void>).next(), TypeError, /body must be .*, got undefined$/);
});
