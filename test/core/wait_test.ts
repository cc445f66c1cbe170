/**
 * `Task.wait()` and `Task.tryWait()`: waiting for a task, its fast paths,
 * cancelling a waiter, and waiting on oneself (docs/semantics.md,
 * «Tasks», «Groups», «Misuse»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  WeftUsageError,
  pause,
  protectFromCancel,
  sleep,
  withCancellationHandler,
  withTaskGroup,
  type Task,
} from "../../src/index.ts";
import { Boom, Log, nameOf, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

// ── scenarios from moonbitlang/async's tests ──────────────────────────────────

testOnEveryDriver("the body can wait for a daemon task", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(function* () {
        yield* sleep(2 * U);
        log.add("2U tick");
        yield* sleep(2 * U);
        log.add("4U tick");
      });
      const task = root.spawn(
        function* () {
          yield* sleep(3 * U);
          log.add("task finished");
          return "t";
        },
        { daemon: true },
      );
      const value = yield* task.wait();
      log.add(`main task exit with ${value}`);
    });
  });
  assertEvents(run, log.entries, ["2U tick", "task finished", "main task exit with t", "4U tick"]);
});

testOnEveryDriver("a waiter is cancelled when its group fails; the error is the group's failure", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (root) {
        const task = root.spawn(function* () {
          yield* sleep(40 * U);
          log.add("task finished");
        });
        root.startSoon(function* () {
          yield* withCancellationHandler(
            () => task.wait(),
            function* () {
              log.add("wait cancelled");
            },
          );
        });
        yield* sleep(U);
        throw boom;
      });
    }),
  );
  assert.equal(error, boom);
  assertEvents(run, log.entries, ["wait cancelled"]);
});

testOnEveryDriver("tryWait gives undefined while the task runs and its value once it has ended", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      const task = root.spawn(
        function* () {
          yield* sleep(3 * U);
          return 42;
        },
        { daemon: true },
      );
      log.add(`at spawn: ${task.tryWait()}, done ${task.done}`);
      root.startSoon(function* () {
        yield* sleep(2 * U);
        log.add(`2U: ${task.tryWait()}, done ${task.done}`);
        yield* sleep(2 * U);
        log.add(`4U: ${task.tryWait()}, done ${task.done}`);
      });
      log.add(`task finished with ${yield* task.wait()}`);
    });
  });
  const expected = ["at spawn: undefined, done false", "2U: undefined, done false", "task finished with 42", "4U: 42, done true"];
  if (run.exact) assert.deepEqual(log.entries, expected);
  else {
    // A stall that lets the 2U and 3U deadlines fire in one turn may show the
    // 2U look either way; what it saw is consistent, and 4U sees the end.
    const seen = log.entries.find((e) => e.startsWith("2U:"));
    assert.ok(seen === "2U: undefined, done false" || seen === "2U: 42, done true", String(seen));
    assertEvents(
      run,
      log.entries.filter((e) => e !== seen),
      expected.filter((e) => !e.startsWith("2U:")),
    );
  }
});

// ── further behaviour (docs/semantics.md, «Tasks», «Groups», «Misuse») ─────────────────────────────

testOnEveryDriver("a task waiting for itself gets WeftUsageError at the call and can carry on", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      let self: Task<string> | undefined = undefined;
      self = group.spawn(function* () {
        yield* sleep(1);
        try {
          yield* self!.wait();
          log.add("self wait returned");
        } catch (error) {
          log.add(`self wait threw ${nameOf(error)}; a TypeError: ${error instanceof TypeError}`);
        }
        return "carried on";
      });
      return yield* self.wait();
    });
  });
  assert.equal(value, "carried on");
  assertEvents(run, log.entries, ["self wait threw WeftUsageError; a TypeError: true"]);
});

testOnEveryDriver("waiting for an ended task answers at once, even in a cancelled task", async (run) => {
  const log = new Log();
  const boom = new Boom();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      const ok = group.spawn(function* () {
        return 5;
      });
      const failed = group.spawn(
        function* () {
          throw boom;
        },
        { allowFailure: true },
      );
      const waiter = group.spawn(function* () {
        // Cancelled while protected; both tasks have ended by then.
        yield* protectFromCancel(() => sleep(2 * U));
        log.add(`being cancelled, ok.wait() gives ${yield* ok.wait()}`);
        try {
          yield* failed.wait();
        } catch (error) {
          log.add(`failed.wait() throws ${error === boom ? "its own error" : nameOf(error)}`);
        }
        try {
          yield* pause();
          log.add("pause returned");
        } catch (error) {
          log.add(`pause throws ${nameOf(error)}`);
          throw error;
        }
      });
      yield* sleep(U);
      waiter.cancel();
    });
  });
  assertEvents(run, log.entries, ["being cancelled, ok.wait() gives 5", "failed.wait() throws its own error", "pause throws Cancelled"]);
});

testOnEveryDriver("tryWait throws the error of a failed or cancelled task", async (run) => {
  const boom = new Boom();
  let failed: Task<never> | undefined;
  let cancelled: Task<void> | undefined;
  let succeeded: Task<string> | undefined;
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      failed = group.spawn(
        function* () {
          yield* sleep(1);
          throw boom;
        },
        { allowFailure: true },
      );
      cancelled = group.spawn(() => sleep(40 * U));
      succeeded = group.spawn(function* () {
        yield* sleep(1);
        return "yes";
      });
      assert.equal(failed.tryWait(), undefined);
      assert.equal(cancelled.tryWait(), undefined);
      yield* sleep(U);
      cancelled.cancel();
    });
  });
  assert.throws(
    () => failed!.tryWait(),
    (error) => error === boom,
  );
  assert.throws(() => cancelled!.tryWait(), Cancelled);
  assert.equal(succeeded!.tryWait(), "yes");
  assert.equal(failed!.done && cancelled!.done && succeeded!.done, true);
});

testOnEveryDriver("cancelling a waiter stops the wait at once and leaves the awaited task running", async (run) => {
  const log = new Log();
  let target: Task<number> | undefined;
  const value = await run(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      const t = group.spawn(function* () {
        yield* sleep(4 * U);
        log.add("target finished");
        return 9;
      });
      target = t;
      const waiter = group.spawn(function* () {
        try {
          yield* t.wait();
          log.add("waiter got the value");
        } catch (error) {
          log.add(`waiter got ${nameOf(error)}, target done: ${t.done}`);
          throw error;
        }
      });
      yield* sleep(U);
      waiter.cancel();
      // The body waits for the same task: it is not affected by the other waiter.
      const v = yield* t.wait();
      log.add(`body got ${v}`);
      return v;
    });
  });
  assert.equal(value, 9);
  assert.equal(target!.tryWait(), 9);
  assertEvents(run, log.entries, ["waiter got Cancelled, target done: false", "target finished", "body got 9"]);
});

testOnEveryDriver("several tasks waiting for one task all get its value", async (run) => {
  const values = await run(function* () {
    return yield* withTaskGroup<number[]>(function* (group) {
      const t = group.spawn(function* () {
        yield* sleep(U);
        return 4;
      });
      const waiters = [1, 2, 3].map((k) =>
        group.spawn(function* () {
          return (yield* t.wait()) * k;
        }),
      );
      const out: number[] = [];
      for (const w of waiters) out.push(yield* w.wait());
      out.push(yield* t.wait());
      return out;
    });
  });
  assert.deepEqual(values, [4, 8, 12, 4]);
});

testOnEveryDriver("a Cancelled that a task gets from waiting for a cancelled task fails its group", async (run) => {
  // The waiter itself was not cancelled, so its Cancelled is a real failure (docs/semantics.md, «Groups»).
  const log = new Log();
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        const victim = group.spawn(() => sleep(40 * U));
        group.startSoon(function* () {
          yield* sleep(40 * U);
          log.add("sibling finished");
        });
        yield* sleep(U);
        victim.cancel();
        yield* victim.wait();
        log.add("body went on");
      });
    }),
  );
  assert.ok(error instanceof Cancelled, `expected Cancelled, got ${nameOf(error)}`);
  assertEvents(run, log.entries, []);
});

testOnEveryDriver("Task.wait outside a task throws WeftUsageError", async (run) => {
  let handle: Task<number> | undefined;
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      handle = group.spawn(function* () {
        return 1;
      });
    });
  });
  const op = handle!.wait();
  assert.throws(() => op.next(), WeftUsageError);
});
