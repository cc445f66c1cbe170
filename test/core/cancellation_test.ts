/**
 * Cancellation: how a task learns it was cancelled, what cancelling does to a
 * group, and the edge cases of cancelling around a task's start and its
 * wake-ups (docs/semantics.md, «Cancellation», «Shielding», «Groups»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  checkCancellation,
  isBeingCancelled,
  isCancellationError,
  pause,
  protectFromCancel,
  run as runOnLoop,
  sleep,
  suppressedErrors,
  withCancellationHandler,
  withTaskGroup,
  type Task,
} from "../../src/index.ts";
import { Boom, Log, nameOf, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

/** One time unit (ms): small on the real event loop, exact on virtual time. */
const U = 50;

// ── scenarios from moonbitlang/async's tests ──────────────────────────────────

testOnEveryDriver("cancelling a task by hand runs its cancellation handler; the group still succeeds", async (run) => {
  const log = new Log();
  let handle: Task<void> | undefined;
  const value = await run(function* () {
    return yield* withTaskGroup<string>(function* (group) {
      const task = group.spawn(function* () {
        yield* withCancellationHandler(
          function* () {
            yield* sleep(40 * U);
            log.add("task finished");
          },
          function* () {
            log.add("cancelled");
          },
        );
      });
      handle = task;
      yield* sleep(U);
      task.cancel();
      yield* sleep(2 * U);
      log.add("main task exit");
      return "ok";
    });
  });
  assert.equal(value, "ok");
  assertEvents(run, log.entries, ["cancelled", "main task exit"]);
  assert.equal(handle!.done, true);
  assert.throws(() => handle!.tryWait(), Cancelled);
});

testOnEveryDriver("a failing task cancels its siblings and its error leaves the group", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        group.startSoon(function* () {
          yield* sleep(3 * U);
          throw boom;
        });
        group.startSoon(function* () {
          yield* withCancellationHandler(
            function* () {
              yield* sleep(2 * U);
              log.add("task 2, tick 1");
              yield* sleep(40 * U);
              log.add("task 2, tick 2");
            },
            function* () {
              log.add("task 2 cancelled");
            },
          );
        });
      });
    }),
  );
  assert.equal(error, boom);
  assert.deepEqual(suppressedErrors(error), []);
  assertEvents(run, log.entries, ["task 2, tick 1", "task 2 cancelled"]);
});

testOnEveryDriver("a failure in one nested group does not reach a sibling group", async (run) => {
  const log = new Log();
  const boom1 = new Boom("ctx 1 failure");
  const boom2 = new Boom("ctx 2 failure");
  const scope = (name: string, boom: Boom, failAt: number, otherFinishesAt: number) =>
    function* () {
      try {
        yield* withTaskGroup(function* (ctx) {
          ctx.startSoon(function* () {
            yield* sleep(failAt);
            throw boom;
          });
          ctx.startSoon(function* () {
            yield* withCancellationHandler(
              function* () {
                yield* sleep(otherFinishesAt);
                log.add(`${name} task 2 finished`);
              },
              function* () {
                log.add(`${name} task 2 cancelled`);
              },
            );
          });
        });
        log.add(`${name} finished normally`);
      } catch (error) {
        log.add(`${name} received ${(error as Error).message}`);
      }
    };
  const value = await run(function* () {
    return yield* withTaskGroup(function* (root) {
      root.startSoon(scope("ctx 1", boom1, 2 * U, 40 * U));
      root.startSoon(scope("ctx 2", boom2, 5 * U, 3 * U));
      return "root ok";
    });
  });
  assert.equal(value, "root ok");
  assertEvents(run, log.entries, [
    "ctx 1 task 2 cancelled",
    "ctx 1 received ctx 1 failure",
    "ctx 2 task 2 finished",
    "ctx 2 received ctx 2 failure",
  ]);
});

