/**
 * withTimeout / withTimeoutOpt (docs/semantics.md, «Timeouts», «Errors»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Mutex,
  Queue,
  TimeoutError,
  Timer,
  now,
  pause,
  sleep,
  suppressedErrors,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type Operation,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { drivers, Log, testOnEveryDriver, type Runner, assertEvents } from "../support.ts";

/** Like testOnEveryDriver, but hands the scenario `exact` (a deterministic clock: exact times). */
function testTimed(name: string, fn: (run: Runner, exact: boolean) => Promise<void>): void {
  for (const driver of drivers) test(`${name} [${driver.driver}]`, () => fn(driver, driver.exact));
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}

/**
 * A tick far in the future, for a daemon task: it is cancelled once the
 * group's body is done, so it is logged only if the scenario waited for a
 * timer or sleep it should have left behind. (A tick just after the expected
 * events would show the same, but a stalled host can make both due at once.)
 */
function* farTick(log: Log): Operation<void> {
  yield* sleep(5_000);
  log.add("5s tick");
}

/** A sleep that logs when it is interrupted, then lets the error go on. */
function* loggedSleep(log: Log, label: string, ms: number): Operation<void> {
  try {
    yield* sleep(ms);
  } catch (e) {
    log.add(`${label} interrupted by ${errorName(e)}`);
    throw e;
  }
}

testOnEveryDriver("withTimeout returns the body's value as soon as the body finishes first", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      group.startSoon(() => farTick(log), { daemon: true });
      const v = yield* withTimeout(10_000, function* () {
        yield* sleep(20);
        log.add("body finished");
        return 7;
      });
      log.add(`withTimeout returned ${v}`);
      return v;
    });
  });
  assert.equal(value, 7);
  // It did not wait for its own timer: it returned before the 5 s tick.
  assertEvents(run, log.entries, ["body finished", "withTimeout returned 7"]);
});

testOnEveryDriver("withTimeout rethrows the body's own error when the body fails first", async (run) => {
  const log = new Log();
  const boom = new Error("boom");
  await assert.rejects(
    run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        // Far off: the failure cancels it, unless withTimeout waited for its own timer.
        group.startSoon(function* () {
          yield* sleep(5_000);
          log.add("5s tick");
        });
        try {
          yield* withTimeout(10_000, function* () {
            yield* sleep(20);
            throw boom;
          });
        } catch (e) {
          log.add(`caught ${(e as Error).message}`);
          throw e;
        }
      });
    }),
    (e) => e === boom,
  );
  assertEvents(run, log.entries, ["caught boom"]);
  assert.deepEqual(suppressedErrors(boom), []);
});

testTimed("withTimeout cancels a slow body and throws TimeoutError once it has unwound", async (run, exact) => {
  const log = new Log();
  let caught: unknown;
  let elapsed = -1;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => farTick(log), { daemon: true });
      const start = now();
      try {
        yield* withTimeout(20, function* () {
          yield* loggedSleep(log, "body", 10_000);
          log.add("body finished");
        });
        log.add("withTimeout returned");
      } catch (e) {
        caught = e;
        elapsed = now() - start;
        log.add(`withTimeout threw ${errorName(e)}`);
      }
    });
  });
  assert.ok(caught instanceof TimeoutError);
  assertEvents(run, log.entries, ["body interrupted by Cancelled", "withTimeout threw TimeoutError"]);
  if (exact) assert.equal(elapsed, 20);
  else assert.ok(elapsed >= 19, `elapsed ${elapsed}`);
});

testOnEveryDriver("nested timeouts, outer fires first: inner raises Cancelled, outer raises TimeoutError", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        function* () {
          yield* sleep(15);
          log.add("15ms tick");
          yield* farTick(log);
        },
        { daemon: true },
      );
      try {
        yield* withTimeout(30, function* () {
          try {
            yield* withTimeout(10_000, () => loggedSleep(log, "body", 20_000));
          } catch (e) {
            log.add(`inner threw ${errorName(e)}`);
            throw e;
          }
        });
      } catch (e) {
        log.add(`outer threw ${errorName(e)}`);
      }
    });
  });
  assertEvents(run, log.entries, ["15ms tick", "body interrupted by Cancelled", "inner threw Cancelled", "outer threw TimeoutError"]);
});

