/**
 * `TaskGroup.returnImmediately(value)`: ends a group early with a value,
 * cancelling its tasks; throws `Cancelled` into a calling task of the group
 * (docs/semantics.md, «Groups», «Errors»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { run, sleep, suppressedErrors, withTaskGroup, type TaskGroup } from "../../src/index.ts";
import { Boom, Log, nameOf, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

/** A task body that sleeps `ms` and logs whether it finished or was cancelled. */
function sleeper(log: Log, name: string, ms: number) {
  return function* () {
    try {
      yield* sleep(ms);
      log.add(`${name} finished`);
    } catch (error) {
      log.add(`${name} got ${nameOf(error)}`);
      throw error;
    }
  };
}

// ── scenarios from moonbitlang/async's tests ──────────────────────────────────

testOnEveryDriver("returnImmediately from a task ends the group early and cancels the other tasks", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (root) {
      root.startSoon(function* () {
        yield* sleep(2 * U);
        try {
          root.returnImmediately("early");
          log.add("caller went on");
        } catch (error) {
          log.add(`caller stopped with ${nameOf(error)}`);
          throw error;
        }
      });
      root.startSoon(sleeper(log, "sibling", 40 * U));
      yield* sleep(40 * U);
      return "body";
    });
  });
  assert.equal(value, "early");
  assertEvents(run, log.entries, ["caller stopped with Cancelled", "sibling got Cancelled"]);
});

testOnEveryDriver("a body that already returned keeps its value; returnImmediately still stops the group", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (root) {
      root.startSoon(function* () {
        yield* sleep(2 * U);
        root.returnImmediately("early");
      });
      root.startSoon(sleeper(log, "sibling", 40 * U));
      return "body";
    });
  });
  assert.equal(value, "body");
  assertEvents(run, log.entries, ["sibling got Cancelled"]);
});

testOnEveryDriver(
  "returnImmediately on an enclosing group from a nested group's task cancels the caller too: it is a descendant",
  async (run) => {
    const log = new Log();
    const value = await run(function* () {
      return yield* withTaskGroup<string>(function* (root) {
        root.startSoon(sleeper(log, "root sibling", 40 * U));
        yield* withTaskGroup(function* (group) {
          group.startSoon(function* () {
            yield* sleep(2 * U);
            // Not a task of `root` but a descendant: cancelling root's body
            // reaches it at once (moonbitlang/async lets it go on until its next
            // suspension point), so the call throws Cancelled here.
            root.returnImmediately("from nested");
            log.add("caller went on");
          });
          group.startSoon(sleeper(log, "nested sibling", 40 * U));
        });
        log.add("not reached");
        return "body";
      });
    });
    assert.equal(value, "from nested");
    // Root's body comes first among root's tasks, so the cancellation reaches
    // the nested group's tasks before root's sibling.
    assertEvents(run, log.entries, ["nested sibling got Cancelled", "root sibling got Cancelled"]);
  },
);

testOnEveryDriver("a task's error while being cancelled by returnImmediately fails the group", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (root) {
        root.startSoon(function* () {
          yield* sleep(2 * U);
          root.returnImmediately("early");
        });
        root.startSoon(function* () {
          try {
            yield* sleep(40 * U);
          } catch {
            log.add("task cancelled, causing other error");
            throw boom;
          }
          log.add("task finished");
        });
        return "body";
      });
    }),
  );
  assert.equal(error, boom);
  assertEvents(run, log.entries, ["task cancelled, causing other error"]);
});

testOnEveryDriver("a group body that calls returnImmediately on its own group is cancelled at once", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (outer) {
      outer.startSoon(function* () {
        yield* sleep(2 * U);
        log.add("2U tick");
      });
      const value = yield* withTaskGroup<string>(function* (group) {
        try {
          group.returnImmediately("mine");
          log.add("call returned");
        } catch (error) {
          log.add(`call threw ${nameOf(error)}`);
          try {
            // Sticky cancellation: this throws at once instead of sleeping.
            yield* sleep(4 * U);
            log.add("sleep after the call returned");
          } catch (error2) {
            log.add(`sleep after the call threw ${nameOf(error2)}`);
          }
        }
        return "body value";
      });
      log.add(`inner group returned ${value}`);
    });
  });
  assertEvents(run, log.entries, ["call threw Cancelled", "sleep after the call threw Cancelled", "inner group returned mine", "2U tick"]);
});

testOnEveryDriver("returnImmediately on a group that already finished does nothing", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (outer) {
      outer.startSoon(function* () {
        yield* sleep(U);
        log.add("U tick");
      });
      const value = yield* withTaskGroup<string>(function* (inner) {
        outer.startSoon(function* () {
          inner.returnImmediately("too late");
          log.add("call on a finished group returned normally");
        });
        return "inner body";
      });
      log.add(`inner group finished with ${value}`);
    });
  });
  assertEvents(run, log.entries, [
    // The inner group ended when its body returned, before the call ran.
    "call on a finished group returned normally",
    "inner group finished with inner body",
    "U tick",
  ]);
});

// ── further behaviour (docs/semantics.md, «Groups») ───────────────────────────────────────────────

testOnEveryDriver("the first returnImmediately value wins", async (run) => {
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (outer) {
      let inner: TaskGroup<string> | undefined;
      outer.startSoon(function* () {
        yield* sleep(U);
        inner!.returnImmediately("first");
        inner!.returnImmediately("second");
      });
      return yield* withTaskGroup<string>(function* (group) {
        inner = group;
        yield* sleep(40 * U);
        return "body";
      });
    });
  });
  assert.equal(value, "first");
});

testOnEveryDriver("returnImmediately does not rescue a group that has already failed", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (root) {
        root.startSoon(function* () {
          yield* sleep(U);
          throw boom;
        });
        root.startSoon(function* () {
          try {
            yield* sleep(40 * U);
          } catch (error) {
            try {
              root.returnImmediately("rescue");
              log.add("rescue call returned");
            } catch (error2) {
              log.add(`rescue call threw ${nameOf(error2)}`);
            }
            throw error;
          }
        });
        yield* sleep(40 * U);
        return "body";
      });
    }),
  );
  assert.equal(error, boom);
  assert.deepEqual(suppressedErrors(error), []);
  assertEvents(run, log.entries, ["rescue call threw Cancelled"]);
});

test("returnImmediately from outside any task only ends the group [event loop]", async () => {
  let kept: TaskGroup<string> | undefined;
  const log = new Log();
  const promise = run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      kept = group;
      group.startSoon(sleeper(log, "child", 200 * U));
      yield* sleep(200 * U);
      return "body";
    });
  });
  // The group starts at the host's next turn, which a loaded host may delay.
  for (let waited = 0; kept === undefined && waited < 40 * U; waited += U) {
    await new Promise((resolve) => setTimeout(resolve, U));
  }
  if (kept === undefined) assert.fail("the group did not start within 40U");
  assert.doesNotThrow(() => kept!.returnImmediately("from outside"));
  assert.equal(await promise, "from outside");
  assert.deepEqual(log.entries, ["child got Cancelled"]);
});
