/**
 * Recipe: testing with virtual time (the tests).
 *
 *   node --test dist/examples/cookbook/retry-client-test.js
 *
 * `runVirtual` runs a body on a clock that jumps to the next deadline
 * whenever every task waits, so the scenarios below, 20 virtual seconds of
 * timeouts and back-offs, take a few milliseconds and end at exactly the
 * same virtual time on every machine. `createVirtualClock` moves time by hand
 * to look between two steps.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TimeoutError, now, sleep, type Operation } from "../../src/index.ts";
import { createVirtualClock, runVirtual } from "../../src/testing.ts";
import { fetchQuote, type QuoteService } from "./retry-client.ts";

/** A fake service: the n-th request (from 0) behaves as `behaviour(n)` says; it notes when each request came. */
function fakeService(behaviour: (n: number) => "hang" | "fail" | "answer"): QuoteService & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    *request(): Operation<string> {
      const n = calls.length;
      calls.push(now());
      const what = behaviour(n);
      if (what === "fail") throw new Error("503 service unavailable");
      // A hang is a very long sleep: only the attempt's timeout ends it.
      yield* sleep(what === "hang" ? 3_600_000 : 100);
      return `quote #${n}`;
    },
  };
}

test("a service that hangs twice answers on the third attempt, after both timeouts and back-offs", { timeout: 10_000 }, async () => {
  const service = fakeService((n) => (n < 2 ? "hang" : "answer"));
  const result = await runVirtual(function* () {
    const quote = yield* fetchQuote(service);
    return { quote, at: now() };
  });
  // 0: hang, timed out at 2000; wait 500; 2500: hang, timed out at 4500; wait 1000; 5500: answers 100 ms later.
  assert.deepEqual(service.calls, [0, 2500, 5500]);
  assert.deepEqual(result, { quote: "quote #2", at: 5600 });
});

test("a service that never answers is given up after five attempts with TimeoutError", { timeout: 10_000 }, async () => {
  const service = fakeService(() => "hang");
  const failure = await runVirtual(function* () {
    try {
      yield* fetchQuote(service);
      return { error: undefined, at: now() };
    } catch (error) {
      return { error, at: now() };
    }
  });
  assert.ok(failure.error instanceof TimeoutError);
  // Back-offs of 500, 1000, 2000, 4000 between five 2 s attempts.
  assert.deepEqual(service.calls, [0, 2500, 5500, 9500, 15500]);
  assert.equal(failure.at, 17500);
});

test("a failed attempt is retried only once its back-off has passed", { timeout: 10_000 }, () => {
  const service = fakeService((n) => (n === 0 ? "fail" : "answer"));
  const clock = createVirtualClock();
  const task = clock.spawn(() => fetchQuote(service));
  clock.runUntilIdle();
  assert.deepEqual(service.calls, [0]); // failed at once; now waiting 500 ms
  clock.advance(499);
  assert.deepEqual(service.calls, [0]);
  clock.advance(1);
  assert.deepEqual(service.calls, [0, 500]);
  clock.advance(99);
  assert.equal(task.done, false);
  clock.advance(1);
  assert.equal(task.tryWait(), "quote #1");
});
