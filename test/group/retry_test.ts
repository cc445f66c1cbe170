/**
 * retry (docs/semantics.md, «Retry»): immediate / fixed / exponential back-off,
 * cancellation stops retrying, fatalError, maxRetry.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { now, retry, sleep, TimeoutError, withTimeout, type Operation } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { testOnEveryDriver, assertEvents } from "../support.ts";

class Flaky extends Error {
  constructor(readonly attempt: number) {
    super(`attempt ${attempt} failed`);
    this.name = "Flaky";
  }
}

test("retry immediate: failed attempts are retried at once, with no delay", async () => {
  const times: number[] = [];
  const { value, end } = await runVirtual(function* () {
    let i = 0;
    const value = yield* retry({ kind: "immediate" }, function* (): Operation<string> {
      times.push(now());
      i++;
      if (i < 3) throw new Flaky(i);
      return `succeeded on attempt ${i}`;
    });
    return { value, end: now() };
  });
  assert.equal(value, "succeeded on attempt 3");
  assert.deepEqual(times, [0, 0, 0]);
  assert.equal(end, 0);
});

test("retry fixedDelay: every retry waits the same delay", async () => {
  const times: number[] = [];
  const end = await runVirtual(function* () {
    let i = 0;
    yield* retry({ kind: "fixedDelay", delayMs: 200 }, function* () {
      times.push(now());
      i++;
      if (i < 3) throw new Flaky(i);
    });
    return now();
  });
  assert.deepEqual(times, [0, 200, 400]);
  assert.equal(end, 400);
});

test("retry exponentialDelay: delays grow by the factor up to the maximum", async () => {
  const times: number[] = [];
  const end = await runVirtual(function* () {
    let i = 0;
    yield* retry({ kind: "exponentialDelay", initialMs: 200, factor: 2, maximumMs: 600 }, function* () {
      times.push(now());
      i++;
      if (i < 5) throw new Flaky(i);
    });
    return now();
  });
  // Delays 200, 400, 600 (800 capped), 600.
  assert.deepEqual(times, [0, 200, 600, 1200, 1800]);
  assert.equal(end, 1800);
});

test("retry exponentialDelay rounds each next delay down", async () => {
  const times: number[] = [];
  await runVirtual(function* () {
    let i = 0;
    yield* retry({ kind: "exponentialDelay", initialMs: 10, factor: 1.5, maximumMs: 1000 }, function* () {
      times.push(now());
      i++;
      if (i < 5) throw new Flaky(i);
    });
  });
  // Delays 10, 15, 22 (floor 22.5), 33.
  assert.deepEqual(times, [0, 10, 25, 47, 80]);
});

testOnEveryDriver("cancellation stops retrying: a cancelled attempt is not retried (immediate)", async (run) => {
  const log: string[] = [];
  let attempts = 0;
  let caught: unknown;
  await run(function* () {
    try {
      yield* withTimeout(200, () =>
        retry({ kind: "immediate" }, function* () {
          attempts++;
          // Two attempts fail by themselves; the third would sleep far past the timeout.
          yield* sleep(attempts < 3 ? 0 : 10_000);
          log.push(`attempt ${attempts} failed`);
          throw new Flaky(attempts);
        }),
      );
    } catch (e) {
      caught = e;
    }
    // Retrying really stopped: nothing more happens later.
    yield* sleep(200);
  });
  assert.ok(caught instanceof TimeoutError, `got ${String(caught)}`);
  // Attempts 1 and 2 end at once; the third is cut at 200 and not retried.
  assertEvents(run, log, ["attempt 1 failed", "attempt 2 failed"]);
  assert.equal(attempts, 3);
});

testOnEveryDriver("cancellation stops retrying: a back-off sleep is cut short (fixedDelay)", async (run) => {
  const times: number[] = [];
  let caught: unknown;
  await run(function* () {
    const start = now();
    try {
      yield* withTimeout(200, () =>
        retry({ kind: "fixedDelay", delayMs: 10_000 }, function* () {
          times.push(now() - start);
          throw new Flaky(times.length);
        }),
      );
    } catch (e) {
      caught = e;
    }
    yield* sleep(200);
  });
  assert.ok(caught instanceof TimeoutError, `got ${String(caught)}`);
  // One attempt at 0; the back-off towards 10 000 is cancelled at 200.
  assert.equal(times.length, 1, `attempts at ${times.join(", ")}`);
});

test("retry rethrows at once, without retrying, an error that is not Cancelled while the task is cancelled", async () => {
  const log: string[] = [];
  let caught: unknown;
  await runVirtual(function* () {
    try {
      yield* withTimeout(50, () =>
        retry(
          { kind: "immediate" },
          function* () {
            try {
              yield* sleep(1000);
            } catch {
              log.push("attempt interrupted");
              throw new Flaky(log.length);
            }
          },
          // A guard so that a wrong implementation fails instead of spinning.
          { fatalError: () => log.length >= 5 },
        ),
      );
    } catch (e) {
      caught = e;
    }
  });
  assert.deepEqual(log, ["attempt interrupted"]);
  assert.ok(caught instanceof TimeoutError);
});

testOnEveryDriver("retry fatalError: an error the predicate calls fatal is thrown without retry", async (run) => {
  const log: string[] = [];
  const fatal = new Error("fatal error");
  const seen: unknown[] = [];
  await assert.rejects(
    run(function* () {
      let i = 0;
      yield* retry(
        { kind: "immediate" },
        function* () {
          log.push(`worker run #${i}`);
          i++;
          if (i < 3) yield* withTimeout(10, () => sleep(1000));
          else throw fatal;
        },
        {
          fatalError: (e) => {
            seen.push(e);
            return !(e instanceof TimeoutError);
          },
        },
      );
    }),
    (e) => e === fatal,
  );
  assertEvents(run, log, ["worker run #0", "worker run #1", "worker run #2"]);
  assert.equal(seen.length, 3);
  assert.ok(seen[0] instanceof TimeoutError && seen[1] instanceof TimeoutError);
  assert.equal(seen[2], fatal);
});

test("retry maxRetry: at most maxRetry + 1 attempts, then the last error is thrown", async () => {
  for (const maxRetry of [0, 1, 3]) {
    let attempts = 0;
    const times: number[] = [];
    await assert.rejects(
      runVirtual(function* () {
        yield* retry(
          { kind: "fixedDelay", delayMs: 10 },
          function* () {
            attempts++;
            times.push(now());
            throw new Flaky(attempts);
          },
          { maxRetry },
        );
      }),
      (e) => e instanceof Flaky && e.attempt === maxRetry + 1,
    );
    assert.equal(attempts, maxRetry + 1, `maxRetry ${maxRetry}`);
    // No back-off after the last attempt: the error leaves at once.
    assert.deepEqual(
      times,
      Array.from({ length: maxRetry + 1 }, (_, i) => i * 10),
    );
  }
});

test("retry maxRetry: a success within the budget returns its value", async () => {
  let attempts = 0;
  const value = await runVirtual(function* () {
    return yield* retry(
      { kind: "immediate" },
      function* () {
        attempts++;
        if (attempts < 3) throw new Flaky(attempts);
        return attempts * 10;
      },
      { maxRetry: 2 },
    );
  });
  assert.equal(value, 30);
  assert.equal(attempts, 3);
});