testOnEveryDriver("cancellation is sticky: every later suspension throws at once, and the task may still finish", async (run) => {
  const log = new Log();
  let handle: Task<string> | undefined;
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      root.startSoon(function* () {
        for (let i = 0; i < 2; i++) {
          yield* sleep(4 * U);
          log.add("tick");
        }
      });
      const task = root.spawn(function* () {
        try {
          yield* sleep(40 * U);
          log.add("first sleep returned");
        } catch (error) {
          log.add(`first sleep threw ${nameOf(error)}`);
        }
        log.add(`being cancelled: ${isBeingCancelled()}`);
        try {
          yield* sleep(10 * U);
          log.add("second sleep returned");
        } catch (error) {
          log.add(`second sleep threw ${nameOf(error)}`);
        }
        try {
          yield* pause();
          log.add("pause returned");
        } catch (error) {
          log.add(`pause threw ${nameOf(error)}`);
        }
        try {
          checkCancellation();
          log.add("checkCancellation passed");
        } catch (error) {
          log.add(`checkCancellation threw ${nameOf(error)}`);
        }
        log.add("task finished");
        return "done";
      });
      handle = task;
      yield* sleep(6 * U);
      task.cancel();
      log.add("main task exit");
    });
  });
  assertEvents(run, log.entries, [
    "tick",
    "main task exit",
    "first sleep threw Cancelled",
    "being cancelled: true",
    "second sleep threw Cancelled",
    "pause threw Cancelled",
    "checkCancellation threw Cancelled",
    "task finished",
    "tick",
  ]);
  // It caught every Cancelled and returned: a normal end, with its value.
  assert.equal(handle!.tryWait(), "done");
});

testOnEveryDriver("a task spawned into a nested group that fails at once fails the enclosing groups", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (root) {
        root.startSoon(function* () {
          yield* withTaskGroup(function* (group) {
            yield* sleep(1);
            group.startSoon(function* () {
              throw boom;
            });
            log.add("after spawn");
            yield* sleep(40 * U);
            log.add("main task exit");
          });
        });
        yield* sleep(40 * U);
        log.add("root body done");
      });
    }),
  );
  assert.equal(error, boom);
  assertEvents(run, log.entries, ["after spawn"]);
});

testOnEveryDriver("a daemon task's error during its cancellation turns a finished group into a failure", async (run) => {
  const log = new Log();
  const boom = new Boom();
  const error = await rejection(
    run(function* () {
      return yield* withTaskGroup<string>(function* (root) {
        root.startSoon(
          function* () {
            try {
              yield* sleep(40 * U);
            } catch {
              log.add("causing other error in cancellation handler");
              throw boom;
            }
          },
          { daemon: true },
        );
        yield* sleep(2 * U);
        return "would have succeeded";
      });
    }),
  );
  assert.equal(error, boom);
  assertEvents(run, log.entries, ["causing other error in cancellation handler"]);
});

testOnEveryDriver("a task cancelled before it started still runs up to its first suspension, and its finally", async (run) => {
  const log = new Log();
  let handle: Task<void> | undefined;
  await run(function* () {
    yield* withTaskGroup(function* (root) {
      const task = root.spawn(function* () {
        try {
          log.add("task started");
          yield* sleep(U);
          log.add("task finished");
        } catch (error) {
          log.add(`task got ${nameOf(error)}`);
          throw error;
        } finally {
          log.add("task terminated");
        }
      });
      handle = task;
      log.add("task spawned");
      task.cancel();
      log.add(`done right after cancel: ${task.done}`);
    });
  });
  assertEvents(run, log.entries, [
    "task spawned",
    "done right after cancel: false",
    "task started",
    "task got Cancelled",
    "task terminated",
  ]);
  assert.throws(() => handle!.tryWait(), Cancelled);
});