testOnEveryDriver("nested timeouts, inner fires first: its TimeoutError leaves through the outer one", async (run) => {
  const log = new Log();
  let innerError: unknown;
  let outerError: unknown;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        function* () {
          yield* sleep(15);
          log.add("15ms tick");
          yield* farTick(log);
        },
        { daemon: true },
      );
      try {
        yield* withTimeout(10_000, function* () {
          try {
            yield* withTimeout(30, () => loggedSleep(log, "body", 2000));
          } catch (e) {
            innerError = e;
            log.add(`inner threw ${errorName(e)}`);
            throw e;
          }
        });
      } catch (e) {
        outerError = e;
        log.add(`outer threw ${errorName(e)}`);
      }
    });
  });
  assertEvents(run, log.entries, ["15ms tick", "body interrupted by Cancelled", "inner threw TimeoutError", "outer threw TimeoutError"]);
  assert.ok(innerError instanceof TimeoutError);
  assert.equal(outerError, innerError, "the outer timeout did not fire: the error is the inner one");
});

testTimed("nested timeouts, inner fires first: the outer body can catch it and go on", async (run, exact) => {
  const log = new Log();
  let elapsed = -1;
  const value = await run(function* () {
    const start = now();
    const v = yield* withTimeout(10_000, function* () {
      try {
        yield* withTimeout(30, () => loggedSleep(log, "body", 2000));
        return "inner finished";
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        log.add("inner timed out");
      }
      yield* sleep(30);
      return "recovered";
    });
    elapsed = now() - start;
    return v;
  });
  assert.equal(value, "recovered");
  assertEvents(run, log.entries, ["body interrupted by Cancelled", "inner timed out"]);
  if (exact) assert.equal(elapsed, 60);
  else assert.ok(elapsed >= 59, `elapsed ${elapsed}`);
});

testOnEveryDriver(
  "an error thrown by the body while it is being cancelled is suppressed, TimeoutError wins (first failure wins)",
  async (run) => {
    const log = new Log();
    const cleanupError = new Error("cleanup failed");
    let caught: unknown;
    await run(function* () {
      try {
        yield* withTimeout(20, function* () {
          try {
            yield* sleep(2000);
          } catch {
            log.add("raising another error while cancelled");
            throw cleanupError;
          }
          log.add("body finished");
        });
        log.add("withTimeout returned");
      } catch (e) {
        caught = e;
      }
    });
    assertEvents(run, log.entries, ["raising another error while cancelled"]);
    assert.ok(caught instanceof TimeoutError, `got ${String(caught)}`);
    assert.deepEqual(suppressedErrors(caught), [cleanupError]);
  },
);

testOnEveryDriver("withTimeout throws the caller's own error object on timeout", async (run) => {
  const log = new Log();
  const custom = new RangeError("took too long");
  await assert.rejects(
    run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          yield* sleep(10_000);
          log.add("10s tick");
        });
        try {
          yield* withTimeout(25, () => loggedSleep(log, "body", 2000), custom);
          log.add("withTimeout returned");
        } finally {
          log.add("main finally");
        }
      });
    }),
    (e) => e === custom,
  );
  // The failure of the main group cancelled the ticker before it logged.
  assertEvents(run, log.entries, ["body interrupted by Cancelled", "main finally"]);
});

testOnEveryDriver("withTimeoutOpt returns the body's value when it finishes in time", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => farTick(log), { daemon: true });
      const v = yield* withTimeoutOpt(10_000, function* () {
        yield* sleep(25);
        log.add("body finished");
        return 42;
      });
      log.add(`result ${v}`);
    });
  });
  assertEvents(run, log.entries, ["body finished", "result 42"]);
});

testOnEveryDriver("withTimeoutOpt rethrows the body's error", async (run) => {
  const log = new Log();
  const boom = new Error("boom");
  await assert.rejects(
    run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        // Far off: the failure cancels it, unless withTimeoutOpt waited for its own timer.
        group.startSoon(function* () {
          yield* sleep(5_000);
          log.add("5s tick");
        });
        try {
          yield* withTimeoutOpt(10_000, function* (): Operation<number> {
            yield* sleep(25);
            throw boom;
          });
          log.add("withTimeoutOpt returned");
        } catch (e) {
          log.add(`caught ${(e as Error).message}`);
          throw e;
        }
      });
    }),
    (e) => e === boom,
  );
  assertEvents(run, log.entries, ["caught boom"]);
});

testOnEveryDriver("withTimeoutOpt gives undefined on timeout after cancelling the body", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => farTick(log), { daemon: true });
      const v = yield* withTimeoutOpt(25, function* () {
        yield* loggedSleep(log, "body", 10_000);
        log.add("body finished");
        return 42;
      });
      log.add(`result ${String(v)}`);
    });
  });
  assertEvents(run, log.entries, ["body interrupted by Cancelled", "result undefined"]);
});

