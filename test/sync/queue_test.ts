/**
 * `Queue` basics (docs/semantics.md, «Queue», «Outcomes»): put/get interleaving, readers
 * served in the order they started waiting, direct hand-off to a waiting
 * reader, get cancellation (all-or-nothing, also when the hand-off and the
 * cancellation meet in one round), tryGet/tryPut, and the reusable `put`
 * operation.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  Queue,
  TimeoutError,
  WeftUsageError,
  pause,
  sleep,
  withCancellationHandler,
  withTaskGroup,
  withTimeout,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { testOnEveryDriver, assertEvents } from "../support.ts";

testOnEveryDriver("put and get interleave: each put is seen by the waiting reader before the next put", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let i = 0; i < 5; i++) log.push(`get ${yield* q.get()}`);
      });
      group.startSoon(function* () {
        for (let i = 0; i < 5; i++) {
          yield* sleep(10);
          yield* q.put(i);
          log.push(`put ${i}`);
        }
      });
    });
  });
  assertEvents(run, log, ["put 0", "get 0", "put 1", "get 1", "put 2", "get 2", "put 3", "get 3", "put 4", "get 4"]);
});

testOnEveryDriver("several readers are served in the order they started waiting, not the order they were spawned", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(20); // spawned first, but starts waiting second
        log.push(`late reader got ${yield* q.get()}`);
      });
      group.startSoon(function* () {
        log.push(`early reader got ${yield* q.get()}`);
      });
      yield* sleep(60);
      yield* q.put(1);
      yield* q.put(2);
    });
  });
  assertEvents(run, log, ["early reader got 1", "late reader got 2"]);
});

testOnEveryDriver("a timed-out get runs its cancellation handler and leaves no reader behind", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>();
    try {
      yield* withTimeout(20, function* () {
        const x = yield* withCancellationHandler(
          () => q.get(),
          function* () {
            log.push("get cancelled");
          },
        );
        log.push(`got ${x}`);
      });
      assert.fail("the get should have timed out");
    } catch (e) {
      assert.ok(e instanceof TimeoutError, `expected TimeoutError, got ${String(e)}`);
    }
    // The abandoned reader does not swallow a later item.
    assert.equal(q.tryPut(7), true);
    assert.equal(q.size, 1);
    assert.equal(q.tryGet(), 7);
  });
  assertEvents(run, log, ["get cancelled"]);
});

test("a value handed to a getter that is cancelled afterwards in the same round is returned, not lost", () => {
  const host = createHost();
  const q = new Queue<number>();
  const log: string[] = [];
  const getter = host.spawn(function* () {
    const v = yield* q.get();
    log.push(`got ${v}`);
    try {
      yield* pause();
      log.push("pause passed");
    } catch (e) {
      log.push(e instanceof Cancelled ? "cancelled at the next suspension" : `other ${String(e)}`);
      throw e;
    }
  });
  host.pump(); // the getter is now waiting
  assert.equal(getter.done, false);
  assert.equal(q.tryPut(42), true);
  getter.cancel();
  host.pump();
  assert.deepEqual(log, ["got 42", "cancelled at the next suspension"]);
  assert.equal(getter.done, true);
  assert.throws(() => getter.tryWait(), Cancelled);
  assert.equal(q.size, 0);
  assert.equal(q.tryGet(), undefined);
});

test("a getter cancelled before a value arrives in the same round is passed over: the value stays queued", () => {
  // Handing it the value would make its caller lose it: a timeout around the
  // get reports a timeout and drops whatever the get returned.
  const host = createHost();
  const q = new Queue<number>();
  const log: string[] = [];
  const getter = host.spawn(function* () {
    try {
      log.push(`got ${yield* q.get()}`);
    } catch (e) {
      log.push(e instanceof Cancelled ? "get cancelled" : `other ${String(e)}`);
      throw e;
    }
  });
  host.pump(); // the getter is now waiting
  getter.cancel();
  assert.equal(q.tryPut(42), true);
  host.pump();
  assert.deepEqual(log, ["get cancelled"]);
  assert.throws(() => getter.tryWait(), Cancelled);
  assert.equal(q.size, 1);
  assert.equal(q.tryGet(), 42);
});

test("a getter cancelled before any value arrives gives up, and the next value is buffered", () => {
  const host = createHost();
  const q = new Queue<string>();
  const log: string[] = [];
  const getter = host.spawn(function* () {
    try {
      log.push(`got ${yield* q.get()}`);
    } catch (e) {
      log.push(e instanceof Cancelled ? "get cancelled" : `other ${String(e)}`);
    }
  });
  host.pump();
  getter.cancel();
  host.pump();
  assert.equal(q.tryPut("x"), true);
  assert.equal(q.size, 1, "the value went to the cancelled reader instead of the buffer");
  assert.equal(q.tryGet(), "x");
  assert.deepEqual(log, ["get cancelled"]);
});

testOnEveryDriver("readers alternate: two looping readers take turns on values put in pairs", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>();
    yield* withTaskGroup<void>(function* (group) {
      for (const name of ["r1", "r2"]) {
        group.startSoon(function* () {
          for (let i = 0; i < 2; i++) log.push(`${name} ${yield* q.get()}`);
        });
      }
      yield* sleep(10);
      yield* q.put(1);
      yield* q.put(2);
      yield* sleep(10);
      yield* q.put(3);
      yield* q.put(4);
    });
  });
  assertEvents(run, log, ["r1 1", "r2 2", "r1 3", "r2 4"]);
});

testOnEveryDriver("readers that pass a value around are served in wait order", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const q = new Queue<number>();
    yield* q.put(1);
    yield* withTaskGroup<void>(function* (group) {
      const passer = (name: string, delay: number) =>
        function* () {
          if (delay > 0) yield* sleep(delay);
          for (let i = 0; i < 2; i++) {
            const x = yield* q.get();
            log.push(`${name} ${x}`);
            yield* sleep(40);
            yield* q.put(x + 1);
          }
        };
      group.startSoon(passer("t1", 0));
      group.startSoon(passer("t2", 20));
    });
    // The last put (by t2) found nobody waiting: it is buffered.
    assert.equal(q.tryGet(), 5);
  });
  assertEvents(run, log, ["t1 1", "t2 2", "t1 3", "t2 4"]);
});

test("tryGet and tryPut on an unbounded queue", () => {
  const q = new Queue<number>();
  assert.equal(q.tryGet(), undefined);
  assert.equal(q.tryPut(42), true);
  assert.equal(q.size, 1);
  assert.equal(q.tryGet(), 42);
  assert.equal(q.tryGet(), undefined);
  for (let i = 0; i < 100; i++) assert.equal(q.tryPut(i), true);
  assert.equal(q.size, 100);
  for (let i = 0; i < 100; i++) assert.equal(q.tryGet(), i);
  assert.equal(q.tryGet(), undefined);
  assert.equal(q.size, 0);
  assert.equal(q.closed, false);
});

test("a value put while a reader waits goes straight to that reader, not into the buffer", () => {
  const host = createHost();
  const q = new Queue<string>({ kind: "blocking", capacity: 4 });
  const got: string[] = [];
  host.spawn(function* () {
    got.push(yield* q.get());
  });
  host.spawn(function* () {
    got.push(yield* q.get());
  });
  host.pump();
  assert.equal(q.tryPut("a"), true);
  // A newcomer cannot take it: the value is already the first reader's.
  assert.equal(q.size, 0);
  assert.equal(q.tryGet(), undefined);
  const put = host.spawn(function* () {
    yield* q.put("b");
  });
  host.pump();
  assert.equal(put.done, true);
  assert.deepEqual(got, ["a", "b"]);
  assert.equal(q.size, 0);
});

test("an unbounded queue is the default kind", () => {
  for (const q of [new Queue<number>(), new Queue<number>({ kind: "unbounded" })]) {
    const host = createHost();
    const task = host.spawn(function* () {
      for (let i = 0; i < 1000; i++) yield* q.put(i);
      return q.size;
    });
    host.pump();
    assert.equal(task.tryWait(), 1000);
  }
});

test("two put operations created before either runs both deliver their own values", () => {
  const host = createHost();
  const q = new Queue<string>();
  const task = host.spawn(function* () {
    const first = q.put("first");
    const second = q.put("second");
    yield* second;
    yield* first;
    const third = q.put("third");
    yield* third;
  });
  host.pump();
  assert.equal(task.done, true);
  task.tryWait();
  assert.equal(q.tryGet(), "second");
  assert.equal(q.tryGet(), "first");
  assert.equal(q.tryGet(), "third");
  assert.equal(q.tryGet(), undefined);
});

test("put operations made in one task and run after another task's put keep their values", () => {
  const host = createHost();
  const q = new Queue<number>({ kind: "blocking", capacity: 0 });
  const got: number[] = [];
  const a = host.spawn(function* () {
    const op = q.put(1);
    yield* pause(); // the operation is made but not run yet
    yield* op;
  });
  const b = host.spawn(function* () {
    yield* q.put(2); // blocks (rendezvous), made while a's op is pending
  });
  host.pump();
  const reader = host.spawn(function* () {
    for (let i = 0; i < 2; i++) got.push(yield* q.get());
  });
  host.pump();
  assert.equal(a.done && b.done && reader.done, true);
  assert.deepEqual(got, [2, 1]);
});

test("running the same put operation object twice throws WeftUsageError", () => {
  const host = createHost();
  const q = new Queue<number>();
  const errors: unknown[] = [];
  host.spawn(function* () {
    const op = q.put(1);
    yield* op;
    try {
      yield* op;
    } catch (e) {
      errors.push(e);
    }
    // Also for an operation made while another put was pending.
    const pending = q.put(2);
    const own = q.put(3);
    yield* own;
    try {
      yield* own;
    } catch (e) {
      errors.push(e);
    }
    yield* pending;
  });
  host.pump();
  assert.equal(errors.length, 2);
  for (const e of errors) assert.ok(e instanceof WeftUsageError, `expected WeftUsageError, got ${String(e)}`);
  // Only the three real puts delivered anything, each once.
  assert.equal(q.tryGet(), 1);
  assert.equal(q.tryGet(), 3);
  assert.equal(q.tryGet(), 2);
  assert.equal(q.tryGet(), undefined);
});
