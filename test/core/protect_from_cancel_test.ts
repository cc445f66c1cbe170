/**
 * `protectFromCancel`: protected work runs to its end, groups and timeouts
 * wait for it, and the postponed cancellation arrives at the next unprotected
 * suspension (docs/semantics.md, «Shielding», «Wake-ups», «Timeouts»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  TimeoutError,
  WeftUsageError,
  checkCancellation,
  isBeingCancelled,
  now,
  pause,
  protectFromCancel,
  sleep,
  suppressedErrors,
  withCancellationHandler,
  withTaskGroup,
  withTimeout,
  withTimeoutOpt,
  type Task,
} from "../../src/index.ts";
import { Boom, Log, nameOf, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

/** One time unit (ms). */
const U = 50;

/** A sibling that logs `label` after each of `n` sleeps of `every` ms. */
/**
 * Logs a tick every `every` ms. Each tick is a timer of its own, armed at the
 * start for its absolute time, so a late tick on a loaded machine does not
 * push the later ones past events they must come before, and when a stalled
 * host lets several deadlines pass at once, the ticks still wake in deadline
 * order among the scenario's other timers.
 */
function ticker(log: Log, n: number, every: number, label = (i: number) => `${((i + 1) * every) / U}U tick`) {
  return function* () {
    yield* withTaskGroup(function* (ticks) {
      for (let i = 0; i < n; i++) {
        ticks.startSoon(function* () {
          yield* sleep((i + 1) * every);
          log.add(label(i));
        });
      }
    });
  };
}

// ── scenarios from moonbitlang/async's tests ──────────────────────────────────

testOnEveryDriver("protected work finishes although its group failed; the next unprotected suspension throws", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (root) {
        root.startSoon(function* () {
          yield* withCancellationHandler(
            function* () {
              yield* protectFromCancel(function* () {
                yield* withCancellationHandler(
                  function* () {
                    yield* sleep(4 * U);
                    log.add("critical job finished");
                  },
                  function* () {
                    log.add("critical job cancelled");
                  },
                );
              });
              yield* sleep(2 * U);
              log.add("non-critical part of job finished");
            },
            function* () {
              log.add("job cancelled after critical part");
            },
          );
        });
        root.startSoon(function* () {
          yield* withCancellationHandler(
            function* () {
              yield* sleep(40 * U);
              log.add("non-critical job finished");
            },
            function* () {
              log.add("non-critical job cancelled");
            },
          );
        });
        yield* sleep(2 * U);
        throw boom;
      });
    }),
  );
  assert.equal(error, boom);
  assertEvents(run, log.entries, ["non-critical job cancelled", "critical job finished", "job cancelled after critical part"]);
});

testOnEveryDriver("a failed group waits for its protected body before it ends", async (run) => {
  const log = new Log();
  const boom = new Boom();
  let caught: unknown;
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(ticker(log, 2, 2 * U));
      try {
        yield* withTaskGroup(function* (group) {
          group.startSoon(function* () {
            yield* sleep(3 * U);
            log.add("trying to cancel the group containing the critical job");
            throw boom;
          });
          yield* protectFromCancel(function* () {
            yield* sleep(5 * U);
            log.add("critical job finished");
          });
        });
      } catch (error) {
        caught = error;
      }
      log.add("task group containing critical job finished");
    });
  });
  assert.equal(caught, boom);
  assertEvents(run, log.entries, [
    "2U tick",
    "trying to cancel the group containing the critical job",
    "4U tick",
    "critical job finished",
    "task group containing critical job finished",
  ]);
});

