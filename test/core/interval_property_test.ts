/**
 * Property-based test of `interval` (docs/semantics.md, «Interval»), under
 * virtual time: a random period and a consumer doing random work between
 * ticks (sometimes longer than several periods), with some `tick()` calls
 * cancelled by a timeout. For every tick taken, asked for at time `a`:
 *
 *  (a) no drift: tick `n` is returned at `max(a, start + n * ms)`, never
 *      before its beat and never later than needed;
 *  (b) no pile-up: `n` is the next tick if it is not yet due, else the latest
 *      tick due at `a` (the missed ones before it are skipped, not queued);
 *  (c) a cancelled `tick()` takes no tick.
 *
 * WEFT_PROPERTY_RUNS=<n> runs n cases instead of the default.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { interval, now, sleep, withTimeoutOpt } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const RUNS = override !== undefined && override !== "" ? Number(override) : 500;
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new RangeError(`WEFT_PROPERTY_RUNS must be an integer >= 1, got ${JSON.stringify(override)}`);

const plan = fc.record({
  ms: fc.integer({ min: 1, max: 20 }),
  steps: fc.array(
    fc.record({ work: fc.integer({ min: 0, max: 50 }), cancelAfter: fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined }) }),
    {
      minLength: 1,
      maxLength: 30,
    },
  ),
});

test("interval: ticks never drift, missed ones are skipped not queued, and a cancelled tick takes nothing", {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(plan, async ({ ms, steps }) => {
      await runVirtual(function* () {
        const ticks = interval(ms);
        let start = -1; // the beat starts at the first tick() call
        let last = 0;
        for (const step of steps) {
          yield* sleep(step.work);
          const asked = now();
          if (start < 0) start = asked;
          const dueAtAsk = Math.floor((asked - start) / ms);
          const expected = Math.max(last + 1, dueAtAsk);
          const at = Math.max(asked, start + expected * ms);
          const n = step.cancelAfter === undefined ? yield* ticks.tick() : yield* withTimeoutOpt(step.cancelAfter, () => ticks.tick());
          if (n === undefined) {
            // (c): cut short before its tick fell due; the next call still gets that tick or a later due one.
            assert.ok(asked + step.cancelAfter! < at, "a tick that was due in time was reported as a timeout");
            continue;
          }
          assert.equal(n, expected, `asked at ${asked - start}`); // (b)
          assert.equal(now(), at, `tick ${n}`); // (a)
          last = n;
        }
      });
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
});
