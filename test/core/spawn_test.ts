/**
 * Spawning into a group: a failure cancels the siblings whatever the spawn
 * order, spawning into a failed group still starts the child, and spawning
 * into a finished group is a usage error (docs/semantics.md, «Groups», «Misuse»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, WeftUsageError, protectFromCancel, sleep, withTaskGroup, type TaskGroup } from "../../src/index.ts";
import { Boom, Log, nameOf, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

for (const failerFirst of [false, true]) {
  testOnEveryDriver(`a failing task cancels a slower sibling (failing task spawned ${failerFirst ? "first" : "second"})`, async (run) => {
    const log = new Log();
    const boom = new Boom();
    const error = await rejection(
      run(function* () {
        yield* withTaskGroup(function* (root) {
          const slow = function* () {
            try {
              yield* sleep(40 * U);
              log.add("slow task finished");
            } catch (error) {
              log.add(`slow task got ${nameOf(error)}`);
              throw error;
            }
          };
          const failing = function* () {
            yield* sleep(2 * U);
            throw boom;
          };
          if (failerFirst) {
            root.startSoon(failing);
            root.startSoon(slow);
          } else {
            root.startSoon(slow);
            root.startSoon(failing);
          }
        });
      }),
    );
    assert.equal(error, boom);
    assert.deepEqual(log.entries, ["slow task got Cancelled"]);
  });
}

testOnEveryDriver("a task spawned after its group failed starts, then is cancelled at its first suspension", async (run) => {
  const log = new Log();
  const failure = new Boom("failure");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        group.startSoon(function* () {
          // A job that cannot be interrupted; when it ends the group has failed.
          yield* protectFromCancel(() => sleep(3 * U));
          group.startSoon(
            function* () {
              log.add("enter child task after cancelled");
              try {
                yield* sleep(U);
                log.add("child task completed");
              } catch (error) {
                log.add(`child task got ${nameOf(error)}`);
                throw error;
              }
            },
            { allowFailure: true },
          );
          log.add("spawned after the failure");
        });
        yield* sleep(U);
        throw failure;
      });
    }),
  );
  assert.equal(error, failure);
  assertEvents(run, log.entries, ["spawned after the failure", "enter child task after cancelled", "child task got Cancelled"]);
});

// ── further behaviour (docs/semantics.md, «Groups», «Misuse») ─────────────────────────────────────────

testOnEveryDriver("spawn never runs the body inside the call; children start in spawn order", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      for (const name of ["a", "b", "c"]) {
        const task = group.spawn(function* () {
          log.add(`${name} started`);
          return name;
        });
        log.add(`${name} spawned, done: ${task.done}`);
      }
      group.startSoon(function* () {
        log.add("d started");
      });
      log.add("body suspends");
      yield* sleep(U);
    });
  });
  assertEvents(run, log.entries, [
    "a spawned, done: false",
    "b spawned, done: false",
    "c spawned, done: false",
    "body suspends",
    "a started",
    "b started",
    "c started",
    "d started",
  ]);
});

testOnEveryDriver("a task of one group can spawn into another live group, which then waits for it", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    const v = yield* withTaskGroup<number>(function* (outer) {
      return yield* withTaskGroup<number>(function* (inner) {
        inner.startSoon(function* () {
          // Spawned by a task of `inner` into `outer`.
          outer.startSoon(function* () {
            yield* sleep(U);
            log.add("spawned into outer ran");
          });
        });
        return 1;
      });
    });
    log.add("outer group returned");
    return v;
  });
  assert.equal(value, 1);
  assertEvents(run, log.entries, ["spawned into outer ran", "outer group returned"]);
});

testOnEveryDriver("spawning into a group that has finished throws WeftUsageError", async (run) => {
  let kept: TaskGroup<void> | undefined;
  const errors: unknown[] = [];
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      kept = group;
      yield* sleep(1);
    });
    try {
      kept!.spawn(function* () {
        return 1;
      });
    } catch (error) {
      errors.push(error);
    }
    try {
      kept!.startSoon(function* () {});
    } catch (error) {
      errors.push(error);
    }
    try {
      kept!.spawnLoop(function* () {});
    } catch (error) {
      errors.push(error);
    }
  });
  assert.equal(errors.length, 3);
  for (const error of errors) {
    assert.ok(error instanceof WeftUsageError, `expected WeftUsageError, got ${nameOf(error)}`);
    assert.ok(error instanceof TypeError);
  }
});

testOnEveryDriver("spawning from a group defer throws WeftUsageError there; the group still ends normally", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      group.addDefer(function* () {
        try {
          group.startSoon(function* () {
            log.add("spawned from defer ran");
          });
          log.add("spawn from defer returned");
        } catch (error) {
          log.add(`spawn from defer threw ${nameOf(error)}`);
        }
      });
      yield* sleep(1);
      return "done";
    });
  });
  assert.equal(value, "done");
  assertEvents(run, log.entries, ["spawn from defer threw WeftUsageError"]);
});

testOnEveryDriver("spawn rejects a body that is not a function with a TypeError", async (run) => {
  const errors: unknown[] = [];
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      try {
        group.spawn(42 as unknown as () => Generator<never, void, unknown>);
      } catch (error) {
        errors.push(error);
      }
      yield* sleep(1);
    });
  });
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof TypeError);
  assert.ok(!(errors[0] instanceof Cancelled));
});
