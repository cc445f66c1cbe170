/**
 * `TaskGroup.addDefer`: cleanup that runs in the group's caller after every
 * task has ended, last registered first; under the caller's cancellation only
 * protected cleanup can suspend; registering on a group that is no longer
 * running is a usage error (docs/semantics.md, «Groups», «Misuse»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  WeftUsageError,
  isBeingCancelled,
  protectFromCancel,
  sleep,
  suppressedErrors,
  withCancellationHandler,
  withTaskGroup,
  withTimeoutOpt,
  type TaskGroup,
} from "../../src/index.ts";
import { Boom, Log, nameOf, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

/**
 * The group of moonbitlang/async's "basic" and "error" scenarios: defers registered
 * at 0, U and 2U by different tasks, and a daemon task that is cancelled.
 */
function deferScenario(log: Log, secondFails: Boom | null) {
  return function* (root: TaskGroup<string>) {
    root.addDefer(function* () {
      log.add("first group defer");
    });
    root.startSoon(function* () {
      try {
        yield* sleep(2 * U);
        root.addDefer(function* () {
          log.add("third group defer");
        });
        // When the second task fails at 3U, this one is cancelled long before it could finish.
        yield* sleep(secondFails === null ? 2 * U : 40 * U);
        log.add("first task finished");
      } finally {
        log.add("defer for first task");
      }
    });
    root.startSoon(function* () {
      try {
        yield* sleep(U);
        root.addDefer(function* () {
          log.add("second group defer");
        });
        yield* sleep(2 * U);
        if (secondFails !== null) {
          log.add("second task raise error");
          throw secondFails;
        }
        log.add("second task finished");
      } finally {
        log.add("defer for second task");
      }
    });
    root.startSoon(
      function* () {
        try {
          yield* sleep(40 * U);
        } finally {
          log.add("defer for cancelled task");
        }
      },
      { daemon: true },
    );
    return "body";
  };
}

testOnEveryDriver("group defers run after every task, in reverse order of registration time", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    const v = yield* withTaskGroup<string>(deferScenario(log, null));
    log.add("group returned");
    return v;
  });
  assert.equal(value, "body");
  assert.deepEqual(log.entries, [
    "second task finished",
    "defer for second task",
    "first task finished",
    "defer for first task",
    "defer for cancelled task",
    "third group defer",
    "second group defer",
    "first group defer",
    "group returned",
  ]);
});

testOnEveryDriver("group defers also run, in the same order, when the group fails", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(run(() => withTaskGroup<string>(deferScenario(log, boom))));
  assert.equal(error, boom);
  assert.deepEqual(suppressedErrors(error), []);
  assert.deepEqual(log.entries, [
    "second task raise error",
    "defer for second task",
    "defer for first task",
    "defer for cancelled task",
    "third group defer",
    "second group defer",
    "first group defer",
  ]);
});

testOnEveryDriver("under the caller's cancellation an unprotected async defer is cancelled, a protected one completes", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(function* () {
        for (let i = 0; i < 4; i++) {
          yield* sleep(2 * U);
          log.add("tick");
        }
      });
      yield* withTimeoutOpt(5 * U, function* () {
        yield* withTaskGroup(function* (group) {
          group.addDefer(function* () {
            yield* protectFromCancel(function* () {
              yield* sleep(2 * U);
              log.add("protected async defer completed");
            });
          });
          group.addDefer(function* () {
            yield* withCancellationHandler(
              function* () {
                yield* sleep(2 * U);
                log.add("normal async defer completed");
              },
              function* () {
                log.add("normal async defer cancelled");
              },
            );
          });
          try {
            yield* sleep(80 * U);
          } finally {
            log.add("start group termination");
          }
        });
      });
      log.add("group terminated");
    });
  });
  assertEvents(
    run,
    log.entries,
    [
      "tick",
      "tick",
      "start group termination",
      "normal async defer cancelled",
      "tick",
      "protected async defer completed",
      "group terminated",
      "tick",
    ],
    (e) => e !== "tick",
  );
});

