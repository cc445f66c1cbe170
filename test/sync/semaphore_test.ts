/**
 * `Semaphore` (the part the core needs now; the sync-primitives work adds the
 * rest): exclusion, strict FIFO with direct hand-off, and all-or-nothing
 * under cancellation (docs/semantics.md, «Semaphore», «Outcomes»).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, Semaphore, WeftUsageError, pause, sleep, withTaskGroup, withTimeoutOpt } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { testOnEveryDriver, assertEvents } from "../support.ts";

testOnEveryDriver("a semaphore of size 2 lets two tasks in at a time", async (run) => {
  let inside = 0;
  let most = 0;
  await run(function* () {
    const slots = new Semaphore(2);
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 6; i++) {
        group.startSoon(function* () {
          yield* slots.acquire();
          inside++;
          most = Math.max(most, inside);
          yield* sleep(10);
          inside--;
          slots.release();
        });
      }
    });
  });
  assert.equal(most, 2);
  assert.equal(inside, 0);
});

testOnEveryDriver("waiters are served in arrival order and a releaser re-acquiring goes to the back", async (run) => {
  const order: string[] = [];
  await run(function* () {
    const lock = new Semaphore(1);
    yield* withTaskGroup<void>(function* (group) {
      yield* lock.acquire();
      for (const name of ["a", "b", "c"]) {
        group.startSoon(function* () {
          yield* lock.acquire();
          order.push(name);
          yield* pause();
          lock.release();
        });
      }
      yield* sleep(5);
      lock.release();
      // Nobody can barge in: the permit went straight to "a".
      assert.equal(lock.tryAcquire(), false);
      yield* lock.acquire();
      order.push("main");
      lock.release();
    });
  });
  assertEvents(run, order, ["a", "b", "c", "main"]);
});

testOnEveryDriver("a timed-out acquire holds no permit and leaves the semaphore consistent", async (run) => {
  await run(function* () {
    const lock = new Semaphore(1);
    yield* lock.acquire();
    const got = yield* withTimeoutOpt(10, () => lock.acquire());
    assert.equal(got, undefined);
    lock.release();
    assert.equal(lock.available, 1);
    assert.equal(lock.tryAcquire(), true);
    lock.release();
  });
});

test("a permit handed over in the same round as the cancellation is kept, not lost", () => {
  const host = createHost();
  const lock = new Semaphore(1, 0);
  const log: string[] = [];
  const waiter = host.spawn(function* () {
    yield* lock.acquire();
    log.push("acquired");
    try {
      yield* pause();
    } catch (error) {
      log.push(error instanceof Cancelled ? "cancelled later" : "other");
      lock.release();
      throw error;
    }
  });
  host.pump();
  lock.release(); // hands the permit to the waiter...
  waiter.cancel(); // ...which is cancelled in the same round
  host.pump();
  assert.deepEqual(log, ["acquired", "cancelled later"]);
  assert.equal(lock.available, 1);
});

test("releasing more than acquired throws WeftUsageError and changes nothing", () => {
  const s = new Semaphore(2, 1);
  s.release();
  assert.throws(() => s.release(), WeftUsageError);
  assert.equal(s.available, 2);
});

test("bad sizes are RangeErrors naming the argument", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(
      () => new Semaphore(bad),
      (e) => e instanceof RangeError && /size/.test((e as Error).message),
    );
  }
  assert.throws(
    () => new Semaphore(2, 3),
    (e) => e instanceof RangeError && /initial/.test((e as Error).message),
  );
  assert.throws(() => new Semaphore(2, -1), RangeError);
});
