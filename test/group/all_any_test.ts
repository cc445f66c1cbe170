/**
 * all / any (docs/semantics.md, «All and any»: the first success of `any` wins, and
 * `any([])` throws RangeError).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { all, any, now, protectFromCancel, sleep, withTimeoutOpt, type Operation } from "../../src/index.ts";
import { drivers, Log, testOnEveryDriver, type Runner, assertEvents } from "../support.ts";

/** Like testOnEveryDriver, but hands the scenario `exact` (a deterministic clock: exact times). */
function testTimed(name: string, fn: (run: Runner, exact: boolean) => Promise<void>): void {
  for (const driver of drivers) test(`${name} [${driver.driver}]`, () => fn(driver, driver.exact));
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}

/** A task that sleeps `ms`, logs how it ended, and returns `idx`. */
function logged(log: Log, idx: number, ms: number): () => Operation<number> {
  return function* () {
    try {
      yield* sleep(ms);
    } catch (e) {
      log.add(`task #${idx} cancelled with ${errorName(e)}`);
      throw e;
    }
    log.add(`task #${idx} completed`);
    return idx;
  };
}

class Failure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Failure";
  }
}

// ── all ──────────────────────────────────────────────────────────────────────

testTimed("all runs the bodies concurrently and returns their values in input order", async (run, exact) => {
  let elapsed = -1;
  const results = await run(function* () {
    const start = now();
    const r = yield* all<number>([
      function* () {
        yield* sleep(80);
        return 1;
      },
      function* () {
        yield* sleep(40);
        return 2;
      },
      function* () {
        return 3;
      },
    ]);
    elapsed = now() - start;
    return r;
  });
  assert.deepEqual(results, [1, 2, 3]);
  // Concurrent: the time of the longest body, not the sum (120).
  if (exact) assert.equal(elapsed, 80);
  else assert.ok(elapsed >= 79, `elapsed ${elapsed}`);
});

testOnEveryDriver("all keeps input order even though the bodies finish in another order", async (run) => {
  const log = new Log();
  const results = await run(function* () {
    return yield* all<number>([
      function* () {
        yield* sleep(120);
        log.add("task 0");
        return 0;
      },
      function* () {
        yield* sleep(40);
        log.add("task 1");
        return 1;
      },
      function* () {
        log.add("task 2");
        return 2;
      },
    ]);
  });
  assertEvents(run, log.entries, ["task 2", "task 1", "task 0"]);
  assert.deepEqual(results, [0, 1, 2]);
});

testOnEveryDriver("all with maxConcurrent starts the next body only when a running one ends", async (run) => {
  const log = new Log();
  const task = (idx: number, ms: number) =>
    function* (): Operation<number> {
      log.add(`task #${idx} started`);
      try {
        yield* sleep(ms);
        return idx;
      } finally {
        log.add(`task #${idx} completed`);
      }
    };
  const results = await run(function* () {
    return yield* all([task(1, 80), task(2, 40), task(3, 80)], { maxConcurrent: 2 });
  });
  assert.deepEqual(results, [1, 2, 3]);
  assertEvents(run, log.entries, [
    "task #1 started",
    "task #2 started",
    "task #2 completed",
    "task #3 started",
    "task #1 completed",
    "task #3 completed",
  ]);
});

testOnEveryDriver("all of nothing is an empty array", async (run) => {
  const results = await run(function* () {
    return yield* all<number>([]);
  });
  assert.deepEqual(results, []);
});

testOnEveryDriver("all of a single body is its value in an array", async (run) => {
  const results = await run(function* () {
    return yield* all([
      function* () {
        return 42;
      },
    ]);
  });
  assert.deepEqual(results, [42]);
});

testOnEveryDriver("all: the first failure cancels the other bodies and is thrown", async (run) => {
  const log = new Log();
  const failure = new Failure("Err");
  await assert.rejects(
    run(function* () {
      return yield* all<number>([
        logged(log, 1, 40),
        function* () {
          yield* sleep(80);
          log.add("task #2 failing");
          throw failure;
        },
        logged(log, 3, 10_000),
      ]);
    }),
    (e) => e === failure,
  );
  assertEvents(run, log.entries, ["task #1 completed", "task #2 failing", "task #3 cancelled with Cancelled"]);
});

testOnEveryDriver("all is cancelled with its caller: an outer timeout cancels the running bodies", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* withTimeoutOpt(80, () => all([logged(log, 1, 10_000), logged(log, 2, 30)]));
  });
  assert.equal(result, undefined);
  assertEvents(run, log.entries, ["task #2 completed", "task #1 cancelled with Cancelled"]);
});

// ── any ──────────────────────────────────────────────────────────────────────

