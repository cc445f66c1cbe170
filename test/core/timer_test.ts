/**
 * sleep and Timer (docs/semantics.md, «Timer and sleep», «Pause»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, Timer, TimerCancelled, now, sleep, pause, withTaskGroup, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { createHost } from "../../src/host.ts";
import { drivers, Log, testOnEveryDriver, type Runner, assertEvents } from "../support.ts";

/** Like testOnEveryDriver, but hands the scenario `exact` (a deterministic clock: exact times). */
function testTimed(name: string, fn: (run: Runner, exact: boolean) => Promise<void>): void {
  for (const driver of drivers) test(`${name} [${driver.driver}]`, () => fn(driver, driver.exact));
}

/** Exact on virtual time; on the real loop a timer never fires early, so a lower bound. */
function assertAt(actual: number, expected: number, exact: boolean, what: string): void {
  if (exact) assert.equal(actual, expected, what);
  else assert.ok(actual >= expected - 1, `${what}: ${actual} < ${expected}`);
}

/** Waits on `timer` and reports "expired", or the error it threw. */
/** How a wait ended; a cancellation still leaves, so a timeout around it is seen. */
function* outcome(timer: Timer): Operation<string> {
  try {
    yield* timer.wait();
    return "expired";
  } catch (e) {
    if (e instanceof Cancelled) throw e;
    return e instanceof Error ? e.name : String(e);
  }
}

testTimed("sleeps of two tasks interleave by deadline", async (run, exact) => {
  const log = new Log();
  const times: Record<string, number> = {};
  await run(function* () {
    const start = now();
    const mark = (what: string) => {
      log.add(what);
      times[what] = now() - start;
    };
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(30);
        mark("task 1, tick 1");
        yield* sleep(60);
        mark("task 1, tick 2");
        yield* sleep(60);
        mark("task 1, tick 3");
      });
      group.startSoon(function* () {
        yield* sleep(60);
        mark("task 2, tick 1");
        yield* sleep(60);
        mark("task 2, tick 2");
        yield* sleep(60);
        mark("task 2, tick 3");
      });
    });
  });
  assertEvents(run, log.entries, [
    "task 1, tick 1",
    "task 2, tick 1",
    "task 1, tick 2",
    "task 2, tick 2",
    "task 1, tick 3",
    "task 2, tick 3",
  ]);
  assertAt(times["task 1, tick 3"]!, 150, exact, "task 1 end");
  assertAt(times["task 2, tick 3"]!, 180, exact, "task 2 end");
});

testTimed("a Timer wakes all its waiters together; waiting again after expiry returns at once", async (run, exact) => {
  const log = new Log();
  let completedAt = -1;
  await run(function* () {
    const start = now();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(45);
        log.add("sleep: tick #1");
        yield* sleep(90);
        log.add("sleep: tick #2");
        yield* sleep(90);
        log.add("sleep: tick #3");
      });
      yield* sleep(90);
      log.add("creating timer");
      const timer = new Timer(90);
      yield* withTaskGroup<void>(function* (waiters) {
        for (let i = 0; i < 3; i++) {
          waiters.startSoon(function* () {
            yield* timer.wait();
            log.add("timer completed");
          });
        }
      });
      completedAt = now() - start;
      const again = yield* withTimeoutOpt(0, function* () {
        yield* timer.wait();
        return "returned at once";
      });
      log.add(`wait again: ${String(again)}`);
    });
  });
  assertEvents(run, log.entries, [
    "sleep: tick #1",
    "creating timer",
    "sleep: tick #2",
    "timer completed",
    "timer completed",
    "timer completed",
    "wait again: returned at once",
    "sleep: tick #3",
  ]);
  assertAt(completedAt, 180, exact, "timer expiry");
});

