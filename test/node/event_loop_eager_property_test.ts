/**
 * The event-loop driver's policy for wake-ups from host callbacks, against a
 * model, for random host turns (docs/semantics.md, «Drivers»): at most eight
 * woken tasks run right after their callbacks between two macrotask drains;
 * the others run, in wake order, in the next macrotask, before the next
 * turn's callbacks; a macrotask that finds more than eight tasks ready
 * leaves none to run at once; every woken task runs exactly once.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { wakeFromCallbacks } from "./event_loop_support.ts";

const ALLOWANCE = 8;

/** The order the policy gives: callbacks "cN" and tasks "tN", numbered across turns. */
function modelOrder(turns: readonly number[]): string[] {
  const order: string[] = [];
  // The harness starts from a host timer's drain, which found nothing else ready.
  let allowance = ALLOWANCE;
  let batched: number[] = [];
  let next = 1;
  const runMacrotask = (): void => {
    allowance = batched.length > ALLOWANCE ? 0 : ALLOWANCE;
    for (const i of batched) order.push(`t${i}`);
    batched = [];
  };
  for (const n of turns) {
    // The macrotask asked for by the previous turn was queued before this turn's callbacks.
    if (batched.length > 0) runMacrotask();
    for (let k = 0; k < n; k++) {
      const i = next++;
      order.push(`c${i}`);
      if (allowance > 0 && batched.length === 0) {
        allowance--;
        order.push(`t${i}`);
      } else {
        batched.push(i);
      }
    }
  }
  if (batched.length > 0) runMacrotask();
  return order;
}

test("wake-ups from host callbacks run at once or in the next macrotask as the policy says, each task once", {
  timeout: 120_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 5 }), async (turns) => {
      const order = await wakeFromCallbacks(turns);
      assert.deepEqual(order, modelOrder(turns));
    }),
    { numRuns: 40 },
  );
});
