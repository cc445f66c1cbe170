/**
 * `action(executor)`: the adapter for callback APIs. The task suspends until
 * resolve/reject; the cleanup runs exactly once on every path; a settlement
 * that beat the cancellation wins.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import { testOnEveryDriver } from "../support.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  WeftUsageError,
  action,
  isBeingCancelled,
  pause,
  run,
  sleep,
  withTaskGroup,
  withTimeout,
  TimeoutError,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";

testOnEveryDriver("action resolves with the value given to resolve from a host callback, then runs the cleanup", async (run) => {
  const log: string[] = [];
  const value = await run(function* () {
    const v = yield* action<number>((resolve) => {
      const id = setTimeout(() => {
        log.push("callback");
        resolve(42);
      }, 5);
      return () => {
        log.push("cleanup");
        clearTimeout(id);
      };
    });
    log.push("resumed");
    return v;
  });
  assert.equal(value, 42);
  assert.deepEqual(log, ["callback", "cleanup", "resumed"]);
});

testOnEveryDriver("action throws what reject was given, after the cleanup", async (run) => {
  const log: string[] = [];
  const failure = new Error("refused");
  await assert.rejects(
    run(function* () {
      try {
        yield* action<void>((_resolve, reject) => {
          setTimeout(() => reject(failure), 1);
          return () => log.push("cleanup");
        });
      } catch (error) {
        log.push(`caught ${(error as Error).message}`);
        throw error;
      }
    }),
    (error) => error === failure,
  );
  assert.deepEqual(log, ["cleanup", "caught refused"]);
});

testOnEveryDriver("resolving synchronously inside the executor completes without suspending", async (run) => {
  const log: string[] = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        log.push("sibling");
      });
      const v = yield* action<string>((resolve) => {
        resolve("now");
        return () => log.push("cleanup");
      });
      log.push(`got ${v}`);
    });
  });
  // The sibling runs only once the body suspends; a synchronous action does not suspend.
  assert.deepEqual(log, ["cleanup", "got now", "sibling"]);
});

testOnEveryDriver("cancelling a task in an action throws Cancelled at the call and runs the cleanup once", async (run) => {
  let cleanups = 0;
  let resolveLater: ((v: number) => void) | undefined;
  const outcome = await run(function* () {
    try {
      yield* withTimeout(10, () =>
        action<number>((resolve) => {
          resolveLater = resolve;
          return () => {
            cleanups++;
          };
        }),
      );
      return "finished";
    } catch (error) {
      return error instanceof TimeoutError ? "timed out" : String(error);
    }
  });
  assert.equal(outcome, "timed out");
  assert.equal(cleanups, 1);
  // A settlement after the cancellation is ignored and does not run the cleanup again.
  resolveLater!(1);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(cleanups, 1);
});

test("a settlement in the same round as the cancellation wins; the cancellation surfaces at the next suspension", () => {
  const host = createHost();
  let resolve: ((v: string) => void) | undefined;
  const log: string[] = [];
  const task = host.spawn(function* () {
    const v = yield* action<string>((r) => {
      resolve = r;
    });
    log.push(`got ${v}, being cancelled: ${isBeingCancelled()}`);
    try {
      yield* pause();
    } catch (error) {
      log.push(error instanceof Cancelled ? "then Cancelled" : "then something else");
      throw error;
    }
  });
  host.pump();
  resolve!("data");
  task.cancel();
  host.pump();
  assert.deepEqual(log, ["got data, being cancelled: true", "then Cancelled"]);
  assert.throws(() => task.tryWait(), Cancelled);
});

testOnEveryDriver("only the first of several resolve/reject calls counts", async (run) => {
  const value = await run(function* () {
    return yield* action<number>((resolve, reject) => {
      setTimeout(() => {
        resolve(1);
        resolve(2);
        reject(new Error("late"));
      }, 1);
    });
  });
  assert.equal(value, 1);
});

testOnEveryDriver("an already-cancelled task does not start the executor", async (run) => {
  let started = false;
  const log: string[] = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const task = group.spawn(function* () {
        task.cancel();
        try {
          yield* action<void>(() => {
            started = true;
          });
        } catch (error) {
          log.push(error instanceof Cancelled ? "Cancelled" : "other");
        }
      });
    });
  });
  assert.equal(started, false);
  assert.deepEqual(log, ["Cancelled"]);
});

testOnEveryDriver("an executor that throws fails the call with that error", async (run) => {
  const boom = new Error("executor failed");
  await assert.rejects(
    run(function* () {
      yield* action<void>(() => {
        throw boom;
      });
    }),
    (error) => error === boom,
  );
});

testOnEveryDriver("bad executors are rejected with a TypeError naming the argument", async (run) => {
  await assert.rejects(
    run(function* () {
      yield* action(42 as never);
    }),
    (error) => error instanceof TypeError && /executor/.test((error as Error).message),
  );
  await assert.rejects(
    run(function* () {
      yield* action(() => 5 as never);
    }),
    (error) => error instanceof TypeError && /cleanup/.test((error as Error).message),
  );
});

test("action outside any task throws WeftUsageError", () => {
  assert.throws(() => action(() => {}).next(), WeftUsageError);
});

test("a task waiting in an action keeps the event loop's run alive until the callback", async () => {
  const started = Date.now();
  await run(function* () {
    yield* action<void>((resolve) => {
      const id = setTimeout(resolve, 30);
      return () => clearTimeout(id);
    });
    yield* sleep(1);
  });
  assert.ok(Date.now() - started >= 25);
});