testOnEveryDriver(
  "spawning into a group that has already failed starts the child, which is cancelled at its first suspension",
  async (run) => {
    const log = new Log();
    const failure = new Boom("failure");
    const error = await rejection(
      run(function* () {
        yield* withTaskGroup(function* (group) {
          group.startSoon(function* () {
            throw failure;
          });
          group.startSoon(function* () {
            group.startSoon(function* () {
              log.add("late child started");
              try {
                yield* sleep(U);
                log.add("late child finished");
              } catch (error) {
                log.add(`late child got ${nameOf(error)}`);
                throw error;
              }
            });
            log.add("spawned into the failed group");
          });
        });
      }),
    );
    assert.equal(error, failure);
    // The late child's Cancelled is a normal end, not a failure to record.
    assert.deepEqual(suppressedErrors(error), []);
    assertEvents(run, log.entries, ["spawned into the failed group", "late child started", "late child got Cancelled"]);
  },
);

testOnEveryDriver("a task cancelled and woken in the same round is resumed once", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (outer) {
      yield* withTaskGroup(function* (inner) {
        outer.startSoon(
          function* () {
            for (let i = 1; ; i++) {
              yield* pause();
              log.add(`round #${i}`);
            }
          },
          { daemon: true },
        );
        // In one round: this task cancels every task of `inner` (the body
        // included), then `task1` finishes and wakes the body too.
        inner.startSoon(function* () {
          inner.returnImmediately(undefined);
        });
        const task1 = inner.spawn(function* () {});
        try {
          yield* task1.wait();
          log.add("inner body was not cancelled");
        } catch (error) {
          log.add("inner group main task cancelled");
          yield* protectFromCancel(function* () {
            yield* pause();
            log.add("inner group main task cleanup completed");
          });
          throw error;
        }
      });
    });
  });
  assert.deepEqual(log.entries, [
    "round #1",
    "inner group main task cancelled",
    "round #2",
    "inner group main task cleanup completed",
    "round #3",
  ]);
});

// ── further behaviour (docs/semantics.md, «Shielding», «Groups») ───────────────────────────────────

testOnEveryDriver("cancel and completion in the same round: the waiter is woken once and its protected sleep lasts", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(U);
        log.add("tick 1");
        yield* sleep(2 * U);
        log.add("tick 3");
      });
      let target: Task<number> | undefined = undefined;
      const waiter = group.spawn(function* () {
        try {
          yield* target!.wait();
          log.add("waiter got the value");
        } catch (error) {
          log.add(`waiter got ${nameOf(error)}`);
          yield* protectFromCancel(() => sleep(2 * U));
          log.add("waiter cleanup done");
          throw error;
        }
      });
      // Spawned after the waiter: in the round where the waiter has parked,
      // the canceller runs, then the target ends and wakes the waiter too.
      group.startSoon(function* () {
        waiter.cancel();
      });
      target = group.spawn(function* () {
        return 7;
      });
    });
  });
  assertEvents(run, log.entries, ["waiter got Cancelled", "tick 1", "waiter cleanup done", "tick 3"]);
});

testOnEveryDriver("cancelling twice is the same as once; cancelling a finished task changes nothing", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      const sleeper = group.spawn(function* () {
        yield* withCancellationHandler(
          () => sleep(40 * U),
          function* () {
            log.add("handler");
          },
        );
      });
      const quick = group.spawn(function* () {
        return 5;
      });
      yield* sleep(U);
      sleeper.cancel();
      sleeper.cancel();
      quick.cancel();
      yield* sleep(U);
      sleeper.cancel();
      return yield* quick.wait();
    });
  });
  assert.equal(result, 5);
  assertEvents(run, log.entries, ["handler"]);
});

testOnEveryDriver("a task cancelled before it started, with no suspension point, completes with its value", async (run) => {
  const log = new Log();
  const value = await run(function* () {
    return yield* withTaskGroup<number>(function* (group) {
      const task = group.spawn(function* () {
        log.add(`started, being cancelled: ${isBeingCancelled()}`);
        return 42;
      });
      task.cancel();
      return yield* task.wait();
    });
  });
  assert.equal(value, 42);
  assert.deepEqual(log.entries, ["started, being cancelled: true"]);
});

