/**
 * Discarding queues (docs/semantics.md, «Queue»): a full `discardOldest` queue evicts its
 * oldest item to make room, a full `discardLatest` queue drops the new item;
 * `put` never waits; `tryPut` never evicts (it returns false when full); with
 * capacity 0 an item reaches a reader only if one is already waiting.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, Queue, pause, withTaskGroup, type QueueKind } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { testOnEveryDriver } from "../support.ts";

function drain<T>(q: Queue<T>): T[] {
  const out: T[] = [];
  for (let x = q.tryGet(); x !== undefined; x = q.tryGet()) out.push(x);
  return out;
}

testOnEveryDriver("discardOldest: a put on a full queue evicts the oldest item", async (run) => {
  await run(function* () {
    const q = new Queue<number>({ kind: "discardOldest", capacity: 2 });
    for (let i = 1; i <= 5; i++) yield* q.put(i);
    assert.equal(q.size, 2);
    assert.deepEqual(drain(q), [4, 5]);
    // Room again: nothing is evicted until it is full.
    yield* q.put(6);
    yield* q.put(7);
    assert.deepEqual(drain(q), [6, 7]);
  });
});

test("discardOldest: tryPut on a full queue returns false and evicts nothing", () => {
  const q = new Queue<number>({ kind: "discardOldest", capacity: 2 });
  assert.equal(q.tryPut(1), true);
  assert.equal(q.tryPut(2), true);
  assert.equal(q.tryPut(3), false);
  assert.equal(q.size, 2);
  assert.deepEqual(drain(q), [1, 2]);
});

testOnEveryDriver("discardLatest: a put on a full queue drops the new item", async (run) => {
  await run(function* () {
    const q = new Queue<number>({ kind: "discardLatest", capacity: 2 });
    for (let i = 1; i <= 5; i++) yield* q.put(i);
    assert.equal(q.size, 2);
    assert.deepEqual(drain(q), [1, 2]);
    yield* q.put(6);
    assert.deepEqual(drain(q), [6]);
  });
});

test("discardLatest: tryPut on a full queue returns false and changes nothing", () => {
  const q = new Queue<number>({ kind: "discardLatest", capacity: 2 });
  assert.equal(q.tryPut(1), true);
  assert.equal(q.tryPut(2), true);
  assert.equal(q.tryPut(3), false);
  assert.equal(q.size, 2);
  assert.deepEqual(drain(q), [1, 2]);
});

for (const kind of ["discardOldest", "discardLatest"] as const) {
  test(`${kind} with capacity 0 drops every put unless a reader already waits`, () => {
    const host = createHost();
    const q = new Queue<number>({ kind, capacity: 0 });
    const got: number[] = [];
    const putter = host.spawn(function* () {
      for (let i = 0; i < 3; i++) yield* q.put(i); // nobody waits: never blocks, all dropped
      return "done";
    });
    host.pump();
    assert.equal(putter.tryWait(), "done");
    assert.equal(q.size, 0);
    assert.equal(q.tryGet(), undefined);
    assert.equal(q.tryPut(99), false);

    const reader = host.spawn(function* () {
      got.push(yield* q.get());
      got.push(yield* q.get());
    });
    host.pump(); // the reader waits
    const late = host.spawn(function* () {
      yield* q.put(10); // goes to the waiting reader
      yield* q.put(11); // the reader has not come back yet: dropped
      yield* pause();
      yield* q.put(12); // the reader waits again: delivered
      yield* q.put(13); // dropped
    });
    host.pump();
    assert.equal(late.done, true);
    assert.equal(reader.done, true);
    assert.deepEqual(got, [10, 12]);
    assert.equal(q.size, 0);
    assert.equal(q.tryGet(), undefined);
  });
}

testOnEveryDriver("a discarding put never waits, even in a cancelled task, and a waiting reader gets the item first", async (run) => {
  await run(function* () {
    for (const kind of ["discardOldest", "discardLatest"] as const) {
      const q = new Queue<string>({ kind, capacity: 1 } satisfies QueueKind);
      const got: string[] = [];
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          got.push(yield* q.get());
        });
        yield* pause(); // the reader waits on the empty queue
        const putter = group.spawn(function* () {
          yield* q.put("a"); // to the waiting reader: no eviction, no drop
          yield* q.put("b"); // buffered
          yield* q.put("c"); // full: evicts "b" or drops "c"
          return "puts done";
        });
        putter.cancel(); // a non-waiting put has nothing to be cancelled out of
        assert.equal(yield* putter.wait(), "puts done");
      });
      assert.deepEqual(got, ["a"], kind);
      assert.deepEqual(drain(q), kind === "discardOldest" ? ["c"] : ["b"], kind);
    }
  });
});

test("a cancelled reader of a capacity-0 discard queue does not receive, and the next put is dropped", () => {
  const host = createHost();
  const q = new Queue<number>({ kind: "discardLatest", capacity: 0 });
  const log: string[] = [];
  const reader = host.spawn(function* () {
    try {
      log.push(`got ${yield* q.get()}`);
    } catch (e) {
      log.push(e instanceof Cancelled ? "cancelled" : String(e));
    }
  });
  host.pump();
  reader.cancel();
  host.pump();
  const putter = host.spawn(function* () {
    yield* q.put(5);
  });
  host.pump();
  assert.equal(putter.done, true);
  assert.deepEqual(log, ["cancelled"]);
  assert.equal(q.tryGet(), undefined);
});
