/**
 * `interval(ms)` (docs/semantics.md, «Interval»): ticks fall on a fixed beat
 * from the start (the consumer's own time does not shift them), a late
 * consumer gets at once only the latest tick that fell due and the earlier
 * missed ones are skipped, a cancelled tick takes nothing, and `each` loops
 * over it. Exact times are asserted only on the deterministic clocks.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { each, interval, now, sleep, withTimeoutOpt } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { testOnEveryDriver } from "../support.ts";

testOnEveryDriver("ticks do not drift: work between ticks does not shift the beat", async (run) => {
  const times: number[] = [];
  const ticks: number[] = [];
  await run(function* () {
    const start = now();
    yield* withTimeoutOpt(55, () =>
      each(interval(10), function* (n) {
        ticks.push(n);
        times.push(now() - start);
        yield* sleep(3); // the consumer's own work
      }),
    );
  });
  if (run.exact) {
    assert.deepEqual(ticks, [1, 2, 3, 4, 5]);
    assert.deepEqual(times, [10, 20, 30, 40, 50]);
  } else {
    // On the real clock: increasing tick numbers, each tick no earlier than its beat.
    for (let i = 0; i < ticks.length; i++) {
      assert.ok(i === 0 || ticks[i]! > ticks[i - 1]!);
      assert.ok(times[i]! >= ticks[i]! * 10 - 1, `tick ${ticks[i]} at ${times[i]}`);
    }
  }
});

testOnEveryDriver("a slow consumer skips the missed ticks: it gets the latest due one at once, then the beat resumes", async (run) => {
  const got: Array<[number, number]> = [];
  await run(function* () {
    const ticks = interval(10);
    const start = now();
    got.push([yield* ticks.tick(), now() - start]);
    yield* sleep(35);
    got.push([yield* ticks.tick(), now() - start]);
    got.push([yield* ticks.tick(), now() - start]);
  });
  if (run.exact) {
    assert.deepEqual(got, [
      [1, 10],
      [4, 45],
      [5, 50],
    ]);
  } else {
    // A stalled host may hand out a later tick than the first; never an earlier one.
    assert.ok(got[0]![0] >= 1);
    assert.ok(got[1]![0] >= 4, `after a 35 ms stall the next tick is at least 4, got ${got[1]![0]}`);
    assert.ok(got[2]![0] > got[1]![0]);
  }
});

testOnEveryDriver("a cancelled tick takes nothing: the next call gets that tick", async (run) => {
  const got = await run(function* () {
    const ticks = interval(10);
    const r = yield* withTimeoutOpt(5, () => ticks.tick());
    assert.equal(r, undefined);
    return yield* ticks.tick();
  });
  if (run.exact) assert.equal(got, 1);
  else assert.ok(got >= 1);
});

test("under virtual time a thousand ticks land exactly on the beat, never late", { timeout: 20_000 }, async () => {
  const late = await runVirtual(function* () {
    const ticks = interval(7);
    const start = now();
    let off = 0;
    for (let i = 1; i <= 1000; i++) {
      const n = yield* ticks.tick();
      if (n !== i || now() - start !== i * 7) off++;
      if (i % 10 === 0) yield* sleep(3);
    }
    return off;
  });
  assert.equal(late, 0);
});

test("bad periods: a non-number is a TypeError, zero, negative or infinite a RangeError", { timeout: 10_000 }, () => {
  assert.throws(
    () => interval("10" as never),
    (e: unknown) => e instanceof TypeError && /interval\(\): ms/.test(e.message),
  );
  for (const ms of [0, -1, Infinity, NaN]) assert.throws(() => interval(ms), RangeError, String(ms));
  assert.equal(interval(0.5).ms, 0.5);
});
