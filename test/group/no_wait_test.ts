/**
 * `noWait` children: the group does not wait for them; they are cancelled
 * once every other task has ended, and have terminated before the group
 * returns (docs/semantics.md, «Groups»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { sleep, withCancellationHandler, withTaskGroup } from "../../src/index.ts";
import { Log, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

testOnEveryDriver("a no_wait task still running when the body ends is cancelled, and has ended before the group returns", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    const v = yield* withTaskGroup<string>(function* (root) {
      root.spawnBg(
        function* () {
          yield* withCancellationHandler(
            function* () {
              yield* sleep(40 * U);
              log.add("no_wait task finished successfully");
            },
            function* () {
              log.add("no_wait task cancelled");
            },
          );
        },
        { noWait: true },
      );
      yield* sleep(U);
      log.add("main task terminate");
      return "body value";
    });
    log.add("group returned");
    return v;
  });
  assert.equal(value, "body value");
  assertEvents(run, log.entries, ["main task terminate", "no_wait task cancelled", "group returned"]);
});

testOnEveryDriver("a no_wait task that finishes before the body ends is not cancelled", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (root) {
      const task = root.spawn(
        function* () {
          yield* withCancellationHandler(
            function* () {
              yield* sleep(U);
              log.add("no_wait task finished successfully");
            },
            function* () {
              log.add("no_wait task cancelled");
            },
          );
          return 3;
        },
        { noWait: true },
      );
      yield* sleep(3 * U);
      log.add("main task terminate");
      return `body value, task gave ${task.tryWait()}`;
    });
  });
  assert.equal(value, "body value, task gave 3");
  assertEvents(run, log.entries, ["no_wait task finished successfully", "main task terminate"]);
});

testOnEveryDriver("the group waits for ordinary children but not for no_wait ones", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.spawnBg(
        function* () {
          try {
            yield* sleep(40 * U);
            log.add("no_wait finished");
          } finally {
            log.add("no_wait ended");
          }
        },
        { noWait: true },
      );
      root.spawnBg(function* () {
        yield* sleep(2 * U);
        log.add("waited child finished");
      });
      log.add("body returns");
    });
    log.add("group returned");
  });
  assertEvents(run, log.entries, ["body returns", "waited child finished", "no_wait ended", "group returned"]);
});