testOnEveryDriver("a Timer nobody waited for has still expired on time: wait returns without suspending", async (run) => {
  const result = await run(function* () {
    const timer = new Timer(40);
    yield* sleep(80);
    return yield* withTimeoutOpt(0, function* () {
      yield* timer.wait();
      return "returned at once";
    });
  });
  assert.equal(result, "returned at once");
});

testTimed("a waiter that gives up before expiry does not disturb the Timer: a later wait ends at the deadline", async (run, exact) => {
  let first: string | undefined = "not run";
  let second: string | undefined = "not run";
  let secondAt = -1;
  await run(function* () {
    const start = now();
    const timer = new Timer(120);
    // Gives up right after it started waiting. (A real timeout shortly before the
    // deadline can fall due in the same round as the Timer on a stalled host, and
    // then the wait, already woken, wins.)
    first = yield* withTimeoutOpt(0, () => outcome(timer));
    yield* sleep(80);
    second = yield* withTimeoutOpt(100, () => outcome(timer));
    secondAt = now() - start;
  });
  assert.equal(first, undefined);
  assert.equal(second, "expired");
  assertAt(secondAt, 120, exact, "second wait");
});

testOnEveryDriver("a Timer that expired after its waiter gave up answers the next wait at once", async (run) => {
  const result = await run(function* () {
    const timer = new Timer(60);
    // Gives up right after it started waiting (see above).
    const first = yield* withTimeoutOpt(0, () => outcome(timer));
    yield* sleep(90);
    const second = yield* withTimeoutOpt(0, () => outcome(timer));
    return [first, second];
  });
  assert.deepEqual(result, [undefined, "expired"]);
});

testOnEveryDriver("cancelling the task of one waiter throws Cancelled in it and leaves the other waiters be", async (run) => {
  const log = new Log();
  await run(function* () {
    const timer = new Timer(80);
    yield* withTaskGroup<void>(function* (group) {
      const doomed = group.spawn(function* () {
        try {
          yield* timer.wait();
          log.add("doomed waiter: expired");
        } catch (e) {
          log.add(`doomed waiter: ${e instanceof Cancelled ? "Cancelled" : String(e)}`);
          throw e;
        }
      });
      group.startSoon(function* () {
        log.add(`other waiter: ${yield* outcome(timer)}`);
      });
      // Runs after both waiters have started waiting, long before the timer expires.
      yield* pause();
      doomed.cancel();
    });
  });
  assertEvents(run, log.entries, ["doomed waiter: Cancelled", "other waiter: expired"]);
});

testOnEveryDriver("Timer.cancel wakes the waiters with TimerCancelled; later waits throw it too; the first error stays", async (run) => {
  const log = new Log();
  const first = new Error("first cancel");
  const second = new Error("second cancel");
  let errors: unknown[] = [];
  await run(function* () {
    const timer = new Timer(150);
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        // Runs once the waiter waits, long before the tick.
        yield* pause();
        log.add("cancelling");
        timer.cancel();
      });
      group.startSoon(function* () {
        log.add(`waiter: ${yield* outcome(timer)}`);
      });
      group.startSoon(function* () {
        yield* sleep(100);
        log.add("100ms tick");
      });
      yield* sleep(200);
      log.add(`wait after cancel: ${yield* outcome(timer)}`);
      timer.cancel();
      log.add(`wait after second cancel: ${yield* outcome(timer)}`);
    });
    // With errors of the caller's choice: the first cancel decides.
    const custom = new Timer(1000);
    custom.cancel(first);
    custom.cancel(second);
    for (let i = 0; i < 2; i++) {
      try {
        yield* custom.wait();
        errors.push("expired");
      } catch (e) {
        errors.push(e);
      }
    }
  });
  assertEvents(run, log.entries, [
    "cancelling",
    "waiter: TimerCancelled",
    "100ms tick",
    "wait after cancel: TimerCancelled",
    "wait after second cancel: TimerCancelled",
  ]);
  assert.deepEqual(errors, [first, first]);
});

