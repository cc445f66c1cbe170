/**
 * `Semaphore` scenarios (docs/semantics.md, «Semaphore», «Outcomes», «Misuse») that complement
 * `semaphore_test.ts`: the scenarios of moonbitlang/async's tests it does not cover exactly
 * (exclusion with its timeline, size 2 with its timeline, a timed-out waiter
 * skipped between live ones, a handed-off permit kept by a task that then
 * ends normally, fairness between two looping tasks, `tryAcquire` with an
 * initial value), plus the cancellation fast paths and bad input.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, Semaphore, WeftUsageError, isBeingCancelled, pause, sleep, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { testOnEveryDriver, assertEvents } from "../support.ts";

// Time unit for scenarios that also run on the real event loop.
const HOLD = 60;

testOnEveryDriver("size 1: three tasks take the permit one after the other, each for its whole hold", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const sem = new Semaphore(1);
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          yield* sem.acquire();
          log.push(`task ${i} in`);
          yield* sleep(HOLD);
          log.push(`task ${i} out`);
          sem.release();
        });
      }
      // Ticks in the middle of each hold.
      yield* sleep(HOLD / 2);
      for (let k = 0; k < 3; k++) {
        log.push("tick");
        yield* sleep(HOLD);
      }
    });
    assert.equal(sem.available, 1);
  });
  assertEvents(
    run,
    log,
    ["task 0 in", "tick", "task 0 out", "task 1 in", "tick", "task 1 out", "task 2 in", "tick", "task 2 out"],
    (e) => e !== "tick",
  );
});

testOnEveryDriver("size 2: six tasks go in pairs, in spawn order", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const sem = new Semaphore(2);
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 6; i++) {
        group.startSoon(function* () {
          yield* sem.acquire();
          log.push(`task ${i}`);
          yield* sleep(HOLD);
          sem.release();
        });
      }
      yield* sleep(HOLD / 2);
      for (let k = 0; k < 3; k++) {
        // Logged a round after it falls due, as a task handed a permit logs a
        // round after the release: if a stalled host makes a release and this
        // tick due together, they are still logged in deadline order.
        yield* pause();
        log.push("tick");
        yield* sleep(HOLD);
      }
    });
    assert.equal(sem.available, 2);
  });
  assertEvents(run, log, ["task 0", "task 1", "tick", "task 2", "task 3", "tick", "task 4", "task 5", "tick"], (e) => e !== "tick");
});

testOnEveryDriver(
  "a waiter that timed out is skipped: the permit goes to the next live waiter, and later back to the pool",
  async (run) => {
    const log: string[] = [];
    await run(function* () {
      const sem = new Semaphore(1);
      yield* withTaskGroup<void>(function* (group) {
        // The holder keeps the permit for a long time.
        group.startSoon(function* () {
          yield* sem.acquire();
          log.push("holder in");
          yield* sleep(4 * HOLD);
          log.push("holder out");
          sem.release();
        });
        yield* pause();
        // First waiter gives up early; the second waits without a limit.
        group.startSoon(function* () {
          const got = yield* withTimeoutOpt(HOLD, () => sem.acquire());
          log.push(got === undefined ? "impatient timed out" : "impatient got it");
          // A timed-out acquire holds nothing: it must not release.
        });
        yield* pause();
        group.startSoon(function* () {
          yield* sem.acquire();
          log.push("patient in");
          sem.release();
        });
      });
      assert.equal(sem.available, 1);
      assert.equal(sem.tryAcquire(), true);
      assert.equal(sem.tryAcquire(), false);
    });
    assertEvents(run, log, ["holder in", "impatient timed out", "holder out", "patient in"]);
  },
);

testOnEveryDriver(
  "a permit released to a waiter and cancelled in the same round is kept; the task ends normally holding it",
  async (run) => {
    const log: string[] = [];
    await run(function* () {
      const sem = new Semaphore(1);
      yield* sem.acquire();
      yield* withTaskGroup<void>(function* (group) {
        const waiter = group.spawn(function* () {
          yield* sem.acquire();
          log.push(`acquired, being cancelled: ${isBeingCancelled()}`);
          // No further suspension point: the task completes normally.
          return "finished";
        });
        yield* sleep(HOLD / 2);
        sem.release(); // straight to the waiter
        waiter.cancel(); // same round
        assert.equal(yield* waiter.wait(), "finished");
      });
      // The waiter kept the permit (and never released it): nothing is free.
      assert.equal(sem.available, 0);
      assert.equal(sem.tryAcquire(), false);
    });
    assertEvents(run, log, ["acquired, being cancelled: true"]);
  },
);

testOnEveryDriver("fairness: two tasks that release and re-acquire in a loop alternate strictly", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const sem = new Semaphore(1);
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let k = 0; k < 3; k++) {
          yield* sem.acquire();
          log.push("A");
          yield* sleep(HOLD);
          sem.release();
        }
      });
      group.startSoon(function* () {
        yield* sleep(HOLD / 2);
        for (let k = 0; k < 3; k++) {
          yield* sem.acquire();
          log.push("B");
          yield* sleep(HOLD);
          sem.release();
        }
      });
    });
  });
  assertEvents(run, log, ["A", "B", "A", "B", "A", "B"]);
});

test("tryAcquire follows the count when the semaphore starts with fewer free permits than its size", () => {
  const sem = new Semaphore(2, 0);
  assert.equal(sem.available, 0);
  assert.equal(sem.tryAcquire(), false);
  sem.release();
  assert.equal(sem.available, 1);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), false);
  sem.release();
  sem.release();
  assert.equal(sem.available, 2);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), false);
  assert.equal(sem.available, 0);
});

test("the initial value defaults to the size", () => {
  const sem = new Semaphore(3);
  assert.equal(sem.available, 3);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), false);
});

test("tryAcquire never overtakes a waiter, even right after a release", () => {
  const host = createHost();
  const sem = new Semaphore(1, 0);
  const log: string[] = [];
  host.spawn(function* () {
    yield* sem.acquire();
    log.push("waiter got it");
    sem.release();
  });
  host.pump();
  assert.equal(sem.tryAcquire(), false);
  sem.release(); // handed to the waiter, not to the pool
  assert.equal(sem.available, 0);
  assert.equal(sem.tryAcquire(), false);
  host.pump();
  assert.deepEqual(log, ["waiter got it"]);
  assert.equal(sem.available, 1);
});

test("a cancelled task takes a free permit without a cancellation check, and fails at once when none is free", () => {
  const host = createHost();
  const sem = new Semaphore(1);
  const log: string[] = [];
  const task = host.spawn(function* () {
    // Cancelled before it started: the body still runs up to its first real suspension.
    yield* sem.acquire(); // free: fast path, no check
    log.push(`got the free permit, being cancelled: ${isBeingCancelled()}`);
    try {
      yield* sem.acquire(); // none free: throws at once, never queues
    } catch (error) {
      log.push(error instanceof Cancelled ? "second acquire: Cancelled" : "second acquire: other");
    }
    sem.release();
  });
  task.cancel();
  host.pump();
  assert.ok(task.done);
  assert.deepEqual(log, ["got the free permit, being cancelled: true", "second acquire: Cancelled"]);
  // The failed acquire left no waiter behind: the release went to the pool.
  assert.equal(sem.available, 1);
});

test("a waiter cancelled while queued holds nothing, and its place is skipped", () => {
  const host = createHost();
  const sem = new Semaphore(1, 0);
  const log: string[] = [];
  const first = host.spawn(function* () {
    try {
      yield* sem.acquire();
      log.push("first got it");
    } catch (error) {
      log.push(error instanceof Cancelled ? "first cancelled" : "first other");
      throw error;
    }
  });
  host.spawn(function* () {
    yield* sem.acquire();
    log.push("second got it");
    sem.release();
  });
  host.pump();
  first.cancel();
  host.pump(); // the first waiter leaves before any release
  sem.release();
  host.pump();
  assert.deepEqual(log, ["first cancelled", "second got it"]);
  assert.equal(sem.available, 1);
});

test("bad sizes and initial values: RangeError naming the argument", () => {
  for (const bad of [0, -3, 2.5, NaN, Infinity, -Infinity]) {
    assert.throws(
      () => new Semaphore(bad),
      (e: unknown) => e instanceof RangeError && /\bsize\b/.test(e.message),
      `size ${bad}`,
    );
  }
  for (const bad of [-1, 0.5, NaN, Infinity, 5]) {
    assert.throws(
      () => new Semaphore(4, bad),
      (e: unknown) => e instanceof RangeError && /\binitial\b/.test(e.message),
      `initial ${bad}`,
    );
  }
});

test("a size or initial value that is not a number is rejected (RangeError or TypeError) naming the argument", () => {
  const isArgError = (name: string) => (e: unknown) =>
    (e instanceof RangeError || e instanceof TypeError) && new RegExp(`\\b${name}\\b`).test(e.message);
  assert.throws(() => new Semaphore("2" as unknown as number), isArgError("size"));
  assert.throws(() => new Semaphore(2, "1" as unknown as number), isArgError("initial"));
  assert.throws(() => new Semaphore(undefined as unknown as number), isArgError("size"));
});

test("release() beyond the size throws WeftUsageError and leaves the count unchanged", () => {
  const sem = new Semaphore(3, 1);
  sem.release();
  sem.release();
  assert.equal(sem.available, 3);
  assert.throws(
    () => sem.release(),
    (e: unknown) => e instanceof WeftUsageError && e instanceof TypeError && /release/.test(e.message),
  );
  assert.equal(sem.available, 3);
  // Still fully usable: exactly three permits.
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), true);
  assert.equal(sem.tryAcquire(), false);
  sem.release();
  assert.equal(sem.available, 1);
});