testOnEveryDriver("a cancellation handler's own unprotected suspension throws at once", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (group) {
      group.startSoon(function* () {
        yield* sleep(2 * U);
        log.add("tick");
      });
      const task = group.spawn(function* () {
        yield* withCancellationHandler(
          () => sleep(40 * U),
          function* () {
            log.add("handler");
            try {
              yield* sleep(U);
              log.add("handler slept");
            } catch (error) {
              log.add(`handler sleep threw ${nameOf(error)}`);
              throw error;
            }
          },
        );
      });
      // Runs once the task sleeps, long before the tick.
      yield* pause();
      task.cancel();
    });
  });
  assertEvents(run, log.entries, ["handler", "handler sleep threw Cancelled", "tick"]);
});

testOnEveryDriver("an error thrown by the cancellation handler replaces Cancelled and fails the group", async (run) => {
  const log = new Log();
  const boom = new Boom("handler failed");
  const error = await rejection(
    run(function* () {
      yield* withTaskGroup(function* (group) {
        const task = group.spawn(function* () {
          yield* withCancellationHandler(
            () => sleep(40 * U),
            function* () {
              log.add("handler");
              throw boom;
            },
          );
        });
        yield* sleep(U);
        task.cancel();
        yield* sleep(40 * U);
        log.add("body not cancelled");
      });
    }),
  );
  assert.equal(error, boom);
  assertEvents(run, log.entries, ["handler"]);
});

testOnEveryDriver("withCancellationHandler reacts to any Cancelled and lets values and other errors through", async (run) => {
  const log = new Log();
  const own = new Cancelled("thrown by the body itself");
  const boom = new Boom();
  await run(function* () {
    const handler = (name: string) =>
      function* () {
        log.add(`handler ${name}`);
      };
    // A Cancelled thrown by the body runs the handler although nobody cancelled the task.
    try {
      yield* withCancellationHandler(function* () {
        yield* sleep(1);
        throw own;
      }, handler("a"));
    } catch (error) {
      log.add(`a: ${error === own ? "same Cancelled" : "other"}; being cancelled: ${isBeingCancelled()}`);
    }
    // Another error passes through without the handler.
    try {
      yield* withCancellationHandler(function* () {
        yield* sleep(1);
        throw boom;
      }, handler("b"));
    } catch (error) {
      log.add(`b: ${error === boom ? "same Boom" : "other"}`);
    }
    // A value passes through without the handler.
    const value = yield* withCancellationHandler(function* () {
      yield* sleep(1);
      return 3;
    }, handler("c"));
    log.add(`c: ${value}`);
  });
  assertEvents(run, log.entries, ["handler a", "a: same Cancelled; being cancelled: false", "b: same Boom", "c: 3"]);
  assert.equal(isCancellationError(own), true);
  assert.equal(isCancellationError(boom), false);
});

test("isBeingCancelled is false and checkCancellation passes outside any task", () => {
  assert.equal(isBeingCancelled(), false);
  assert.doesNotThrow(() => checkCancellation());
});

testOnEveryDriver(
  "a task already cancelled when it enters a group: the body starts, stops at its first suspension, the group throws Cancelled",
  async (run) => {
    const log = new Log();
    await run(function* () {
      yield* withTaskGroup(function* (outer) {
        let self: Task<void> | undefined = undefined;
        self = outer.spawn(function* () {
          self!.cancel();
          try {
            yield* withTaskGroup(function* (inner) {
              log.add("inner body started");
              inner.startSoon(function* () {
                log.add("inner child started");
                yield* sleep(U);
                log.add("inner child finished");
              });
              try {
                yield* sleep(U);
                log.add("inner body slept");
              } catch (error) {
                log.add(`inner body got ${nameOf(error)}`);
                throw error;
              }
            });
            log.add("inner group returned");
          } catch (error) {
            log.add(`inner group threw ${nameOf(error)}`);
            throw error;
          }
        });
      });
    });
    assertEvents(run, log.entries, [
      "inner body started",
      "inner body got Cancelled",
      "inner child started",
      "inner group threw Cancelled",
    ]);
  },
);