testOnEveryDriver("a cancelled Timer throws an instance of TimerCancelled", async (run) => {
  await assert.rejects(
    run(function* () {
      const timer = new Timer(10);
      timer.cancel();
      yield* timer.wait();
    }),
    TimerCancelled,
  );
});

testTimed("Timer.refresh with a waiter pushes the deadline back each time", async (run, exact) => {
  const log = new Log();
  let doneAt = -1;
  await run(function* () {
    const start = now();
    // Longer than the refreshes' spacing: a late refresh on a stalled host still comes before the deadline.
    const timer = new Timer(200);
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* timer.wait();
        doneAt = now() - start;
        log.add("wait completed");
      });
      group.startSoon(function* () {
        yield* sleep(40);
        log.add("refresh 1");
        timer.refresh();
      });
      group.startSoon(function* () {
        yield* sleep(80);
        log.add("refresh 2");
        timer.refresh();
      });
    });
  });
  assertEvents(run, log.entries, ["refresh 1", "refresh 2", "wait completed"]);
  // Last refresh at 80 + the duration 200.
  assertAt(doneAt, 280, exact, "wait completed");
});

testTimed("Timer.refresh with nobody waiting restarts the count", async (run, exact) => {
  const doneAt = await run(function* () {
    const start = now();
    const timer = new Timer(80);
    yield* sleep(40);
    timer.refresh();
    yield* timer.wait();
    return now() - start;
  });
  assertAt(doneAt, 120, exact, "wait completed");
});

testTimed("Timer.refresh after expiry restarts the timer", async (run, exact) => {
  const result = await run(function* () {
    const start = now();
    const timer = new Timer(80);
    yield* sleep(120);
    // Expired by now: a wait would return at once.
    const before = yield* withTimeoutOpt(0, () => outcome(timer));
    timer.refresh();
    const right = yield* withTimeoutOpt(0, () => outcome(timer));
    yield* timer.wait();
    return { before, right, doneAt: now() - start };
  });
  assert.equal(result.before, "expired");
  assert.equal(result.right, undefined, "after refresh the timer runs again");
  assertAt(result.doneAt, 200, exact, "wait completed");
});

testOnEveryDriver("Timer.refresh after cancel does nothing: waits still throw at once", async (run) => {
  const result = await run(function* () {
    const timer = new Timer(80);
    timer.cancel();
    timer.refresh();
    return yield* withTimeoutOpt(0, () => outcome(timer));
  });
  assert.equal(result, "TimerCancelled");
});

test("sleep and Timer follow the virtual clock exactly", async () => {
  const times = await runVirtual(function* () {
    const t0 = now();
    yield* sleep(3_600_000);
    const t1 = now();
    const timer = new Timer(250);
    yield* timer.wait();
    return [t0, t1, now()];
  });
  assert.deepEqual(times, [0, 3_600_000, 3_600_250]);
});

test("a Timer whose last waiter gave up sets no scheduler timer, yet keeps its deadline", () => {
  let clock = 0;
  const host = createHost({ now: () => clock });
  const log: string[] = [];
  const task = host.spawn(function* () {
    const timer = new Timer(1000);
    yield* withTaskGroup<void>(function* (group) {
      const waiter = group.spawn(() => timer.wait());
      yield* pause();
      waiter.cancel();
    });
    log.push("waiter gone");
    yield* new Timer(5000).wait(); // something else to wait for
    // The abandoned timer's deadline (1000) has passed by now: waiting returns at once.
    yield* timer.wait();
    log.push("deadline kept");
  });
  let result = host.pump();
  assert.deepEqual(log, ["waiter gone"]);
  // Only the 5000 ms timer is armed: the abandoned one would just keep a host awake.
  assert.equal(result.nextDeadline, 5000);
  clock = 5000;
  result = host.pump();
  assert.deepEqual(log, ["waiter gone", "deadline kept"]);
  assert.equal(task.done, true);
  assert.equal(result.blocked, 0);
});
