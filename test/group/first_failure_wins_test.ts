/**
 * docs/semantics.md, «Errors»: the first failure decides a group's error, and every error
 * raised after it (siblings failing while being cancelled, failing defers) is
 * kept, in order, in `suppressedErrors(error)`. moonbitlang/async instead lets
 * the last error overwrite the first.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  TimeoutError,
  protectFromCancel,
  sleep,
  suppressedErrors,
  withTaskGroup,
  withTimeout,
  type Task,
} from "../../src/index.ts";
import { Log, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

class Boom extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Boom";
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? `${error.name}(${error.message})` : String(error);
}

/** A task that sleeps until cancelled, then fails with `error` after `cleanupMs` of protected cleanup. */
function failsOnCancel(error: unknown, cleanupMs = 0) {
  return function* () {
    try {
      yield* sleep(40 * U);
    } catch {
      if (cleanupMs > 0) yield* protectFromCancel(() => sleep(cleanupMs));
      throw error;
    }
  };
}

testOnEveryDriver("the first failure leaves the group; siblings' cleanup errors are suppressed in the order they happened", async (run) => {
  const first = new Boom("first");
  const late = new Boom("late cleanup");
  const early = new Boom("early cleanup");
  const ignored = new Boom("allow_failure cleanup");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        group.startSoon(function* () {
          yield* sleep(U);
          throw first;
        });
        // Spawned before `early`, but throws later: time order, not spawn order.
        group.startSoon(failsOnCancel(late, 2 * U));
        group.startSoon(failsOnCancel(early));
        // Its failure is not the group's: nothing to record.
        group.startSoon(failsOnCancel(ignored), { allowFailure: true });
        // Ends with Cancelled: a normal end, nothing to record.
        group.startSoon(() => sleep(40 * U));
        yield* sleep(40 * U);
      });
    }),
  );
  assert.equal(error, first, `expected the first failure, got ${nameOf(error)}`);
  assert.deepEqual(suppressedErrors(error), [early, late]);
});

testOnEveryDriver("two tasks failing in the same round: the one that ran first wins", async (run) => {
  const a = new Boom("a");
  const b = new Boom("b");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        group.startSoon(function* () {
          throw a;
        });
        group.startSoon(function* () {
          throw b;
        });
      });
    }),
  );
  assert.equal(error, a);
  assert.deepEqual(suppressedErrors(error), [b]);
});

testOnEveryDriver("defer errors are suppressed after the siblings' errors, and every defer runs", async (run) => {
  const log = new Log();
  const first = new Boom("first");
  const sibling = new Boom("sibling cleanup");
  const d1 = new Boom("defer 1");
  const d2 = new Boom("defer 2");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        group.addDefer(function* () {
          log.add("defer 1 ran");
          throw d1;
        });
        group.addDefer(function* () {
          log.add("defer 2 ran");
          throw d2;
        });
        group.addDefer(function* () {
          log.add("defer 3 ran");
        });
        group.startSoon(failsOnCancel(sibling, U));
        yield* sleep(U);
        throw first;
      });
    }),
  );
  assert.equal(error, first);
  assert.deepEqual(suppressedErrors(error), [sibling, d2, d1]);
  assertEvents(run, log.entries, ["defer 3 ran", "defer 2 ran", "defer 1 ran"]);
});

testOnEveryDriver("in a group that succeeded, the first failing defer is the error and later ones are suppressed", async (run) => {
  const log = new Log();
  const a = new Boom("registered first, runs last");
  const b = new Boom("registered second, runs second");
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (group) {
        group.addDefer(function* () {
          log.add("a");
          throw a;
        });
        group.addDefer(function* () {
          yield* sleep(U);
          log.add("b");
          throw b;
        });
        group.addDefer(function* () {
          log.add("c");
        });
        yield* sleep(U);
        return "ok";
      });
    }),
  );
  assert.equal(error, b);
  assert.deepEqual(suppressedErrors(error), [a]);
  assertEvents(run, log.entries, ["c", "b", "a"]);
});

testOnEveryDriver("a daemon task's cleanup error turns a successful group into a failure; a later one is suppressed", async (run) => {
  const n1 = new Boom("daemon 1 cleanup");
  const n2 = new Boom("daemon 2 cleanup");
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (group) {
        group.startSoon(failsOnCancel(n2, U), { daemon: true });
        group.startSoon(failsOnCancel(n1), { daemon: true });
        yield* sleep(U);
        return "would have succeeded";
      });
    }),
  );
  assert.equal(error, n1);
  assert.deepEqual(suppressedErrors(error), [n2]);
});

