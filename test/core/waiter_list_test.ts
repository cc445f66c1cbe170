/**
 * Waiter lists: tombstones of waiters that gave up are skipped, and compacted
 * away once they are the majority, so timed-out waits on an idle primitive do
 * not pile up; live waiters keep their order.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import type { Coroutine } from "../../src/core/coroutine.ts";
import { WaiterList, WaiterRecord } from "../../src/core/waiters.ts";
import { Queue, Semaphore, CondVar, withTimeoutOpt } from "../../src/index.ts";
import { runVirtual } from "../../src/testing.ts";

class Record extends WaiterRecord {
  constructor(
    task: Coroutine | null,
    readonly id: number,
  ) {
    super(task);
  }
}

const someTask = {} as Coroutine;

test("tombstones are compacted once they are the majority; live waiters keep their order", () => {
  const list = new WaiterList<Record>();
  const records: Record[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = new Record(someTask, i);
    records.push(r);
    list.enqueue(someTask, () => r);
  }
  for (const r of records) if (r.id % 50 !== 0) list.tombstone(r);
  assert.ok(list.size < 100, `list still holds ${list.size} entries`);
  const live: number[] = [];
  for (let r = list.shiftLive(); r !== null; r = list.shiftLive()) live.push(r.id);
  assert.deepEqual(
    live,
    records.filter((r) => r.id % 50 === 0).map((r) => r.id),
  );
  assert.equal(list.size, 0);
});

test("a recycled record is reused by the next enqueue, reset for its new task", () => {
  const list = new WaiterList<Record>();
  const first = list.enqueue(someTask, () => new Record(someTask, 1));
  assert.equal(list.shiftLive(), first);
  first.task = null; // what a waker does
  list.recycle(first);
  const other = {} as Coroutine;
  let created = 0;
  const second = list.enqueue(other, (task) => {
    created++;
    return new Record(task, 2);
  });
  assert.equal(second, first);
  assert.equal(created, 0);
  assert.equal(second.task, other);
  // Only one record is kept: the next enqueue creates again.
  const third = list.enqueue(other, (task) => {
    created++;
    return new Record(task, 3);
  });
  assert.notEqual(third, first);
  assert.equal(created, 1);
});

test("a few tombstones are just skipped at the front", () => {
  const list = new WaiterList<Record>();
  const a = new Record(someTask, 1);
  const b = new Record(someTask, 2);
  const c = new Record(someTask, 3);
  list.enqueue(someTask, () => a);
  list.enqueue(someTask, () => b);
  list.enqueue(someTask, () => c);
  list.tombstone(a);
  list.tombstone(c);
  assert.equal(list.size, 3);
  assert.equal(list.shiftLive(), b);
  assert.equal(list.shiftLive(), null);
  assert.equal(list.size, 0);
});

// Seconds of work: on a loaded host far more than Bun's default 5 s per test.
test("100,000 timed-out waits on idle primitives leave them working and in order", { timeout: 120_000 }, async () => {
  const q = new Queue<number>();
  const s = new Semaphore(1, 0);
  const cv = new CondVar();
  const got = await runVirtual(function* () {
    for (let i = 0; i < 100_000; i++) {
      yield* withTimeoutOpt(1, () => q.get());
      if (i % 10 === 0) yield* withTimeoutOpt(1, () => s.acquire());
      if (i % 10 === 5) yield* withTimeoutOpt(1, () => cv.wait());
    }
    q.tryPut(7);
    s.release();
    return [yield* q.get(), s.tryAcquire()] as const;
  });
  assert.deepEqual(got, [7, true]);
});

test("a record already taken off the list is not counted as a tombstone", () => {
  const list = new WaiterList<Record>();
  const taken = new Record(someTask, 0);
  list.enqueue(someTask, () => taken);
  assert.equal(list.shiftLive(), taken);
  taken.task = null; // what a waker does
  // Giving such a record up afterwards must not count it as a tombstone in the list.
  for (let i = 0; i < 100; i++) list.tombstone(taken);
  assert.equal((list as unknown as { tombstones: number }).tombstones, 0);
  const live = new Record(someTask, 1);
  list.enqueue(someTask, () => live);
  assert.equal(list.size, 1);
  assert.equal(list.shiftLive(), live);
});
