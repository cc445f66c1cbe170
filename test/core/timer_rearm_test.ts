/**
 * Re-arming a timer entry while a removed copy of it is still in the heap: a
 * task in `sleep` is its own timer entry, and a task whose sleep was cancelled
 * can sleep again at once (in a `finally`, shielded) while the old slot waits
 * in the heap to be dropped lazily. The old slot must never fire it.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TimerEntry, TimerHeap } from "../../src/core/timer_heap.ts";
import { createVirtualClock, runVirtual } from "../../src/testing.ts";
import { Cancelled, now, protectFromCancel, sleep, WeftUsageError, withTaskGroup } from "../../src/index.ts";

class Probe extends TimerEntry {
  deadline = -1;
  constructor(
    readonly id: number,
    private readonly fired: Probe[],
  ) {
    super();
  }
  fire(): void {
    this.fired.push(this);
  }
}

test("an entry armed again while its removed slot is still in the heap fires once, at its new deadline", { timeout: 10_000 }, () => {
  const heap = new TimerHeap();
  const fired: Probe[] = [];
  const probe = new Probe(0, fired);
  heap.add(probe, 10);
  heap.remove(probe);
  heap.add(probe, 30);
  heap.fireDue(10);
  assert.deepEqual(fired, [], "the removed slot did not fire");
  assert.equal(heap.nextDeadline(), 30);
  assert.equal(heap.liveCount, 1);
  heap.fireDue(30);
  assert.deepEqual(fired, [probe]);
  heap.fireDue(1000);
  assert.equal(fired.length, 1, "fired once");
  assert.equal(heap.liveCount, 0);
});

type Step = { kind: "arm"; pick: number; deadline: number } | { kind: "disarm"; pick: number } | { kind: "fire"; advance: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("arm" as const), pick: fc.nat(), deadline: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("disarm" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("fire" as const), advance: fc.integer({ min: 0, max: 20 }) }) },
);

test("a few entries armed, disarmed and re-armed at random fire in (deadline, arming) order, once per arming, never early", {
  timeout: 60_000,
}, () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(step, { maxLength: 400 }), (size, steps) => {
      const heap = new TimerHeap();
      const fired: Probe[] = [];
      const probes = Array.from({ length: size }, (_, i) => new Probe(i, fired));
      // The model: armed probes with their deadline and the order they were armed in.
      const armed = new Map<Probe, { deadline: number; order: number }>();
      let order = 0;
      let clock = 0;
      for (const s of steps) {
        if (s.kind === "arm") {
          const probe = probes[s.pick % size]!;
          if (armed.has(probe)) heap.remove(probe); // add() wants a disarmed entry
          heap.add(probe, clock + s.deadline);
          armed.set(probe, { deadline: clock + s.deadline, order: order++ });
        } else if (s.kind === "disarm") {
          const probe = probes[s.pick % size]!;
          heap.remove(probe);
          armed.delete(probe);
        } else {
          clock += s.advance;
          fired.length = 0;
          heap.fireDue(clock);
          const due = [...armed]
            .filter(([, a]) => a.deadline <= clock)
            .sort(([, a], [, b]) => a.deadline - b.deadline || a.order - b.order)
            .map(([p]) => p);
          assert.deepEqual(
            fired.map((p) => p.id),
            due.map((p) => p.id),
          );
          for (const p of due) armed.delete(p);
        }
        const deadlines = [...armed.values()].map((a) => a.deadline);
        assert.equal(heap.nextDeadline(), deadlines.length === 0 ? undefined : Math.min(...deadlines));
        assert.equal(heap.liveCount, armed.size);
      }
    }),
    { numRuns: 500 },
  );
});

test("a task that sleeps again after a cancelled sleep wakes at its new deadlines, not at the old one", { timeout: 10_000 }, async () => {
  const wakes = await runVirtual(function* () {
    const times: number[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const sleeper = group.spawn(function* () {
        try {
          yield* sleep(1000); // cancelled at 10; its slot stays in the heap
        } finally {
          yield* protectFromCancel(function* () {
            yield* sleep(50);
            times.push(now());
            yield* sleep(2000);
            times.push(now());
          });
        }
      });
      yield* sleep(10);
      sleeper.cancel();
    });
    return times;
  });
  assert.deepEqual(wakes, [60, 2060]);
});

test("thousands of tasks cancelled in their sleep and sleeping again each wake once, on time", { timeout: 30_000 }, async () => {
  const n = 5000;
  const late = await runVirtual(function* () {
    const wrong: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      const tasks = [];
      for (let i = 0; i < n; i++) {
        tasks.push(
          group.spawn(function* () {
            try {
              yield* sleep(10_000 + i);
            } catch (error) {
              if (!(error instanceof Cancelled)) throw error;
              const start = now();
              yield* protectFromCancel(() => sleep(i % 7));
              if (now() !== start + (i % 7)) wrong.push(`task ${i} woke at ${now()}, not ${start + (i % 7)}`);
            }
          }),
        );
      }
      yield* sleep(5);
      for (const task of tasks) task.cancel();
    });
    return wrong;
  });
  assert.deepEqual(late, []);
});

test("a sleep operation runs once, by yield* or by hand, and outside a task it says so", { timeout: 10_000 }, async () => {
  assert.throws(() => sleep(5).next(), WeftUsageError);
  const clock = createVirtualClock();
  const task = clock.spawn(function* () {
    const op = sleep(5);
    yield* op;
    try {
      yield* op;
    } catch (error) {
      return error;
    }
    return "ran twice";
  });
  clock.advance(5);
  const error = task.tryWait();
  assert.ok(error instanceof WeftUsageError, String(error));
  assert.match((error as Error).message, /runs once/);
});
