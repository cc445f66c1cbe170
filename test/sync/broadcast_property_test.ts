/**
 * Property-based test of `Broadcast` (docs/semantics.md, «Broadcast»), under
 * virtual time: random publishers (each publish with a delay before it),
 * random subscribers (subscribing at random times, reading with random
 * delays), random cancellations of either, every policy with capacities 1..3;
 * the broadcast is closed once the publishers are done. Whatever happens:
 *
 *  (a) a publish that threw (cancelled) reached nobody;
 *  (b) no subscriber gets a message twice, or out of publish order, or one
 *      published before it subscribed;
 *  (c) `block`: a subscriber that read to the end got exactly every message
 *      published after it subscribed; a cancelled one, a prefix of them;
 *  (d) `dropOldest`: nothing is lost that was not counted as dropped;
 *  (e) `dropSubscriber`: a subscriber got a prefix of its messages, and a
 *      shorter one only if it was cancelled or dropped;
 *  (f) when the run ends no subscription is left (each ended with its task).
 *
 * WEFT_PROPERTY_RUNS=<n> runs n cases instead of the default.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Broadcast,
  Cancelled,
  SubscriberDropped,
  each,
  sleep,
  withTaskGroup,
  type BroadcastPolicy,
  type Subscription,
  type Task,
} from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

const override = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["WEFT_PROPERTY_RUNS"];
const RUNS = override !== undefined && override !== "" ? Number(override) : 300;
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new RangeError(`WEFT_PROPERTY_RUNS must be an integer >= 1, got ${JSON.stringify(override)}`);

interface Plan {
  policy: BroadcastPolicy;
  capacity: number;
  publishers: number[][]; // delays before each publish
  subscribers: Array<{ start: number; delays: number[] }>;
  cancels: Array<{ at: number; who: number }>; // who indexes publishers then subscribers
}

const delay = fc.integer({ min: 0, max: 6 });
const plan: fc.Arbitrary<Plan> = fc.record({
  policy: fc.constantFrom<BroadcastPolicy>("block", "dropOldest", "dropSubscriber"),
  capacity: fc.integer({ min: 1, max: 3 }),
  publishers: fc.array(fc.array(delay, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 2 }),
  subscribers: fc.array(fc.record({ start: delay, delays: fc.array(delay, { minLength: 1, maxLength: 4 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  cancels: fc.array(fc.record({ at: fc.integer({ min: 0, max: 30 }), who: fc.nat(4) }), { maxLength: 2 }),
});

interface SubRecord {
  at: number;
  got: number[];
  end: "closed" | "dropped" | "cancelled" | "not started";
  sub?: Subscription<number>;
  dropped: number;
}

async function check(p: Plan): Promise<void> {
  const bus = new Broadcast<number>({ capacity: p.capacity, policy: p.policy });
  const delivered: number[] = [];
  const failed: number[] = [];
  const subs: SubRecord[] = p.subscribers.map(() => ({ at: -1, got: [], end: "not started", dropped: 0 }));
  await runVirtual(function* () {
    yield* withTaskGroup<void>(function* (group) {
      const pubTasks: Task<void>[] = p.publishers.map((delays, pi) =>
        group.spawn(
          function* () {
            for (let k = 0; k < delays.length; k++) {
              yield* sleep(delays[k]!);
              const id = pi * 1000 + k;
              try {
                yield* bus.publish(id);
              } catch (error) {
                failed.push(id);
                throw error;
              }
              delivered.push(id);
            }
          },
          { allowFailure: true },
        ),
      );
      const subTasks: Task<void>[] = p.subscribers.map((plan, si) =>
        group.spawn(
          function* () {
            const rec = subs[si]!;
            yield* sleep(plan.start);
            const sub = bus.subscribe();
            rec.sub = sub;
            rec.at = delivered.length;
            let i = 0;
            try {
              yield* each(sub, function* (m) {
                rec.got.push(m);
                yield* sleep(plan.delays[i++ % plan.delays.length]!);
              });
              rec.end = "closed";
            } catch (error) {
              if (error instanceof SubscriberDropped) rec.end = "dropped";
              else if (error instanceof Cancelled) rec.end = "cancelled";
              else throw error;
            } finally {
              rec.dropped = sub.dropped;
            }
          },
          { allowFailure: true },
        ),
      );
      const tasks = [...pubTasks, ...subTasks];
      for (const c of p.cancels) {
        group.startSoon(function* () {
          yield* sleep(c.at);
          tasks[c.who % tasks.length]!.cancel();
        });
      }
      for (const t of pubTasks) {
        try {
          yield* t.wait();
        } catch (error) {
          if (!(error instanceof Cancelled)) throw error;
        }
      }
      bus.close();
    });
  });
  // (a)
  for (const rec of subs) for (const id of failed) assert.ok(!rec.got.includes(id), `cancelled publish ${id} was received`);
  for (const rec of subs) {
    if (rec.at < 0) continue;
    const expected = delivered.slice(rec.at);
    // (b): a subsequence of what was delivered after subscribing, in order.
    let j = 0;
    for (const m of rec.got) {
      while (j < expected.length && expected[j] !== m) j++;
      assert.ok(j < expected.length, `message ${m} out of order, duplicated, or from before subscribing`);
      j++;
    }
    const prefix = expected.slice(0, rec.got.length);
    if (p.policy === "block") {
      assert.deepEqual(rec.got, prefix); // (c)
      if (rec.end === "closed") assert.deepEqual(rec.got, expected);
    } else if (p.policy === "dropOldest") {
      if (rec.end === "closed") assert.equal(rec.got.length + rec.dropped, expected.length); // (d)
    } else {
      assert.deepEqual(rec.got, prefix); // (e)
      if (rec.end === "closed") assert.deepEqual(rec.got, expected);
    }
  }
  assert.equal(bus.subscribers, 0); // (f)
  for (const rec of subs) if (rec.sub !== undefined) assert.equal(rec.sub.ended, true);
}

test("broadcast: no lost, duplicated or reordered message per subscriber; cancelled publishes reach nobody; no subscription outlives its task", {
  timeout: 120_000,
}, async () => {
  await fc.assert(fc.asyncProperty(plan, check), { numRuns: RUNS, includeErrorInReport: true });
});