testOnEveryDriver("a group that already finished returns its value although its caller was cancelled meanwhile", async (run) => {
  const log = new Log();
  await run(function* () {
    yield* withTaskGroup(function* (outer) {
      let caller: Task<void> | undefined = undefined;
      caller = outer.spawn(function* () {
        const value = yield* withTaskGroup<number>(function* (inner) {
          // The last child of the group: it cancels the group's caller and
          // ends, so the group is done before the caller runs again.
          inner.startSoon(function* () {
            caller!.cancel();
          });
          return 5;
        });
        log.add(`group returned ${value}`);
        try {
          yield* sleep(U);
          log.add("slept");
        } catch (error) {
          log.add(`next suspension threw ${nameOf(error)}`);
          throw error;
        }
      });
    });
  });
  assertEvents(run, log.entries, ["group returned 5", "next suspension threw Cancelled"]);
});

// ── the Cancelled a parked task sees ─────────────────────────────────────────

testOnEveryDriver("tasks cancelled while parked share one stackless Cancelled outside debug mode", async (run) => {
  const seen: unknown[] = [];
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          try {
            yield* sleep(3_600_000);
          } catch (error) {
            seen.push(error);
            throw error;
          }
        });
      }
      yield* pause();
      group.returnImmediately(undefined);
    });
  });
  assert.equal(seen.length, 3);
  assert.ok(seen[0] instanceof Cancelled);
  assert.ok(seen.every((error) => error === seen[0]));
  assert.ok(!/\n\s+at /.test((seen[0] as Error).stack ?? ""), "no stack frames");
});

test("in debug mode each task cancelled while parked gets its own Cancelled naming the task", async () => {
  const seen: Cancelled[] = [];
  await runOnLoop(
    function* () {
      yield* withTaskGroup<void>(function* (group) {
        for (let i = 0; i < 2; i++) {
          group.startSoon(function* () {
            try {
              yield* sleep(3_600_000);
            } catch (error) {
              seen.push(error as Cancelled);
              throw error;
            }
          });
        }
        yield* pause();
        group.returnImmediately(undefined);
      });
    },
    { debug: true },
  );
  assert.equal(seen.length, 2);
  assert.notEqual(seen[0], seen[1]);
  for (const error of seen) {
    assert.ok(error instanceof Cancelled);
    assert.match(error.message, /^task #\d+ spawned .+ was cancelled$/);
  }
});

testOnEveryDriver("a suppressed error is never recorded on the shared Cancelled", async (run) => {
  // A task keeps the Cancelled it caught; a task of another group later fails with it
  // (not cancelled itself, so it is a failure) and a sibling's cleanup fails during the
  // unwinding: that later error must go on the group's outcome, not on the instance
  // every cancelled task shares.
  let kept: unknown;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* sleep(3_600_000);
        } catch (error) {
          kept = error;
          throw error;
        }
      });
      yield* pause();
      group.returnImmediately(undefined);
    });
  });
  assert.ok(kept instanceof Cancelled);
  const cleanupFailure = new Boom("cleanup failed");
  const outcome = await rejection(
    run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          try {
            yield* sleep(3_600_000);
          } finally {
            throw cleanupFailure;
          }
        });
        yield* pause();
        throw kept;
      });
    }),
  );
  assert.ok(outcome instanceof Cancelled);
  assert.deepEqual(suppressedErrors(outcome), [cleanupFailure]);
  assert.deepEqual(suppressedErrors(kept), []);
  // And the next cancellation is still the clean shared instance.
  let next: unknown;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* sleep(3_600_000);
        } catch (error) {
          next = error;
          throw error;
        }
      });
      yield* pause();
      group.returnImmediately(undefined);
    });
  });
  assert.equal(next, kept);
  assert.deepEqual(suppressedErrors(next), []);
});
