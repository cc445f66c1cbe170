/**
 * `run(body, options)` on the event loop (docs/semantics.md, «Drivers», «Interop»): the
 * promise carries the body's value or its error, an AbortSignal cancels the
 * task and the promise settles only after cleanup, and runs started from
 * inside a task share one scheduler.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  action,
  isBeingCancelled,
  pause,
  protectFromCancel,
  run,
  sleep,
  withTaskGroup,
  type Operation,
} from "../../src/index.ts";

/** Waits, inside a task, for a promise (via `action`, the one callback adapter). */
function* awaitPromise<T>(promise: Promise<T>): Operation<T> {
  return yield* action<T>((resolve, reject) => {
    promise.then(resolve, reject);
  });
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

test("run resolves with the body's value", async () => {
  assert.equal(
    await run(function* () {
      return 42;
    }),
    42,
  );
  const value = await run(function* () {
    yield* sleep(5);
    yield* pause();
    return { answer: "after suspending" };
  });
  assert.deepEqual(value, { answer: "after suspending" });
});

test("run rejects with the body's own error, before and after suspending", async () => {
  const early = new Error("early");
  await assert.rejects(
    run(function* () {
      throw early;
    }),
    (e) => e === early,
  );
  const late = new RangeError("late");
  await assert.rejects(
    run(function* () {
      yield* sleep(5);
      throw late;
    }),
    (e) => e === late,
  );
});

test("run rejects with a non-Error value thrown by the body, unchanged", async () => {
  await assert.rejects(
    run(function* () {
      yield* pause();
      throw "a plain string";
    }),
    (e) => e === "a plain string",
  );
});

test("run rejects with the error of a failing child, after its siblings cleaned up", async () => {
  const log: string[] = [];
  const boom = new Error("child");
  const promise = run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* sleep(10_000);
        } finally {
          log.push("sibling finally");
        }
      });
      group.startSoon(function* () {
        yield* sleep(10);
        throw boom;
      });
    });
  });
  promise.catch(() => log.push("rejected"));
  await assert.rejects(promise, (e) => e === boom);
  assert.deepEqual(log, ["sibling finally", "rejected"]);
});

test("run checks its arguments", () => {
  assert.throws(() => run(42 as unknown as () => Operation<void>), TypeError);
  assert.throws(() => run(function* () {}, { signal: "nope" as unknown as AbortSignal }), TypeError);
});

// ── AbortSignal ──────────────────────────────────────────────────────────────

test("aborting the signal cancels the task; the promise rejects with Cancelled after cleanup", async () => {
  const log: string[] = [];
  const controller = new AbortController();
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const promise = run(
    function* () {
      try {
        started();
        yield* sleep(60_000);
        log.push("slept (wrong)");
      } catch (e) {
        log.push(e instanceof Cancelled ? "caught Cancelled" : `caught ${String(e)}`);
        throw e;
      } finally {
        log.push("finally start");
        // Cleanup that itself takes time: the promise must wait for it.
        yield* protectFromCancel(() => sleep(20));
        log.push("finally end");
      }
    },
    { signal: controller.signal },
  );
  promise.then(
    () => log.push("resolved (wrong)"),
    (e) => log.push(e instanceof Cancelled ? "rejected Cancelled" : `rejected ${String(e)}`),
  );
  await running;
  await tick(10);
  assert.deepEqual(log, []);
  controller.abort();
  assert.deepEqual(log, [], "abort must not run the task synchronously");
  await assert.rejects(promise, Cancelled);
  assert.deepEqual(log, ["caught Cancelled", "finally start", "finally end", "rejected Cancelled"]);
});

test("aborting cancels the whole tree: children's finally blocks run before the promise rejects", async () => {
  const log: string[] = [];
  const controller = new AbortController();
  const promise = run(
    function* () {
      try {
        yield* withTaskGroup<void>(function* (group) {
          for (const name of ["a", "b"]) {
            group.startSoon(function* () {
              try {
                yield* sleep(60_000);
              } finally {
                yield* protectFromCancel(() => sleep(name === "a" ? 20 : 5));
                log.push(`${name} finally`);
              }
            });
          }
          yield* sleep(60_000);
        });
      } finally {
        log.push("root finally");
      }
    },
    { signal: controller.signal },
  );
  promise.catch(() => log.push("rejected"));
  await tick(15);
  controller.abort();
  await assert.rejects(promise, Cancelled);
  assert.deepEqual(log, ["b finally", "a finally", "root finally", "rejected"]);
});

test("an already-aborted signal: the task starts and is cancelled at its first suspension point", async () => {
  const log: string[] = [];
  const controller = new AbortController();
  controller.abort();
  const promise = run(
    function* () {
      log.push("started");
      try {
        yield* sleep(60_000);
        log.push("slept (wrong)");
      } finally {
        log.push(`finally cancelled=${isBeingCancelled()}`);
      }
    },
    { signal: controller.signal },
  );
  await assert.rejects(promise, Cancelled);
  assert.deepEqual(log, ["started", "finally cancelled=true"]);
});

