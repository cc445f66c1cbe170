/**
 * A property test of the cooperative budget on `Queue` (docs/semantics.md,
 * «Cooperative budget»): random producers and consumers over an unbounded or
 * blocking queue, some of them bursting (never pausing) so that their puts
 * and gets complete at once for hundreds of items in a row, and random
 * cancellations of either. A monitor task pauses in a loop the whole time and
 * marks each of its turns in the log in which every completed put and get is
 * recorded. Whatever happens:
 *
 *  (a) no item is received twice (counting the items left in the queue);
 *  (b) only items whose put returned are ever received: a put cancelled,
 *      in its forced yield or while waiting for room, delivered nothing;
 *  (c) no item is lost: every put that returned is received or still queued,
 *      so a get cancelled in its forced yield took nothing;
 *  (d) no task starves the monitor: between two turns of the monitor, each
 *      task completes at most BUDGET + 1 operations (BUDGET at once, plus the
 *      one that a hand-off completed when the turn began).
 *
 * Every wait is a `pause()`, no timer: the order of turns is exact, and the
 * monitor, always ready, keeps virtual time from moving.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Cancelled, Queue, QueueClosed, pause, withTaskGroup, type Operation, type QueueKind, type Task } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";
import { BUDGET } from "../../src/core/budget.ts";
import { assertTurnsAtMost } from "../support.ts";

interface Plan {
  kind: QueueKind;
  /** How many items each producer puts, and after how many puts it pauses (0: never). */
  producers: Array<{ count: number; pauseEvery: number }>;
  /** After how many gets each consumer pauses (0: never). */
  consumers: Array<{ pauseEvery: number }>;
  /** Each is a task that pauses `after` times, then cancels a producer or a consumer. */
  cancels: Array<{ after: number; producer: boolean; index: number }>;
}

const planArb: fc.Arbitrary<Plan> = fc.record({
  kind: fc.oneof(
    fc.constant<QueueKind>({ kind: "unbounded" }),
    fc.nat({ max: 4 }).map((capacity): QueueKind => ({ kind: "blocking", capacity })),
  ),
  producers: fc.array(fc.record({ count: fc.nat({ max: 400 }), pauseEvery: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 })) }), {
    minLength: 1,
    maxLength: 3,
  }),
  consumers: fc.array(fc.record({ pauseEvery: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 })) }), {
    minLength: 1,
    maxLength: 3,
  }),
  cancels: fc.array(fc.record({ after: fc.nat({ max: 12 }), producer: fc.boolean(), index: fc.nat({ max: 2 }) }), { maxLength: 3 }),
});

/** The monitor's turns in the log. */
const MONITOR = -1;

interface Outcome {
  putOk: Set<string>;
  received: string[];
  left: string[];
  log: number[];
  problems: string[];
}

function* scenario(plan: Plan): Operation<Outcome> {
  const queue = new Queue<string>(plan.kind);
  const out: Outcome = { putOk: new Set(), received: [], left: [], log: [], problems: [] };
  let producersLeft = plan.producers.length;
  let consumersLeft = plan.consumers.length;
  yield* withTaskGroup<void>(function* (group) {
    const producers: Task<void>[] = plan.producers.map(({ count, pauseEvery }, p) =>
      group.spawn(function* () {
        try {
          for (let i = 0; i < count; i++) {
            const item = `${p}:${i}`;
            yield* queue.put(item);
            out.putOk.add(item);
            out.log.push(p);
            if (pauseEvery !== 0 && i % pauseEvery === pauseEvery - 1) yield* pause();
          }
        } catch (e) {
          if (!(e instanceof Cancelled) && !(e instanceof QueueClosed)) out.problems.push(`producer ${p} threw ${String(e)}`);
        } finally {
          producersLeft--;
        }
      }),
    );
    const consumers: Task<void>[] = plan.consumers.map(({ pauseEvery }, c) =>
      group.spawn(function* () {
        try {
          for (let i = 0; ; i++) {
            out.received.push(yield* queue.get());
            out.log.push(100 + c);
            if (pauseEvery !== 0 && i % pauseEvery === pauseEvery - 1) yield* pause();
          }
        } catch (e) {
          if (!(e instanceof Cancelled) && !(e instanceof QueueClosed)) out.problems.push(`consumer ${c} threw ${String(e)}`);
        } finally {
          consumersLeft--;
        }
      }),
    );
    for (const { after, producer, index } of plan.cancels) {
      group.startSoon(function* () {
        for (let i = 0; i < after; i++) yield* pause();
        const tasks = producer ? producers : consumers;
        tasks[index % tasks.length]!.cancel();
      });
    }
    group.startSoon(function* () {
      // Closes the queue once nobody puts or nobody gets any more, so every task ends.
      while (producersLeft > 0 || consumersLeft > 0) {
        if ((producersLeft === 0 || consumersLeft === 0) && !queue.closed) queue.close();
        out.log.push(MONITOR);
        yield* pause();
      }
    });
  });
  for (;;) {
    try {
      const item = queue.tryGet();
      if (item === undefined) break;
      out.left.push(item);
    } catch (e) {
      if (!(e instanceof QueueClosed)) throw e;
      break;
    }
  }
  return out;
}

function check(plan: Plan, out: Outcome): void {
  assert.deepEqual(out.problems, []);
  const all = [...out.received, ...out.left];
  // (a)
  assert.equal(new Set(all).size, all.length, "an item was received twice");
  // (b)
  for (const item of all) assert.ok(out.putOk.has(item), `${item} was received but its put did not return`);
  // (c)
  assert.equal(all.length, out.putOk.size, "an item whose put returned was lost");
  // (d)
  assertTurnsAtMost(out.log, MONITOR, BUDGET + 1, ` (plan ${JSON.stringify(plan)})`);
}

test("queue under the budget: nothing lost or duplicated, nobody starved for longer than the budget", { timeout: 240_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(planArb, async (plan) => {
      check(plan, await runVirtual(() => scenario(plan)));
    }),
    { numRuns: 300, includeErrorInReport: true },
  );
});

test("a bursting producer and consumer pair, the case that starved a sibling without the budget", { timeout: 60_000 }, async () => {
  const plan: Plan = {
    kind: { kind: "unbounded" },
    producers: [{ count: 1000, pauseEvery: 0 }],
    consumers: [{ pauseEvery: 0 }],
    cancels: [],
  };
  check(plan, await runVirtual(() => scenario(plan)));
});
