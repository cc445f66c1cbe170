/**
 * Blocking queues (docs/semantics.md, «Queue», «Outcomes»): back-pressure at capacity 1, 2
 * and 0 (a rendezvous), writers served in arrival order, put cancellation
 * (all-or-nothing, the hand-off wins over a cancellation in the same round),
 * tryPut against the capacity, and tryGet/tryPut against blocked peers on
 * zero-capacity queues of every kind.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, Queue, TimeoutError, pause, sleep, withTaskGroup, withTimeout, type QueueKind } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { testOnEveryDriver, type Runner, assertEvents } from "../support.ts";

/** A producer that puts 0..n-1 and a consumer that gets n items, sleeping between gets. */
function* producerConsumer(q: Queue<number>, n: number, log: string[]) {
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(function* () {
      for (let i = 0; i < n; i++) {
        yield* q.put(i);
        log.push(`put ${i}`);
      }
    });
    group.startSoon(function* () {
      for (let i = 0; i < n; i++) {
        log.push(`get ${yield* q.get()}`);
        yield* sleep(10);
      }
    });
  });
}

testOnEveryDriver("capacity 1: each put waits until the previous item is taken", async (run) => {
  const log: string[] = [];
  await run(() => producerConsumer(new Queue({ kind: "blocking", capacity: 1 }), 3, log));
  assert.deepEqual(log, ["put 0", "get 0", "put 1", "get 1", "put 2", "get 2"]);
});

testOnEveryDriver("capacity 2: the producer runs two items ahead of the consumer", async (run) => {
  const log: string[] = [];
  await run(() => producerConsumer(new Queue({ kind: "blocking", capacity: 2 }), 4, log));
  assert.deepEqual(log, ["put 0", "put 1", "get 0", "put 2", "get 1", "put 3", "get 2", "get 3"]);
});

testOnEveryDriver("capacity 0: every put completes only after a reader took its value", async (run) => {
  const log: string[] = [];
  await run(() => producerConsumer(new Queue({ kind: "blocking", capacity: 0 }), 4, log));
  assert.deepEqual(log, ["get 0", "put 0", "get 1", "put 1", "get 2", "put 2", "get 3", "put 3"]);
});

testOnEveryDriver("blocked writers are served in arrival order", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<string>({ kind: "blocking", capacity: 1 });
    yield* q.put("seed");
    const taken: string[] = [];
    yield* withTaskGroup<void>(function* (group) {
      for (const name of ["w1", "w2"]) {
        group.startSoon(function* () {
          for (let i = 0; i < 3; i++) {
            yield* q.put(`${name}.${i}`);
            log.push(`${name} put ${i}`);
          }
        });
      }
      group.startSoon(
        function* () {
          for (;;) {
            yield* sleep(10);
            taken.push(yield* q.get());
          }
        },
        { daemon: true },
      );
    });
    assert.deepEqual(taken, ["seed", "w1.0", "w2.0", "w1.1", "w2.1", "w1.2"]);
    assert.equal(q.tryGet(), "w2.2"); // the last value is still buffered
    assert.equal(q.tryGet(), undefined);
  });
  assertEvents(run, log, ["w1 put 0", "w2 put 0", "w1 put 1", "w2 put 1", "w1 put 2", "w2 put 2"]);
});

testOnEveryDriver("a cancelled blocked put has no effect; the completed one before it stays", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<string>({ kind: "blocking", capacity: 1 });
    yield* q.put("seed");
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(
        function* () {
          yield* sleep(25);
          assert.equal(yield* q.get(), "seed");
        },
        { daemon: true },
      );
      try {
        yield* withTimeout(60, function* () {
          for (const v of ["b", "c", "d"]) {
            try {
              yield* q.put(v);
              log.push(`put ${v} completed`);
            } catch (e) {
              if (!(e instanceof Cancelled)) throw e;
              log.push(`put ${v} cancelled`);
              break;
            }
          }
        });
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      }
    });
    // Only "b" made it; the cancelled "c" is nowhere.
    assert.equal(q.size, 1);
    assert.equal(q.tryGet(), "b");
    assert.equal(q.tryGet(), undefined);
  });
  assertEvents(run, log, ["put b completed", "put c cancelled"]);
});

