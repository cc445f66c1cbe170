/**
 * The timer heap against a reference model: whatever the sequence of adds,
 * removals and firings, entries fire in (deadline, creation) order, exactly
 * once, never before their deadline, and removed entries never fire.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import fc from "fast-check";
import { TimerEntry, TimerHeap } from "../../src/core/timer_heap.ts";

class Probe extends TimerEntry {
  constructor(
    readonly id: number,
    readonly deadline: number,
    private readonly fired: Probe[],
  ) {
    super();
  }
  fire(): void {
    this.fired.push(this);
  }
}

type Step = { kind: "add"; deadline: number } | { kind: "remove"; pick: number } | { kind: "fire"; advance: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("add" as const), deadline: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("fire" as const), advance: fc.integer({ min: 0, max: 20 }) }) },
);

test("timers fire in (deadline, creation) order, once, never early, never after removal", () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
      const heap = new TimerHeap();
      const fired: Probe[] = [];
      const pending: Probe[] = []; // the model: live entries in creation order
      let now = 0;
      let nextId = 0;
      for (const s of steps) {
        if (s.kind === "add") {
          const probe = new Probe(nextId++, now + s.deadline, fired);
          heap.add(probe, probe.deadline);
          pending.push(probe);
        } else if (s.kind === "remove") {
          if (pending.length === 0) continue;
          const [probe] = pending.splice(s.pick % pending.length, 1);
          heap.remove(probe!);
        } else {
          now += s.advance;
          fired.length = 0;
          heap.fireDue(now);
          const due = pending.filter((p) => p.deadline <= now).sort((a, b) => a.deadline - b.deadline || a.id - b.id);
          assert.deepEqual(
            fired.map((p) => p.id),
            due.map((p) => p.id),
          );
          for (const p of due) pending.splice(pending.indexOf(p), 1);
        }
        const earliest = pending.length === 0 ? undefined : Math.min(...pending.map((p) => p.deadline));
        assert.equal(heap.nextDeadline(), earliest);
        assert.equal(heap.liveCount, pending.length);
      }
    }),
    { numRuns: 1000 },
  );
});

test("100,000 timers with shuffled deadlines fire in deadline order, ties in creation order", () => {
  const heap = new TimerHeap();
  const fired: Probe[] = [];
  const n = 100_000;
  let seed = 12345;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const probe = new Probe(i, Math.floor(random() * 1000), fired);
    heap.add(probe, probe.deadline);
  }
  heap.fireDue(1000);
  assert.equal(fired.length, n);
  for (let i = 1; i < n; i++) {
    const a = fired[i - 1]!;
    const b = fired[i]!;
    assert.ok(a.deadline < b.deadline || (a.deadline === b.deadline && a.id < b.id), `order broken at ${i}`);
  }
});

test("removing most timers compacts the heap and keeps the rest in order", () => {
  const heap = new TimerHeap();
  const fired: Probe[] = [];
  const probes: Probe[] = [];
  for (let i = 0; i < 1000; i++) {
    const probe = new Probe(i, 1000 - i, fired);
    heap.add(probe, probe.deadline);
    probes.push(probe);
  }
  for (const p of probes) if (p.id % 10 !== 0) heap.remove(p);
  assert.ok(heap.size < 1000, "dead entries were dropped");
  assert.equal(heap.liveCount, 100);
  heap.fireDue(Infinity);
  assert.deepEqual(
    fired.map((p) => p.id),
    probes
      .filter((p) => p.id % 10 === 0)
      .sort((a, b) => a.deadline - b.deadline)
      .map((p) => p.id),
  );
});