testOnEveryDriver("a zero timeout succeeds exactly when the body completes without suspending", async (run) => {
  const log = new Log();
  await run(function* () {
    // Completes without suspending: succeeds.
    const a = yield* withTimeout(0, function* () {
      return "immediate";
    });
    log.add(`withTimeout(0, immediate) = ${a}`);
    const b = yield* withTimeoutOpt(0, function* () {
      return "immediate";
    });
    log.add(`withTimeoutOpt(0, immediate) = ${b}`);

    // A fast path (an expired Timer) does not suspend either.
    const expired = new Timer(1);
    yield* sleep(5);
    const c = yield* withTimeoutOpt(0, function* () {
      yield* expired.wait();
      return "expired timer";
    });
    log.add(`withTimeoutOpt(0, expired timer) = ${c}`);

    // Anything that really suspends loses the race.
    try {
      yield* withTimeout(0, function* () {
        yield* sleep(5);
        return "slept";
      });
      log.add("withTimeout(0, sleep) returned");
    } catch (e) {
      log.add(`withTimeout(0, sleep) threw ${errorName(e)}`);
    }
    const d = yield* withTimeoutOpt(0, function* () {
      yield* sleep(5);
      return "slept";
    });
    log.add(`withTimeoutOpt(0, sleep) = ${String(d)}`);
    const pending = new Timer(50);
    const e = yield* withTimeoutOpt(0, function* () {
      yield* pending.wait();
      return "pending timer";
    });
    log.add(`withTimeoutOpt(0, pending timer) = ${String(e)}`);
  });
  assertEvents(run, log.entries, [
    "withTimeout(0, immediate) = immediate",
    "withTimeoutOpt(0, immediate) = immediate",
    "withTimeoutOpt(0, expired timer) = expired timer",
    "withTimeout(0, sleep) threw TimeoutError",
    "withTimeoutOpt(0, sleep) = undefined",
    "withTimeoutOpt(0, pending timer) = undefined",
  ]);
});

// ── the body completes in the same round as the timeout ──────────────────────
// Under virtual time both deadlines are 10 ms: the producer's timer was set
// first, so it runs first in that round and hands the item to the waiting
// `get`; the timeout task runs next and cancels the body, whose `get` already
// holds the item. The item must come out of the call, not vanish.

test("withTimeoutOpt returns a value the body received in the round the timeout fired (no lost item)", async () => {
  const result = await runVirtual(function* () {
    const queue = new Queue<number>();
    return yield* withTaskGroup<[number | undefined, number]>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(10);
        queue.tryPut(7);
      });
      yield* pause();
      const got = yield* withTimeoutOpt(10, () => queue.get());
      return [got, queue.size];
    });
  });
  assert.deepEqual(result, [7, 0]);
});

test("withTimeout returns a value the body received in the round the timeout fired instead of throwing", async () => {
  const result = await runVirtual(function* () {
    const queue = new Queue<number>();
    return yield* withTaskGroup<number>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(10);
        queue.tryPut(7);
      });
      yield* pause();
      return yield* withTimeout(10, () => queue.get());
    });
  });
  assert.equal(result, 7);
});

test("a get whose timeout is delivered first in the round is passed over by the put: the item stays queued (no lost item)", async () => {
  // The mirror image of the test above: the producer's sleep ends at the deadline too, but it
  // pauses once, so the timeout's cancellation reaches the body before the producer puts.
  const result = await runVirtual(function* () {
    const queue = new Queue<number>();
    return yield* withTaskGroup<[number | undefined, number]>(function* (group) {
      const got = group.spawn(() => withTimeoutOpt(10, () => queue.get()));
      group.startSoon(function* () {
        yield* sleep(10);
        yield* pause();
        queue.tryPut(7);
      });
      return [yield* got.wait(), queue.size];
    });
  });
  assert.deepEqual(result, [undefined, 1]);
});

test("a Mutex acquire whose timeout fires in the round of the release holds nothing afterwards", async () => {
  const result = await runVirtual(function* () {
    const mutex = new Mutex();
    return yield* withTaskGroup<[string, boolean]>(function* (group) {
      yield* mutex.acquire();
      const waiter = group.spawn(function* () {
        try {
          yield* withTimeout(10, () => mutex.acquire());
          mutex.release();
          return "acquired";
        } catch (e) {
          if (e instanceof TimeoutError) return "timed out";
          throw e;
        }
      });
      // Released at the deadline, after a pause: the timeout's cancellation reached the waiter first.
      yield* sleep(10);
      yield* pause();
      mutex.release();
      const outcome = yield* waiter.wait();
      return [outcome, mutex.locked];
    });
  });
  assert.deepEqual(result, ["timed out", false]);
});