testOnEveryDriver("writers and readers on one task each take turns in arrival order", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 1 });
    yield* q.put(0);
    yield* withTaskGroup<void>(function* (group) {
      const worker = (name: string, delay: number) =>
        function* () {
          if (delay > 0) yield* sleep(delay);
          for (let i = 0; i < 2; i++) {
            yield* q.put(i);
            log.push(`${name} put done`);
            yield* sleep(40);
            log.push(`${name} get ${yield* q.get()}`);
          }
        };
      group.startSoon(worker("t1", 0));
      group.startSoon(worker("t2", 20));
      yield* sleep(40);
      assert.equal(yield* q.get(), 0);
    });
  });
  assertEvents(run, log, ["t1 put done", "t1 get 0", "t2 put done", "t2 get 0", "t1 put done", "t1 get 1", "t2 put done", "t2 get 1"]);
});

testOnEveryDriver("a put whose value was taken in the same round as its cancellation completes", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 1 });
    yield* q.put(0);
    yield* withTaskGroup<void>(function* (group) {
      const putter = group.spawn(function* () {
        try {
          yield* q.put(1);
          log.push("put completed");
        } catch (e) {
          log.push(e instanceof Cancelled ? "put cancelled" : `other ${String(e)}`);
        }
      });
      yield* sleep(10);
      assert.equal(yield* q.get(), 0); // moves the blocked value 1 into the buffer...
      putter.cancel(); // ...in the same round as the cancellation
      yield* sleep(10);
      assert.equal(q.tryGet(), 1);
      assert.equal(q.tryGet(), undefined);
    });
  });
  assertEvents(run, log, ["put completed"]);
});

test("a put taken by tryGet and cancelled in the same round returns, and the task meets Cancelled later", () => {
  const host = createHost();
  const q = new Queue<string>({ kind: "blocking", capacity: 0 });
  const log: string[] = [];
  const putter = host.spawn(function* () {
    yield* q.put("v");
    log.push("put returned");
    try {
      yield* pause();
      log.push("pause passed");
    } catch (e) {
      log.push(e instanceof Cancelled ? "cancelled at the next suspension" : `other ${String(e)}`);
      throw e;
    }
  });
  host.pump();
  assert.equal(putter.done, false);
  assert.equal(q.tryGet(), "v");
  putter.cancel();
  host.pump();
  assert.deepEqual(log, ["put returned", "cancelled at the next suspension"]);
  assert.throws(() => putter.tryWait(), Cancelled);
  assert.equal(q.tryGet(), undefined);
});

test("a cancelled blocked writer is skipped: a later tryGet never receives its value", () => {
  const host = createHost();
  const q = new Queue<string>({ kind: "blocking", capacity: 0 });
  const outcomes: string[] = [];
  const writer = (v: string) =>
    host.spawn(function* () {
      try {
        yield* q.put(v);
        outcomes.push(`${v} delivered`);
      } catch (e) {
        outcomes.push(e instanceof Cancelled ? `${v} cancelled` : `${v} other`);
      }
    });
  const a = writer("a");
  writer("b");
  host.pump();
  a.cancel();
  host.pump();
  assert.equal(q.tryGet(), "b");
  assert.equal(q.tryGet(), undefined);
  host.pump();
  assert.deepEqual(outcomes, ["a cancelled", "b delivered"]);
});

test("capacity 0: tryPut with no reader waiting fails and leaves nothing", () => {
  const q = new Queue<number>({ kind: "blocking", capacity: 0 });
  assert.equal(q.tryPut(0), false);
  assert.equal(q.size, 0);
  assert.equal(q.tryGet(), undefined);
});

