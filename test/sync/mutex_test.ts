/**
 * `Mutex` (docs/semantics.md, «Mutex», «Semaphore», «Outcomes», «Misuse»):
 * exclusion, a timed-out acquire leaves it consistent, a lock handed over in
 * the same round as a cancellation is kept, FIFO without barging, `withLock`
 * always releases, `locked`, `tryAcquire`, and misuse.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  CondVar,
  Mutex,
  TimeoutError,
  WeftUsageError,
  isBeingCancelled,
  pause,
  sleep,
  withTaskGroup,
  withTimeout,
  type Operation,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { Boom, rejection, testOnEveryDriver, assertEvents } from "../support.ts";

const HOLD = 60;

testOnEveryDriver("exclusion: three tasks hold the lock one at a time, in order", async (run) => {
  const log: string[] = [];
  let inside = 0;
  await run(function* () {
    const mutex = new Mutex();
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          yield* mutex.acquire();
          inside++;
          assert.equal(inside, 1, "two tasks inside the lock");
          log.push(`task ${i} locked`);
          yield* sleep(HOLD);
          inside--;
          mutex.release();
        });
      }
      yield* sleep(HOLD / 2);
      for (let k = 0; k < 3; k++) {
        // Logged a round after it falls due, as a task handed the lock logs a
        // round after the release: if a stalled host makes a release and this
        // tick due together, they are still logged in deadline order.
        yield* pause();
        log.push("tick");
        yield* sleep(HOLD);
      }
    });
    assert.equal(mutex.locked, false);
  });
  assertEvents(run, log, ["task 0 locked", "tick", "task 1 locked", "tick", "task 2 locked", "tick"]);
});

testOnEveryDriver("a timed-out acquire holds nothing and the mutex stays usable", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const mutex = new Mutex();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* mutex.acquire();
        yield* sleep(4 * HOLD);
        log.push("holder releases");
        mutex.release();
      });
      yield* pause();
      const error = yield* catching(() => withTimeout(HOLD, () => mutex.acquire()));
      log.push(error instanceof TimeoutError ? "timed out" : `unexpected ${String(error)}`);
      assert.equal(mutex.locked, true); // still the holder's
      yield* sleep(6 * HOLD);
      assert.equal(mutex.locked, false);
      assert.equal(mutex.tryAcquire(), true);
      assert.equal(mutex.locked, true);
      mutex.release();
    });
  });
  assertEvents(run, log, ["timed out", "holder releases"]);
});

testOnEveryDriver("a lock handed to a waiter in the same round as its cancellation is kept", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const mutex = new Mutex();
    yield* mutex.acquire();
    yield* withTaskGroup<void>(function* (group) {
      const waiter = group.spawn(function* () {
        yield* mutex.acquire();
        log.push("acquire() returned");
      });
      yield* sleep(HOLD / 2);
      mutex.release();
      waiter.cancel();
      yield* sleep(HOLD / 2);
      assert.equal(waiter.done, true);
      // The waiter took the lock and ended without releasing it.
      assert.equal(mutex.locked, true);
      assert.equal(mutex.tryAcquire(), false);
    });
  });
  assertEvents(run, log, ["acquire() returned"]);
});

test("a handed-over lock kept under cancellation: the next suspension raises Cancelled, and releasing passes it on", () => {
  const host = createHost();
  const mutex = new Mutex();
  const log: string[] = [];
  assert.equal(mutex.tryAcquire(), true);
  const first = host.spawn(function* () {
    yield* mutex.acquire();
    log.push(`first holds it, cancelled: ${isBeingCancelled()}`);
    try {
      yield* pause();
      log.push("first paused normally");
    } finally {
      mutex.release();
    }
  });
  host.spawn(function* () {
    yield* mutex.acquire();
    log.push("second holds it");
    mutex.release();
  });
  host.pump();
  mutex.release(); // to the first waiter
  first.cancel(); // in the same round
  host.pump();
  assert.deepEqual(log, ["first holds it, cancelled: true", "second holds it"]);
  assert.throws(() => first.tryWait(), Cancelled);
  assert.equal(mutex.locked, false);
});

testOnEveryDriver("fairness: a task that unlocks and locks again goes behind the one waiting", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const mutex = new Mutex();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let k = 0; k < 3; k++) {
          yield* mutex.acquire();
          log.push("A");
          yield* sleep(HOLD);
          mutex.release();
        }
      });
      group.startSoon(function* () {
        yield* sleep(HOLD / 2);
        for (let k = 0; k < 3; k++) {
          yield* mutex.acquire();
          log.push("B");
          yield* sleep(HOLD);
          mutex.release();
        }
      });
    });
  });
  assertEvents(run, log, ["A", "B", "A", "B", "A", "B"]);
});

test("waiters get the lock in the order they started waiting, not the order they were spawned", () => {
  const host = createHost();
  const mutex = new Mutex();
  const order: string[] = [];
  assert.equal(mutex.tryAcquire(), true);
  // Spawned a, b, c; they start waiting c, a, b.
  const delays: Record<string, number> = { a: 1, b: 2, c: 0 };
  for (const name of ["a", "b", "c"]) {
    host.spawn(function* () {
      for (let k = 0; k < delays[name]!; k++) yield* pause();
      yield* mutex.acquire();
      order.push(name);
      mutex.release();
    });
  }
  host.pump();
  assert.deepEqual(order, []);
  mutex.release();
  host.pump();
  assert.deepEqual(order, ["c", "a", "b"]);
  assert.equal(mutex.locked, false);
});

testOnEveryDriver("withLock returns the body's value and releases", async (run) => {
  const result = await run(function* () {
    const mutex = new Mutex();
    const value = yield* mutex.withLock(function* () {
      assert.equal(mutex.locked, true);
      yield* sleep(5);
      return 42;
    });
    assert.equal(mutex.locked, false);
    return value;
  });
  assert.equal(result, 42);
});

testOnEveryDriver("withLock releases when the body throws, and the error passes through", async (run) => {
  const boom = new Boom();
  const log: string[] = [];
  const error = await rejection(
    run(function* () {
      const mutex = new Mutex();
      yield* withTaskGroup<void>(function* (group) {
        group.startSoon(function* () {
          yield* sleep(5);
          // Waits behind the failing body; gets the lock once it is released.
          yield* mutex.withLock(function* () {
            log.push("next holder in");
          });
          log.push(`after: locked=${mutex.locked}`);
        });
        try {
          yield* mutex.withLock(function* (): Operation<void> {
            yield* sleep(HOLD);
            throw boom;
          });
        } catch (e) {
          log.push(`caught, locked=${mutex.locked}`);
          yield* sleep(HOLD / 2);
          throw e;
        }
      });
    }),
  );
  assert.equal(error, boom);
  // Released at once when the body threw: handed to the waiter, which ran before the rethrow.
  assertEvents(run, log, ["caught, locked=true", "next holder in", "after: locked=false"]);
});

testOnEveryDriver("withLock releases when its task is cancelled while holding the lock", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const mutex = new Mutex();
    yield* withTaskGroup<void>(function* (group) {
      const holder = group.spawn(function* () {
        yield* mutex.withLock(function* () {
          log.push("holder in");
          yield* sleep(100 * HOLD);
          log.push("holder finished (wrong)");
        });
      });
      yield* sleep(HOLD / 2);
      assert.equal(mutex.locked, true);
      holder.cancel();
      yield* mutex.acquire(); // would hang (a deadlock) if the lock were not released
      log.push("main locked");
      mutex.release();
      const error = yield* catching(() => holder.wait());
      assert.ok(error instanceof Cancelled);
    });
    assert.equal(mutex.locked, false);
  });
  assertEvents(run, log, ["holder in", "main locked"]);
});

test("withLock cancelled while still waiting for the lock neither runs its body nor releases the holder's lock", () => {
  const host = createHost();
  const mutex = new Mutex();
  const log: string[] = [];
  assert.equal(mutex.tryAcquire(), true); // held by the test
  const waiter = host.spawn(function* () {
    yield* mutex.withLock(function* () {
      log.push("body ran (wrong)");
    });
  });
  host.pump();
  waiter.cancel();
  host.pump();
  assert.ok(waiter.done);
  assert.throws(() => waiter.tryWait(), Cancelled);
  assert.deepEqual(log, []);
  assert.equal(mutex.locked, true, "the test's lock was released by the cancelled withLock");
  mutex.release();
  assert.equal(mutex.locked, false);
  assert.equal(mutex.tryAcquire(), true);
  mutex.release();
});

test("withLock rejects a body that is not a function", () => {
  const host = createHost();
  const mutex = new Mutex();
  const task = host.spawn(function* () {
    yield* mutex.withLock(42 as unknown as () => Operation<void>);
  });
  host.pump();
  assert.throws(
    () => task.tryWait(),
    (e: unknown) => e instanceof TypeError && /body/.test(e.message),
  );
  assert.equal(mutex.locked, false);
});

test("locked reflects acquire, hand-off and release", () => {
  const host = createHost();
  const mutex = new Mutex();
  assert.equal(mutex.locked, false);
  let waiterHolds = false;
  const gate = new CondVar();
  host.spawn(function* () {
    yield* mutex.acquire();
    waiterHolds = true;
    yield* gate.wait();
    waiterHolds = false;
    mutex.release();
  });
  assert.equal(mutex.tryAcquire(), true);
  assert.equal(mutex.locked, true);
  host.pump({ maxRounds: 1 }); // the waiter queues
  assert.equal(mutex.locked, true);
  mutex.release(); // handed over: still locked
  assert.equal(mutex.locked, true);
  host.pump();
  assert.equal(waiterHolds, true);
  assert.equal(mutex.locked, true);
  gate.signal();
  host.pump();
  assert.equal(waiterHolds, false);
  assert.equal(mutex.locked, false);
});

test("tryAcquire: true on a free mutex, false while it is held or has a waiter", () => {
  const host = createHost();
  const mutex = new Mutex();
  assert.equal(mutex.tryAcquire(), true);
  assert.equal(mutex.tryAcquire(), false);
  const log: string[] = [];
  host.spawn(function* () {
    yield* mutex.acquire();
    log.push("waiter");
    mutex.release();
  });
  host.pump();
  mutex.release(); // goes to the waiter, not to the next tryAcquire
  assert.equal(mutex.tryAcquire(), false);
  host.pump();
  assert.deepEqual(log, ["waiter"]);
  assert.equal(mutex.tryAcquire(), true);
  mutex.release();
});

test("release() when not locked throws WeftUsageError naming release, and changes nothing", () => {
  const mutex = new Mutex();
  assert.throws(
    () => mutex.release(),
    (e: unknown) => e instanceof WeftUsageError && e instanceof TypeError && /release/.test(e.message),
  );
  assert.equal(mutex.locked, false);
  // Exactly one lock is available afterwards (no extra permit was created).
  assert.equal(mutex.tryAcquire(), true);
  assert.equal(mutex.tryAcquire(), false);
  mutex.release();
  assert.throws(() => mutex.release(), WeftUsageError);
  assert.equal(mutex.locked, false);
  assert.equal(mutex.tryAcquire(), true);
  assert.equal(mutex.tryAcquire(), false);
});

/** Runs `body` and returns what it threw (fails if it did not throw). */
function* catching(body: () => Operation<unknown>): Operation<unknown> {
  try {
    yield* body();
  } catch (error) {
    return error;
  }
  assert.fail("expected an error");
}
