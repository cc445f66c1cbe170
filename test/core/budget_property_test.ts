/**
 * A property test of the cooperative budget across every kind of operation
 * that can complete at once (docs/semantics.md, «Cooperative budget»): busy
 * tasks run random sequences of queue gets and puts, waits on a computed
 * `Lazy` and on an ended task, semaphore acquires (released at once) and
 * line reads from a filled buffer, with an occasional `pause()`, next to a
 * monitor that pauses in a loop and marks each of its turns in the log where
 * every completed operation is recorded. Whatever the mix:
 *
 *  (a) between two turns of the monitor, a busy task completes at most
 *      BUDGET operations (none of these operations waits for anybody, so
 *      no hand-off adds one);
 *  (b) every operation returns what it would have without the budget: the
 *      queue's items in order, the `Lazy`'s value, the ended task's value,
 *      each line; and every permit is back at the end.
 *
 * No timers: the order of turns is exact, and the monitor, always ready,
 * keeps virtual time from moving.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Lazy, Queue, Semaphore, pause, withTaskGroup, type Operation, type Task } from "../../src/index.ts";
import { MemoryReader } from "../../src/io.ts";
import { runVirtual } from "../../src/testing.ts";
import { BUDGET } from "../../src/core/budget.ts";
import { assertTurnsAtMost } from "../support.ts";

const KINDS = ["get", "put", "lazy", "ended", "acquire", "line", "pause"] as const;
type Kind = (typeof KINDS)[number];

/** Each busy task's operations, in order. */
type Plan = Kind[][];

/** Mostly operations that complete at once, with a pause now and then. */
const kindArb: fc.Arbitrary<Kind> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom<Kind>("get", "put", "lazy", "ended", "acquire", "line") },
  { weight: 1, arbitrary: fc.constant<Kind>("pause") },
);

const planArb: fc.Arbitrary<Plan> = fc.array(fc.array(kindArb, { maxLength: 700, size: "max" }), { minLength: 1, maxLength: 3 });

const MONITOR = -1;

function* scenario(plan: Plan): Operation<{ log: number[]; problems: string[]; permits: number }> {
  const log: number[] = [];
  const problems: string[] = [];
  const answer = new Lazy(function* () {
    return 42;
  });
  yield* answer.wait();
  const lock = new Semaphore(1);
  yield* withTaskGroup<void>(function* (group) {
    const ended: Task<number> = group.spawn(function* () {
      return 7;
    });
    yield* ended.wait();
    let busy = plan.length;
    plan.forEach((kinds, t) => {
      // Enough of everything for this task's own operations, so none of them waits.
      const gets = kinds.filter((k) => k === "get").length;
      const lines = kinds.filter((k) => k === "line").length;
      const queue = new Queue<number>();
      for (let i = 0; i < gets; i++) queue.tryPut(i);
      const reader = new MemoryReader("line\n".repeat(lines));
      group.startSoon(function* () {
        let got = 0;
        let put = gets;
        try {
          for (const kind of kinds) {
            if (kind === "pause") {
              yield* pause();
              continue;
            }
            if (kind === "get") {
              const item = yield* queue.get();
              if (item !== got) problems.push(`task ${t}: got ${item}, expected ${got}`);
              got++;
            } else if (kind === "put") {
              yield* queue.put(put++);
            } else if (kind === "lazy") {
              const value = yield* answer.wait();
              if (value !== 42) problems.push(`task ${t}: Lazy gave ${value}`);
            } else if (kind === "ended") {
              const value = yield* ended.wait();
              if (value !== 7) problems.push(`task ${t}: the ended task gave ${value}`);
            } else if (kind === "acquire") {
              yield* lock.acquire();
              lock.release();
            } else {
              const line = yield* reader.readLine();
              if (line !== "line") problems.push(`task ${t}: read ${line}`);
            }
            log.push(t);
          }
        } finally {
          busy--;
        }
      });
    });
    group.startSoon(function* () {
      while (busy > 0) {
        log.push(MONITOR);
        yield* pause();
      }
    });
  });
  return { log, problems, permits: lock.available };
}

function check(plan: Plan, out: { log: number[]; problems: string[]; permits: number }): void {
  // (b)
  assert.deepEqual(out.problems, []);
  assert.equal(out.permits, 1, "a permit was not given back");
  const done = plan.map((kinds) => kinds.filter((k) => k !== "pause").length);
  const counted = plan.map((_, t) => out.log.filter((who) => who === t).length);
  assert.deepEqual(counted, done, "an operation did not complete");
  // (a)
  assertTurnsAtMost(out.log, MONITOR, BUDGET);
}

test("any mix of operations that complete at once: nobody starved for longer than the budget, every result as without it", {
  timeout: 240_000,
}, async () => {
  await fc.assert(
    fc.asyncProperty(planArb, async (plan) => {
      check(plan, await runVirtual(() => scenario(plan)));
    }),
    { numRuns: 200, includeErrorInReport: true },
  );
});

test("one task running 1000 operations of every kind in turn never runs more than BUDGET of them between the monitor's turns", {
  timeout: 60_000,
}, async () => {
  const kinds = KINDS.filter((k) => k !== "pause");
  const plan: Plan = [Array.from({ length: 1000 }, (_, i) => kinds[i % kinds.length]!)];
  const out = await runVirtual(() => scenario(plan));
  check(plan, out);
  // Its turns were exactly BUDGET operations long (the last one what was left): the monitor ran after each.
  const turns: number[] = [0];
  for (const who of out.log) {
    if (who === MONITOR) {
      if (turns.at(-1) !== 0) turns.push(0);
    } else {
      turns[turns.length - 1]!++;
    }
  }
  const expected = Array.from({ length: Math.ceil(1000 / BUDGET) }, (_, i) => Math.min(BUDGET, 1000 - i * BUDGET));
  assert.deepEqual(turns, expected);
});
