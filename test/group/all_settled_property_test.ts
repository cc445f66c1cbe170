/**
 * Property-based test of `allSettled` (docs/semantics.md, «allSettled»), under
 * virtual time: random bodies (a delay, then return or throw), a random
 * `maxConcurrent`, and the caller cancelled at a random time or never.
 * Whatever happens:
 *
 *  (a) the call returns (it never throws) one entry per body, in input order;
 *  (b) a body that returned has `{ ok: true, value }` with its value, one that
 *      threw has `{ ok: false, error }` with its error: nothing that finished is lost;
 *  (c) only a body that did not finish (cut short, or never started) settles
 *      as `Cancelled`, and only when the caller was cancelled;
 *  (d) never more bodies run at once than `maxConcurrent`.
 *
 * WEFT_PROPERTY_RUNS=<n> runs n cases instead of the default.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { allSettled, isCancellationError, sleep, withTaskGroup, type Operation, type Settled } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { Boom } from "../support.ts";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const RUNS = override !== undefined && override !== "" ? Number(override) : 500;
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new RangeError(`WEFT_PROPERTY_RUNS must be an integer >= 1, got ${JSON.stringify(override)}`);

const plan = fc.record({
  bodies: fc.array(fc.record({ delay: fc.integer({ min: 0, max: 10 }), throws: fc.boolean() }), { maxLength: 8 }),
  maxConcurrent: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  cancelAt: fc.option(fc.integer({ min: 0, max: 25 }), { nil: undefined }),
});

test("allSettled: every finished body's result is kept, in input order, whatever cancels the caller", { timeout: 120_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(plan, async (p) => {
      const outcome: Array<"returned" | "threw" | undefined> = p.bodies.map(() => undefined);
      let running = 0;
      let most = 0;
      let results: Settled<number>[] | undefined;
      await runVirtual(function* () {
        yield* withTaskGroup<void>(function* (group) {
          const caller = group.spawn(
            function* () {
              results = yield* allSettled(
                p.bodies.map(
                  (b, i) =>
                    function* (): Operation<number> {
                      running++;
                      most = Math.max(most, running);
                      try {
                        yield* sleep(b.delay);
                      } finally {
                        running--;
                      }
                      if (b.throws) {
                        outcome[i] = "threw";
                        throw new Boom(`b${i}`);
                      }
                      outcome[i] = "returned";
                      return i;
                    },
                ),
                { maxConcurrent: p.maxConcurrent },
              );
            },
            { allowFailure: true },
          );
          if (p.cancelAt !== undefined) {
            yield* sleep(p.cancelAt);
            caller.cancel();
          }
        });
      });
      assert.ok(results !== undefined, "allSettled returned"); // (a)
      assert.equal(results.length, p.bodies.length);
      results.forEach((r, i) => {
        if (outcome[i] === "returned")
          assert.deepEqual(r, { ok: true, value: i }); // (b)
        else if (outcome[i] === "threw") assert.ok(!r.ok && r.error instanceof Boom && r.error.message === `b${i}`);
        else {
          assert.ok(!r.ok && isCancellationError(r.error), `body ${i} settled as ${JSON.stringify(r)}`); // (c)
          assert.notEqual(p.cancelAt, undefined);
        }
      });
      if (p.maxConcurrent !== undefined) assert.ok(most <= p.maxConcurrent, `${most} ran at once`); // (d)
    }),
    { numRuns: RUNS, includeErrorInReport: true },
  );
});
