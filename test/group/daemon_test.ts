/**
 * `daemon` children: the group does not wait for them; they are cancelled
 * once every other task has ended, and have terminated before the group
 * returns (docs/semantics.md, «Groups»).
 */
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { sleep, withCancellationHandler, withTaskGroup } from "../../src/index.ts";
import { Log, testOnEveryDriver, assertEvents } from "../support.ts";

const U = 50;

testOnEveryDriver("a daemon task still running when the body ends is cancelled, and has ended before the group returns", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    const v = yield* withTaskGroup<string>(function* (root) {
      root.startSoon(
        function* () {
          yield* withCancellationHandler(
            function* () {
              yield* sleep(40 * U);
              log.add("daemon task finished successfully");
            },
            function* () {
              log.add("daemon task cancelled");
            },
          );
        },
        { daemon: true },
      );
      yield* sleep(U);
      log.add("main task terminate");
      return "body value";
    });
    log.add("group returned");
    return v;
  });
  assert.equal(value, "body value");
  assertEvents(run, log.entries, ["main task terminate", "daemon task cancelled", "group returned"]);
});

testOnEveryDriver("a daemon task that finishes before the body ends is not cancelled", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (root) {
      const task = root.spawn(
        function* () {
          yield* withCancellationHandler(
            function* () {
              yield* sleep(U);
              log.add("daemon task finished successfully");
            },
            function* () {
              log.add("daemon task cancelled");
            },
          );
          return 3;
        },
        { daemon: true },
      );
      yield* sleep(3 * U);
      log.add("main task terminate");
      return `body value, task gave ${task.tryWait()}`;
    });
  });
  assert.equal(value, "body value, task gave 3");
  assertEvents(run, log.entries, ["daemon task finished successfully", "main task terminate"]);
});

testOnEveryDriver("the group waits for ordinary children but not for daemon ones", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(
        function* () {
          try {
            yield* sleep(40 * U);
            log.add("daemon finished");
          } finally {
            log.add("daemon ended");
          }
        },
        { daemon: true },
      );
      root.startSoon(function* () {
        yield* sleep(2 * U);
        log.add("waited child finished");
      });
      log.add("body returns");
    });
    log.add("group returned");
  });
  assertEvents(run, log.entries, ["body returns", "waited child finished", "daemon ended", "group returned"]);
});

testOnEveryDriver("the option's old name noWait is refused with its new name, not ignored", async (run) => {
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      assert.throws(
        () => group.startSoon(function* () {}, { noWait: true } as never),
        (error: unknown) =>
          error instanceof TypeError && /TaskGroup\.startSoon\(\): options\.noWait is now called options\.daemon/.test(error.message),
      );
      assert.throws(() => group.spawn(function* () {}, { noWait: true } as never), TypeError);
      assert.throws(() => group.spawn(function* () {}, "daemon" as never), /TaskGroup\.spawn\(\): options must be an object/);
    });
  });
});