testTimed("any returns the value of the fastest body as soon as it succeeds", async (run, exact) => {
  let elapsed = -1;
  const result = await run(function* () {
    const start = now();
    const r = yield* any<number>([
      function* () {
        yield* sleep(300);
        return 1;
      },
      function* () {
        yield* sleep(40);
        return 2;
      },
      function* () {
        yield* sleep(150);
        return 3;
      },
    ]);
    elapsed = now() - start;
    return r;
  });
  assert.equal(result, 2);
  if (exact) assert.equal(elapsed, 40);
  else assert.ok(elapsed >= 39, `elapsed ${elapsed}`);
});

testOnEveryDriver("any cancels the other bodies, in input order, once one succeeds", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    // The losers end far later, #1 after #3: they are cancelled in input order, not deadline order.
    return yield* any([logged(log, 1, 20_000), logged(log, 2, 40), logged(log, 3, 10_000)]);
  });
  assert.equal(result, 2);
  assert.deepEqual(log.entries, ["task #2 completed", "task #1 cancelled with Cancelled", "task #3 cancelled with Cancelled"]);
});

testOnEveryDriver("any without allowFailure: a failure fails the call and cancels the rest", async (run) => {
  const log = new Log();
  const failure = new Failure("Err");
  await assert.rejects(
    run(function* () {
      return yield* any<number>([
        logged(log, 1, 10_000),
        function* () {
          yield* sleep(40);
          throw failure;
        },
      ]);
    }),
    (e) => e === failure,
  );
  assertEvents(run, log.entries, ["task #1 cancelled with Cancelled"]);
});

testOnEveryDriver("any with allowFailure ignores failures while a body may still succeed", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* any<number>(
      [
        function* () {
          yield* sleep(80);
          log.add("task #1 failing");
          throw new Failure("first");
        },
        function* () {
          yield* sleep(40);
          log.add("task #2 failing");
          throw new Failure("second");
        },
        function* () {
          yield* sleep(120);
          log.add("task #3 completed");
          return 2;
        },
      ],
      { allowFailure: true },
    );
  });
  assert.equal(result, 2);
  assertEvents(run, log.entries, ["task #2 failing", "task #1 failing", "task #3 completed"]);
});

testOnEveryDriver("any with allowFailure, all failing: the failure that happened last is thrown", async (run) => {
  const log = new Log();
  const late = new Failure("late");
  const early = new Failure("early");
  await assert.rejects(
    run(function* () {
      return yield* any<number>(
        [
          function* () {
            yield* sleep(80);
            log.add("task #1 failing");
            throw late;
          },
          function* () {
            yield* sleep(40);
            log.add("task #2 failing");
            throw early;
          },
        ],
        { allowFailure: true },
      );
    }),
    (e) => e === late,
  );
  assertEvents(run, log.entries, ["task #2 failing", "task #1 failing"]);
});

testOnEveryDriver("any of a single body is its value", async (run) => {
  const result = await run(function* () {
    return yield* any([
      function* () {
        return 42;
      },
    ]);
  });
  assert.equal(result, 42);
});

testOnEveryDriver("any of nothing throws RangeError", async (run) => {
  await assert.rejects(
    run(function* () {
      return yield* any<number>([]);
    }),
    (e) => e instanceof RangeError && /any\(\)/.test(e.message) && /empty/.test(e.message),
  );
});

testOnEveryDriver("any is cancelled with its caller: an outer timeout cancels every body in order", async (run) => {
  const log = new Log();
  const result = await run(function* () {
    return yield* withTimeoutOpt(40, () => any([logged(log, 1, 10_000), logged(log, 2, 10_000)]));
  });
  assert.equal(result, undefined);
  assertEvents(run, log.entries, ["task #1 cancelled with Cancelled", "task #2 cancelled with Cancelled"]);
});

testTimed("any: the first success wins, a later success does not replace it (weft differs from moonbitlang/async)", async (run, exact) => {
  const log = new Log();
  let elapsed = -1;
  const result = await run(function* () {
    const start = now();
    const r = yield* any<string>([
      function* () {
        // Cannot be cut short: it still completes after the first success.
        yield* protectFromCancel(() => sleep(80));
        log.add("slow body completed");
        return "slow";
      },
      function* () {
        yield* sleep(40);
        log.add("fast body completed");
        return "fast";
      },
    ]);
    elapsed = now() - start;
    return r;
  });
  assertEvents(run, log.entries, ["fast body completed", "slow body completed"]);
  assert.equal(result, "fast");
  // any still waited for the protected body before returning.
  if (exact) assert.equal(elapsed, 80);
  else assert.ok(elapsed >= 79, `elapsed ${elapsed}`);
});
