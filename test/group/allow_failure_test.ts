/**
 * `allowFailure` children: their failure does not fail the group; only their
 * `Task` handle reports it, and the group still waits for them (docs/semantics.md,
 * «Groups», «Tasks»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { sleep, suppressedErrors, withTaskGroup, type Task } from "../../src/index.ts";
import { Boom, Log, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

testOnEveryDriver("an allow_failure task's error does not fail the group", async (run) => {
  const log = new Log();
  const boom = new Boom();
  let handle: Task<never> | undefined;
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (root) {
      handle = root.spawn(
        function* () {
          throw boom;
        },
        { allowFailure: true },
      );
      root.startSoon(function* () {
        yield* sleep(2 * U);
        log.add("sibling not cancelled");
      });
      yield* sleep(U);
      log.add("main task terminate");
      return "ok";
    });
  });
  assert.equal(value, "ok");
  assertEvents(run, log.entries, ["main task terminate", "sibling not cancelled"]);
  // Its handle still reports the error.
  assert.equal(handle!.done, true);
  assert.throws(
    () => handle!.tryWait(),
    (error) => error === boom,
  );
});

testOnEveryDriver("waiting for a failed allow_failure task rethrows its error, which then fails the waiter's group", async (run) => {
  const log = new Log();
  const boom = new Boom();
  let caught: unknown;
  try {
    await run(function* () {
      yield* withTaskGroup(function* (root) {
        const task = root.spawn(
          function* () {
            throw boom;
          },
          { allowFailure: true },
        );
        yield* sleep(U);
        yield* task.wait();
        log.add("main task terminate");
      });
    });
  } catch (error) {
    caught = error;
  }
  assert.equal(caught, boom);
  assert.deepEqual(suppressedErrors(caught), []);
  assertEvents(run, log.entries, []);
});

testOnEveryDriver("an allow_failure task that does not fail is still waited for", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(
        function* () {
          yield* sleep(4 * U);
          log.add("allow_failure task terminate");
        },
        { allowFailure: true },
      );
      yield* sleep(U);
      log.add("main task terminate");
    });
    log.add("group returned");
  });
  assertEvents(run, log.entries, ["main task terminate", "allow_failure task terminate", "group returned"]);
});

testOnEveryDriver("an allow_failure task that fails while the group is cancelled is not recorded", async (run) => {
  const boom = new Boom("the group's failure");
  const cleanup = new Boom("allow_failure cleanup error");
  let caught: unknown;
  try {
    await run(function* () {
      yield* withTaskGroup(function* (root) {
        root.startSoon(
          function* () {
            try {
              yield* sleep(40 * U);
            } catch {
              throw cleanup;
            }
          },
          { allowFailure: true },
        );
        yield* sleep(U);
        throw boom;
      });
    });
  } catch (error) {
    caught = error;
  }
  assert.equal(caught, boom);
  assert.deepEqual(suppressedErrors(caught), []);
});