test("tryPut succeeds up to the capacity, then fails without effect", () => {
  const q = new Queue<number>({ kind: "blocking", capacity: 3 });
  assert.equal(q.tryPut(0), true);
  assert.equal(q.tryPut(1), true);
  assert.equal(q.tryPut(2), true);
  assert.equal(q.tryPut(3), false);
  assert.equal(q.size, 3);
  for (let i = 0; i < 3; i++) assert.equal(q.tryGet(), i);
  assert.equal(q.tryGet(), undefined);
  assert.equal(q.tryPut(0), true);
  assert.equal(q.tryPut(1), true);
  assert.equal(q.tryPut(2), true);
  assert.equal(q.tryPut(3), false);
  assert.equal(q.tryGet(), 0);
  assert.equal(q.tryPut(3), true);
  assert.equal(q.tryPut(4), false);
  assert.deepEqual([q.tryGet(), q.tryGet(), q.tryGet(), q.tryGet()], [1, 2, 3, undefined]);
});

testOnEveryDriver("capacity 0: tryGet takes values straight from blocked writers, in order", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "blocking", capacity: 0 });
    assert.equal(q.tryGet(), undefined);
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          yield* q.put(i);
          log.push(`put ${i}`);
        });
      }
      group.startSoon(function* () {
        for (let x = q.tryGet(); x !== undefined; x = q.tryGet()) log.push(`tryGet ${x}`);
      });
      assert.equal(q.tryGet(), undefined); // the writers have not started yet
    });
  });
  assert.deepEqual(log, ["tryGet 0", "tryGet 1", "tryGet 2", "put 0", "put 1", "put 2"]);
});

/** Three readers wait on a zero-capacity queue; a fourth task tryPuts 0, 1, 2. */
async function tryPutToWaitingReaders(run: Runner, kind: QueueKind): Promise<void> {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>(kind);
    assert.equal(q.tryPut(-1), false);
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          log.push(`get ${yield* q.get()}`);
        });
      }
      group.startSoon(function* () {
        for (let i = 0; i < 3; i++) log.push(q.tryPut(i) ? `tryPut ${i}` : `tryPut ${i} failed`);
        // Every reader has its value: a fourth tryPut finds nobody.
        log.push(q.tryPut(3) ? "tryPut 3" : "tryPut 3 failed");
      });
      assert.equal(q.tryPut(-1), false); // the readers have not started yet
    });
    assert.equal(q.size, 0);
  });
  assert.deepEqual(log, ["tryPut 0", "tryPut 1", "tryPut 2", "tryPut 3 failed", "get 0", "get 1", "get 2"]);
}

testOnEveryDriver("capacity 0 (blocking): tryPut hands values to waiting readers in order", (run) =>
  tryPutToWaitingReaders(run, { kind: "blocking", capacity: 0 }),
);

testOnEveryDriver("capacity 0 (discardOldest): puts are dropped while nobody waits; tryGet finds nothing", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>({ kind: "discardOldest", capacity: 0 });
    assert.equal(q.tryGet(), undefined);
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          yield* q.put(i); // never blocks: nobody waits, so it is dropped
          log.push(`put ${i}`);
        });
      }
      group.startSoon(function* () {
        for (let x = q.tryGet(); x !== undefined; x = q.tryGet()) log.push(`tryGet ${x}`);
      });
      assert.equal(q.tryGet(), undefined);
    });
    assert.equal(q.size, 0);
    assert.equal(q.tryGet(), undefined);
  });
  assert.deepEqual(log, ["put 0", "put 1", "put 2"]);
});

testOnEveryDriver("capacity 0 (discardOldest): tryPut hands values to waiting readers in order", (run) =>
  tryPutToWaitingReaders(run, { kind: "discardOldest", capacity: 0 }),
);

testOnEveryDriver("capacity 0 (discardLatest): tryPut hands values to waiting readers in order", (run) =>
  tryPutToWaitingReaders(run, { kind: "discardLatest", capacity: 0 }),
);