testOnEveryDriver("after returnImmediately, the first cleanup error fails the group and later ones are suppressed", async (run) => {
  const c1 = new Boom("cleanup 1");
  const c2 = new Boom("cleanup 2");
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (group) {
        group.startSoon(failsOnCancel(c2, U));
        group.startSoon(failsOnCancel(c1));
        yield* sleep(U);
        group.returnImmediately("early");
        return "not reached";
      });
    }),
  );
  assert.equal(error, c1);
  assert.deepEqual(suppressedErrors(error), [c2]);
});

testOnEveryDriver("the caller's cancellation stays the group's error; later cleanup and defer errors are suppressed", async (run) => {
  const log = new Log();
  const c1 = new Boom("child 1 cleanup");
  const c2 = new Boom("child 2 cleanup");
  const d = new Boom("defer");
  let caught: unknown;
  let caller: Task<void> | undefined;
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (outer) {
      caller = outer.spawn(function* () {
        try {
          yield* withTaskGroup(function* (group) {
            group.addDefer(function* () {
              log.add("failing defer ran");
              throw d;
            });
            group.addDefer(function* () {
              // Cut short by the caller's own cancellation: not a new failure.
              try {
                yield* sleep(U);
                log.add("unprotected defer slept");
              } catch (error) {
                log.add(`unprotected defer got ${error instanceof Cancelled ? "Cancelled" : nameOf(error)}`);
                throw error;
              }
            });
            group.startSoon(failsOnCancel(c2, U));
            group.startSoon(failsOnCancel(c1));
            yield* sleep(40 * U);
          });
        } catch (error) {
          caught = error;
          throw error;
        }
      });
      yield* sleep(U);
      caller.cancel();
      return "outer ok";
    });
  });
  // The caller ended with its own cancellation: a normal end for the outer group.
  assert.equal(value, "outer ok");
  assert.ok(caught instanceof Cancelled, `expected Cancelled, got ${nameOf(caught)}`);
  assert.deepEqual(suppressedErrors(caught), [c1, c2, d]);
  assertEvents(run, log.entries, ["unprotected defer got Cancelled", "failing defer ran"]);
  assert.throws(() => caller!.tryWait(), Cancelled);
});

testOnEveryDriver("withTimeout: the TimeoutError wins over the body's error during its cancellation", async (run) => {
  const cleanup = new Boom("cleanup failed");
  const error = await rejection(
    run(function* () {
      yield* withTimeout(U, function* () {
        try {
          yield* sleep(40 * U);
        } finally {
          throw cleanup;
        }
      });
    }),
  );
  assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${nameOf(error)}`);
  assert.deepEqual(suppressedErrors(error), [cleanup]);
});

testOnEveryDriver("an inner group's error keeps its record and collects the outer group's later errors", async (run) => {
  const inner = new Boom("inner first");
  const innerLate = new Boom("inner sibling cleanup");
  const outerLate = new Boom("outer sibling cleanup");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (outer) {
        outer.startSoon(failsOnCancel(outerLate, U));
        yield* withTaskGroup(function* (group) {
          group.startSoon(failsOnCancel(innerLate));
          yield* sleep(U);
          throw inner;
        });
      });
    }),
  );
  assert.equal(error, inner);
  assert.deepEqual(suppressedErrors(error), [innerLate, outerLate]);
});

test("suppressedErrors is empty for an error nothing was suppressed into, and for non-objects", () => {
  assert.deepEqual(suppressedErrors(new Error("fresh")), []);
  assert.deepEqual(suppressedErrors("a string"), []);
  assert.deepEqual(suppressedErrors(undefined), []);
  assert.deepEqual(suppressedErrors(null), []);
});

testOnEveryDriver("suppressedErrors returns a copy", async (run) => {
  const first = new Boom("first");
  const later = new Boom("later");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        group.startSoon(failsOnCancel(later));
        yield* sleep(U);
        throw first;
      });
    }),
  );
  const list = suppressedErrors(error);
  list.push("tampered");
  assert.deepEqual(suppressedErrors(error), [later]);
});