testOnEveryDriver(
  "withTimeoutOpt waits for protected work and returns its value: the body returned, so no timeout is reported",
  async (run) => {
    const log = new Log();
    let result: string | undefined = "unset";
    await run(function* () {
      yield* withTaskGroup(function* (root) {
        root.startSoon(ticker(log, 2, 2 * U));
        result = yield* withTimeoutOpt(3 * U, function* () {
          return yield* protectFromCancel(function* () {
            yield* sleep(5 * U);
            log.add("critical job finished");
            return "value";
          });
        });
        log.add("withTimeoutOpt containing critical job finished");
      });
    });
    // moonbitlang/async reports the timeout and drops the value; weft follows the rule
    // that a body that returned decides the outcome (docs/semantics.md, «Outcomes»).
    assert.equal(result, "value");
    assertEvents(run, log.entries, ["2U tick", "4U tick", "critical job finished", "withTimeoutOpt containing critical job finished"]);
  },
);

testOnEveryDriver("withTimeout waits for protected work that then fails: the timeout wins, the failure is suppressed", async (run) => {
  // moonbitlang/async raises the protected job's error (the last one); weft keeps the
  // first failure, TimeoutError, and records the later one (docs/semantics.md, «Errors»).
  const log = new Log();
  const boom = new Boom("critical job failed");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (root) {
        root.startSoon(ticker(log, 2, 2 * U));
        yield* withTimeout(3 * U, function* () {
          yield* protectFromCancel(function* () {
            yield* sleep(5 * U);
            log.add("critical job fail");
            throw boom;
          });
        });
      });
    }),
  );
  assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${nameOf(error)}`);
  assert.deepEqual(suppressedErrors(error), [boom]);
  assertEvents(run, log.entries, ["2U tick", "4U tick", "critical job fail"]);
});

testOnEveryDriver("nested protectFromCancel protects like a single one: the protected value comes out of withTimeoutOpt", async (run) => {
  const log = new Log();
  let result: string | undefined = "unset";
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(ticker(log, 2, 2 * U));
      result = yield* withTimeoutOpt(3 * U, function* () {
        return yield* protectFromCancel(() =>
          protectFromCancel(function* () {
            yield* sleep(5 * U);
            log.add("critical job finished");
            return "value";
          }),
        );
      });
      log.add("withTimeoutOpt containing critical job finished");
    });
  });
  // moonbitlang/async reports the timeout and drops the value; weft follows the rule
  // that a body that returned decides the outcome (docs/semantics.md, «Outcomes»).
  assert.equal(result, "value");
  assertEvents(run, log.entries, ["2U tick", "4U tick", "critical job finished", "withTimeoutOpt containing critical job finished"]);
});

testOnEveryDriver("leaving an inner protectFromCancel keeps the outer one's protection", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(ticker(log, 3, 2 * U));
      yield* withTimeoutOpt(U, function* () {
        yield* protectFromCancel(function* () {
          yield* protectFromCancel(function* () {
            yield* sleep(3 * U);
            log.add("inner critical job finished");
          });
          log.add(`between: being cancelled ${isBeingCancelled()}`);
          yield* sleep(2 * U);
          log.add("outer critical job finished");
        });
        log.add(`after: being cancelled ${isBeingCancelled()}`);
      });
      log.add("withTimeoutOpt containing critical job finished");
    });
  });
  assertEvents(run, log.entries, [
    "2U tick",
    "inner critical job finished",
    "between: being cancelled false",
    "4U tick",
    "outer critical job finished",
    "after: being cancelled true",
    "withTimeoutOpt containing critical job finished",
    "6U tick",
  ]);
});

testOnEveryDriver("a cancellation handler can do protected async cleanup", async (run) => {
  const log = new Log();
  const order: string[] = [];
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(
        function* () {
          yield* withCancellationHandler(
            () => sleep(40 * U),
            function* () {
              log.add("cancelled");
              const start = now();
              yield* protectFromCancel(() => sleep(2 * U));
              log.add(`critical cancellation handler terminated after ${now() - start >= 2 * U ? "its full time" : "too short a time"}`);
            },
          );
        },
        { daemon: true },
      );
      yield* sleep(2 * U);
      log.add("start cancellation");
    });
    order.push("group returned");
  });
  assertEvents(run, log.entries, ["start cancellation", "cancelled", "critical cancellation handler terminated after its full time"]);
  assertEvents(run, order, ["group returned"]);
});

testOnEveryDriver("cancelled while queued after pause: the protected cleanup sleep lasts its full time", async (run) => {
  const log = new Log();
  let elapsed = -1;
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(ticker(log, 2, 2 * U, () => "tick"));
      const task1 = root.spawn(function* () {
        yield* withCancellationHandler(
          () => pause(),
          function* () {
            log.add("pause cancelled");
            const start = now();
            yield* protectFromCancel(function* () {
              yield* sleep(3 * U);
              log.add("async cleanup finished");
            });
            elapsed = now() - start;
          },
        );
      });
      // Runs in the same round as task1's pause, while task1 is queued.
      root.startSoon(function* () {
        task1.cancel();
      });
    });
  });
  assertEvents(run, log.entries, ["pause cancelled", "tick", "async cleanup finished", "tick"]);
  assert.ok(elapsed >= 3 * U, `protected sleep lasted ${elapsed} ms`);
});

testOnEveryDriver("the cleanup error of an allow_failure daemon task is ignored by its group", async (run) => {
  const log = new Log();
  let inner: string | undefined;
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(ticker(log, 2, 2 * U, () => "tick"));
      inner = yield* withTaskGroup<string>(function* (group) {
        group.startSoon(
          function* () {
            try {
              yield* sleep(40 * U);
            } catch {
              log.add("performing async cleanup");
              yield* protectFromCancel(function* () {
                yield* sleep(2 * U);
                log.add("raising error from async cleanup");
                throw new Boom();
              });
            }
          },
          { daemon: true, allowFailure: true },
        );
        yield* sleep(U);
        log.add("main task of inner group done");
        return "inner ok";
      });
      log.add("group terminates");
    });
  });
  assert.equal(inner, "inner ok");
  assertEvents(run, log.entries, [
    "main task of inner group done",
    "performing async cleanup",
    "tick",
    "raising error from async cleanup",
    "group terminates",
    "tick",
  ]);
});

// ── no spurious wake-up after cancelling oneself (docs/semantics.md, «Wake-ups») ─

testOnEveryDriver("a task that cancelled itself via returnImmediately sleeps its full time inside protectFromCancel", async (run) => {
  const log = new Log();
  let elapsed = -1;
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (outer) {
      outer.startSoon(ticker(log, 2, 2 * U, (i) => `outer tick ${i + 1}`));
      return yield* withTaskGroup<string>(function* (inner) {
        inner.startSoon(function* () {
          try {
            inner.returnImmediately("early");
            log.add("returnImmediately returned");
          } catch (error) {
            log.add(`returnImmediately threw ${nameOf(error)}`);
            const start = now();
            yield* protectFromCancel(function* () {
              yield* sleep(3 * U);
              log.add("protected sleep done");
            });
            elapsed = now() - start;
            throw error;
          }
        });
        yield* sleep(40 * U);
        return "late";
      });
    });
  });
  assert.equal(value, "early");
  assertEvents(run, log.entries, ["returnImmediately threw Cancelled", "outer tick 1", "protected sleep done", "outer tick 2"]);
  assert.ok(elapsed >= 3 * U, `protected sleep lasted ${elapsed} ms`);
});

testOnEveryDriver(
  "a task that cancelled its own handle sleeps and waits for a task inside protectFromCancel until they really end",
  async (run) => {
    const log = new Log();
    const value = await run(function* () {
      return yield* withTaskGroup<number>(function* (group) {
        const helper = group.spawn(function* () {
          yield* sleep(3 * U);
          log.add("helper done");
          return 7;
        });
        let self: Task<number> | undefined = undefined;
        self = group.spawn(function* () {
          self!.cancel();
          const start = now();
          yield* protectFromCancel(() => sleep(U));
          log.add(`protected sleep lasted its time: ${now() - start >= U}`);
          const got = yield* protectFromCancel(() => helper.wait());
          log.add(`protected wait returned ${got}`);
          // The postponed cancellation arrives at the next unprotected suspension.
          try {
            yield* pause();
            log.add("pause returned");
          } catch (error) {
            log.add(`pause threw ${nameOf(error)}`);
          }
          return got;
        });
        return yield* self.wait();
      });
    });
    assert.equal(value, 7);
    assertEvents(run, log.entries, [
      "protected sleep lasted its time: true",
      "helper done",
      "protected wait returned 7",
      "pause threw Cancelled",
    ]);
  },
);

testOnEveryDriver("a task that cancelled itself can run a whole task group inside protectFromCancel", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      let self: Task<void> | undefined = undefined;
      self = group.spawn(function* () {
        self!.cancel();
        const start = now();
        const sum = yield* protectFromCancel(() =>
          withTaskGroup<number>(function* (inner) {
            const a = inner.spawn(function* () {
              yield* sleep(2 * U);
              return 1;
            });
            const b = inner.spawn(function* () {
              yield* sleep(3 * U);
              return 2;
            });
            return (yield* a.wait()) + (yield* b.wait());
          }),
        );
        log.add(`protected group returned ${sum} after its full time: ${now() - start >= 3 * U}`);
      });
    });
  });
  assertEvents(run, log.entries, ["protected group returned 3 after its full time: true"]);
});

// ── further behaviour (docs/semantics.md, «Pause», «Shielding») ────────────────────────────────────────

testOnEveryDriver("inside protectFromCancel a cancelled task is not being cancelled and pause works", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      const task = group.spawn(function* () {
        yield* protectFromCancel(function* () {
          yield* sleep(2 * U);
          log.add(`inside: being cancelled ${isBeingCancelled()}`);
          yield* pause();
          checkCancellation();
          log.add("inside: pause and checkCancellation passed");
        });
        log.add(`outside: being cancelled ${isBeingCancelled()}`);
        try {
          checkCancellation();
          log.add("outside: checkCancellation passed");
        } catch (error) {
          log.add(`outside: checkCancellation threw ${nameOf(error)}`);
          throw error;
        }
      });
      yield* sleep(U);
      task.cancel();
    });
  });
  assertEvents(run, log.entries, [
    "inside: being cancelled false",
    "inside: pause and checkCancellation passed",
    "outside: being cancelled true",
    "outside: checkCancellation threw Cancelled",
  ]);
});

testOnEveryDriver("a cancelled task that leaves protection and never suspends again ends normally with its value", async (run) => {
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      const task = group.spawn(function* () {
        const v = yield* protectFromCancel(function* () {
          yield* sleep(2 * U);
          return "kept";
        });
        return `${v}, being cancelled: ${isBeingCancelled()}`;
      });
      yield* sleep(U);
      task.cancel();
      return yield* task.wait();
    });
  });
  assert.equal(value, "kept, being cancelled: true");
});

testOnEveryDriver("protection ends when the protected body throws", async (run) => {
  const log = new Log();
  const boom = new Boom();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      const task = group.spawn(function* () {
        try {
          yield* protectFromCancel(function* () {
            yield* sleep(2 * U);
            throw boom;
          });
        } catch (error) {
          log.add(`protected body threw ${error === boom ? "boom" : nameOf(error)}`);
        }
        log.add(`being cancelled: ${isBeingCancelled()}`);
        try {
          yield* sleep(U);
          log.add("slept");
        } catch (error) {
          log.add(`sleep threw ${nameOf(error)}`);
          throw error;
        }
      });
      yield* sleep(U);
      task.cancel();
    });
  });
  assertEvents(run, log.entries, ["protected body threw boom", "being cancelled: true", "sleep threw Cancelled"]);
});

test("protectFromCancel outside a task throws WeftUsageError when run", () => {
  const op = protectFromCancel(() => sleep(1));
  assert.throws(() => op.next(), WeftUsageError);
});