test("aborting after the run finished changes nothing", async () => {
  const controller = new AbortController();
  const value = await run(
    function* () {
      yield* pause();
      return "done";
    },
    { signal: controller.signal },
  );
  controller.abort();
  assert.equal(value, "done");
  // The same signal, now aborted, still cancels a new run.
  await assert.rejects(
    run(
      function* () {
        yield* sleep(60_000);
      },
      { signal: controller.signal },
    ),
    Cancelled,
  );
});

test("one signal cancels only the runs it was given", async () => {
  const controller = new AbortController();
  const cancelled = run(
    function* () {
      yield* sleep(60_000);
    },
    { signal: controller.signal },
  );
  const other = run(function* () {
    yield* sleep(40);
    return "other finished";
  });
  await tick(5);
  controller.abort();
  await assert.rejects(cancelled, Cancelled);
  assert.equal(await other, "other finished");
});

// ── nested runs ──────────────────────────────────────────────────────────────

test("a run started from inside a task works and its promise can be awaited by the task", async () => {
  const value = await run(function* () {
    const inner = run(function* () {
      yield* sleep(5);
      return 20;
    });
    const got = yield* awaitPromise(inner);
    return got + 1;
  });
  assert.equal(value, 21);
});

test("a nested run's error reaches the outer task through its promise", async () => {
  const boom = new Error("inner failed");
  const outcome = await run(function* () {
    try {
      yield* awaitPromise(
        run(function* () {
          yield* pause();
          throw boom;
        }),
      );
      return "no error (wrong)";
    } catch (e) {
      return e;
    }
  });
  assert.equal(outcome, boom);
});

test("nested runs share the scheduler: their tasks interleave round by round", async () => {
  // Two tasks that pause in a loop on one scheduler alternate strictly, one
  // step per round. On separate schedulers each would run its whole loop in
  // its own drain (pause() skips the switch when the task is alone).
  const log: string[] = [];
  const value = await run(function* () {
    const inner = run(function* () {
      for (let i = 0; i < 4; i++) {
        log.push(`inner ${i}`);
        yield* pause();
      }
      return "inner done";
    });
    for (let i = 0; i < 4; i++) {
      log.push(`outer ${i}`);
      yield* pause();
    }
    return yield* awaitPromise(inner);
  });
  assert.equal(value, "inner done");
  assert.deepEqual(log, ["outer 0", "inner 0", "outer 1", "inner 1", "outer 2", "inner 2", "outer 3", "inner 3"]);
});

test("cancelling the outer run does not cancel a run it started", async () => {
  const controller = new AbortController();
  let inner: Promise<string> | undefined;
  const outer = run(
    function* () {
      inner = run(function* () {
        yield* sleep(30);
        return "inner survived";
      });
      yield* sleep(60_000);
    },
    { signal: controller.signal },
  );
  await tick(5);
  controller.abort();
  await assert.rejects(outer, Cancelled);
  assert.ok(inner !== undefined);
  assert.equal(await inner, "inner survived");
});

// ── debug mode ───────────────────────────────────────────────────────────────

test("run(body, { debug: true }) runs the body and reports its value and errors", async () => {
  const value = await run(
    function* () {
      return yield* withTaskGroup<number>(function* (group) {
        const a = group.spawn(function* () {
          yield* sleep(5);
          return 2;
        });
        const b = group.spawn(function* () {
          yield* pause();
          return 3;
        });
        return (yield* a.wait()) * (yield* b.wait());
      });
    },
    { debug: true },
  );
  assert.equal(value, 6);
  const boom = new Error("debug boom");
  await assert.rejects(
    run(
      function* () {
        yield* pause();
        throw boom;
      },
      { debug: true },
    ),
    (e) => e === boom,
  );
  // A normal run afterwards is unaffected.
  assert.equal(
    await run(function* () {
      return "plain";
    }),
    "plain",
  );
});

// ── many runs ────────────────────────────────────────────────────────────────

test("many concurrent runs each get their own value or error", async () => {
  const n = 500;
  const promises: Promise<number>[] = [];
  for (let i = 0; i < n; i++) {
    promises.push(
      run(function* () {
        yield* sleep(i % 7);
        yield* pause();
        if (i % 10 === 3) throw new Error(`run ${i} failed`);
        return i * 2;
      }),
    );
  }
  const settled = await Promise.allSettled(promises);
  for (let i = 0; i < n; i++) {
    const outcome = settled[i]!;
    if (i % 10 === 3) {
      assert.equal(outcome.status, "rejected", `run ${i}`);
      assert.equal((outcome as PromiseRejectedResult).reason.message, `run ${i} failed`);
    } else {
      assert.equal(outcome.status, "fulfilled", `run ${i}`);
      assert.equal((outcome as PromiseFulfilledResult<number>).value, i * 2);
    }
  }
});

test("concurrent runs interleave on one event loop: a short run finishes before a long one", async () => {
  const log: string[] = [];
  const long = run(function* () {
    yield* sleep(80);
    log.push("long");
  });
  const short = run(function* () {
    yield* sleep(10);
    log.push("short");
  });
  await Promise.all([long, short]);
  assert.deepEqual(log, ["short", "long"]);
});