// ── further behaviour (docs/semantics.md, «Groups», «Misuse») ─────────────────────────────────────────

testOnEveryDriver("defers run in the group's caller, not in a task of the group", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (outer) {
      const caller = outer.spawn(function* () {
        yield* withTaskGroup(function* (group) {
          group.addDefer(function* () {
            log.add(`defer starts, caller done: ${caller.done}`);
            // The caller is cancelled meanwhile: the defer runs in it.
            yield* protectFromCancel(() => sleep(2 * U));
            log.add(`defer sees its task being cancelled: ${isBeingCancelled()}`);
          });
          yield* sleep(U);
        });
      });
      yield* sleep(2 * U);
      caller.cancel();
    });
  });
  assertEvents(run, log.entries, ["defer starts, caller done: false", "defer sees its task being cancelled: true"]);
});

testOnEveryDriver("addDefer after a task failed throws WeftUsageError and leaves the group intact", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (group) {
        group.addDefer(function* () {
          log.add("registered defer ran");
        });
        group.startSoon(function* () {
          yield* sleep(U);
          throw boom;
        });
        group.startSoon(function* () {
          try {
            yield* sleep(40 * U);
          } catch (cancelled) {
            try {
              group.addDefer(function* () {
                log.add("late defer ran");
              });
              log.add("late addDefer returned");
            } catch (error) {
              log.add(`late addDefer threw ${nameOf(error)}; a TypeError: ${error instanceof TypeError}`);
            }
            throw cancelled;
          }
        });
        yield* sleep(40 * U);
        return "body";
      });
    }),
  );
  assert.equal(error, boom);
  assert.deepEqual(suppressedErrors(error), []);
  assertEvents(run, log.entries, ["late addDefer threw WeftUsageError; a TypeError: true", "registered defer ran"]);
});

testOnEveryDriver("addDefer after returnImmediately, while tasks still run, throws WeftUsageError; the value stands", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      group.addDefer(function* () {
        log.add("registered defer ran");
      });
      group.startSoon(function* () {
        yield* protectFromCancel(() => sleep(2 * U));
        try {
          group.addDefer(function* () {
            log.add("late defer ran");
          });
          log.add("late addDefer returned");
        } catch (error) {
          log.add(`late addDefer threw ${nameOf(error)}`);
        }
      });
      yield* sleep(U);
      group.returnImmediately("early");
      return "not reached";
    });
  });
  assert.equal(value, "early");
  assertEvents(run, log.entries, ["late addDefer threw WeftUsageError", "registered defer ran"]);
});

testOnEveryDriver("addDefer after the group finished throws WeftUsageError; the defer never runs", async (run) => {
  const log = new Log();
  let kept: TaskGroup<number> | undefined;
  let thrown: unknown;
  const value = await run(function* () {
    const v = yield* withTaskGroup<number>(function* (group) {
      kept = group;
      group.addDefer(function* () {
        log.add("registered defer ran");
      });
      yield* sleep(1);
      return 1;
    });
    try {
      kept!.addDefer(function* () {
        log.add("late defer ran");
      });
    } catch (error) {
      thrown = error;
    }
    yield* sleep(U);
    return v;
  });
  assert.equal(value, 1);
  assert.ok(thrown instanceof WeftUsageError, `expected WeftUsageError, got ${nameOf(thrown)}`);
  assertEvents(run, log.entries, ["registered defer ran"]);
});

testOnEveryDriver("addDefer from inside a running defer throws WeftUsageError; the other defers still run", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      group.addDefer(function* () {
        log.add("first registered ran");
      });
      group.addDefer(function* () {
        try {
          group.addDefer(function* () {
            log.add("nested defer ran");
          });
          log.add("nested addDefer returned");
        } catch (error) {
          log.add(`nested addDefer threw ${nameOf(error)}`);
        }
      });
      yield* sleep(1);
      return "ok";
    });
  });
  assert.equal(value, "ok");
  assertEvents(run, log.entries, ["nested addDefer threw WeftUsageError", "first registered ran"]);
});
