/**
 * `allSettled` (docs/semantics.md, «allSettled»): one settled entry per body in
 * input order, a failure does not cancel the others, `maxConcurrent` limits the
 * bodies running at once, and a cancellation of the caller (its group, a
 * timeout around it) keeps the results of the bodies that finished: the cut-short
 * and never-started bodies settle as `Cancelled` and the array is returned.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  allSettled,
  isBeingCancelled,
  isCancellationError,
  pause,
  sleep,
  withTaskGroup,
  withTimeout,
  type Operation,
  type Settled,
} from "../../src/index.ts";
import { Boom, testOnEveryDriver } from "../support.ts";

function summary(results: readonly Settled<unknown>[]): string[] {
  return results.map((r) =>
    r.ok ? `ok ${String(r.value)}` : isCancellationError(r.error) ? "cancelled" : `error ${(r.error as Error).message}`,
  );
}

testOnEveryDriver("results come in input order, and a failure neither cancels the others nor fails the call", async (run) => {
  const results = await run(function* () {
    return yield* allSettled([
      function* () {
        yield* sleep(30);
        return "slow";
      },
      function* (): Operation<string> {
        yield* sleep(10);
        throw new Boom("b");
      },
      function* () {
        return 3;
      },
    ]);
  });
  assert.deepEqual(summary(results), ["ok slow", "error b", "ok 3"]);
  // The tuple keeps each position's type.
  const first: Settled<string> = results[0];
  const third: Settled<number> = results[2];
  assert.equal(first.ok && third.ok, true);
});

testOnEveryDriver("an empty list settles at once as an empty array", async (run) => {
  assert.deepEqual(await run(() => allSettled([])), []);
});

testOnEveryDriver("maxConcurrent: never more bodies at once than the limit, started in input order", async (run) => {
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const results = await run(function* () {
    return yield* allSettled(
      [0, 1, 2, 3, 4, 5].map(
        (i) =>
          function* (): Operation<number> {
            started.push(i);
            running++;
            most = Math.max(most, running);
            try {
              yield* sleep(5 + (i % 3) * 5);
              if (i === 2) throw new Boom(`b${i}`);
              return i * 10;
            } finally {
              running--;
            }
          },
      ),
      { maxConcurrent: 2 },
    );
  });
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(summary(results), ["ok 0", "ok 10", "error b2", "ok 30", "ok 40", "ok 50"]);
});

testOnEveryDriver(
  "the caller cancelled: finished results are kept, the rest settle as Cancelled, and the array is returned",
  async (run) => {
    let results: Settled<unknown>[] | undefined;
    let cancelledAfter = false;
    await run(function* () {
      yield* withTaskGroup<void>(function* (group) {
        const caller = group.spawn(
          function* () {
            results = yield* allSettled(
              [
                function* () {
                  return "at once";
                },
                function* (): Operation<string> {
                  throw new Boom("early");
                },
                function* () {
                  yield* sleep(60_000);
                  return "never";
                },
                function* () {
                  yield* sleep(60_000);
                  return "never started";
                },
              ],
              { maxConcurrent: 3 },
            );
            // The call returned; the caller meets its cancellation at its next suspension point.
            cancelledAfter = isBeingCancelled();
            yield* pause();
          },
          { allowFailure: true },
        );
        yield* sleep(50);
        caller.cancel();
        yield* assertThrowsCancelled(caller.wait());
      });
    });
    assert.deepEqual(summary(results ?? []), ["ok at once", "error early", "cancelled", "cancelled"]);
    assert.equal(cancelledAfter, true);
  },
);

function* assertThrowsCancelled(op: Operation<unknown>): Operation<void> {
  try {
    yield* op;
  } catch (error) {
    assert.ok(error instanceof Cancelled, `expected Cancelled, got ${String(error)}`);
    return;
  }
  assert.fail("expected Cancelled");
}

testOnEveryDriver(
  "a timeout around allSettled returns the array: the finished bodies' results and Cancelled for the cut-short ones",
  async (run) => {
    const results = await run(() =>
      withTimeout(100, () =>
        allSettled([
          function* () {
            yield* sleep(10);
            return "fast";
          },
          function* () {
            yield* sleep(60_000);
            return "slow";
          },
        ]),
      ),
    );
    assert.deepEqual(summary(results), ["ok fast", "cancelled"]);
  },
);

testOnEveryDriver("a body that catches its cancellation and returns settles with its value", async (run) => {
  const results = await run(() =>
    withTimeout(20, () =>
      allSettled([
        function* () {
          try {
            yield* sleep(60_000);
            return "slept";
          } catch {
            return "gave up";
          }
        },
      ]),
    ),
  );
  assert.deepEqual(summary(results), ["ok gave up"]);
});

test("bad input: bodies that are not an array of functions are a TypeError, a bad maxConcurrent a RangeError", { timeout: 10_000 }, () => {
  const call = (bodies: unknown, options?: unknown) => () => allSettled(bodies as never, options as never).next();
  assert.throws(call("nope"), (e: unknown) => e instanceof TypeError && /allSettled\(\): bodies/.test(e.message));
  assert.throws(call([() => null, 3]), (e: unknown) => e instanceof TypeError && /bodies\[1\]/.test(e.message));
  for (const max of [0, -1, 1.5, "2"]) {
    assert.throws(call([], { maxConcurrent: max }), (e: unknown) => e instanceof RangeError && /maxConcurrent/.test(e.message));
  }
});
