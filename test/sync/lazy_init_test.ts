/**
 * `Lazy<T>` (docs/semantics.md, «Lazy»): starts on the first wait and caches
 * its value; caches a failure; is cancelled when every waiter has left and
 * restarted by a later wait; keeps running while a waiter remains; is
 * cancelled when the last of two waiters times out; no restart race (docs/semantics.md, «Lazy»);
 * a cached value is returned even in a cancelled task.
 *
 * Scenarios that depend on timing run on every driver; the exact instants and
 * orders are asserted on the deterministic ones (virtual time, host pump), on
 * the event loop only the events and lower bounds.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  CondVar,
  Lazy,
  now,
  pause,
  protectFromCancel,
  sleep,
  withTaskGroup,
  withTimeoutOpt,
  type Operation,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { Boom, drivers, type Runner, assertEvents } from "../support.ts";

const T = 40;
/** A computation that is cancelled long before it could end, even on a stalled host. */
const LONG = 10_000;

/** Registers `name` per driver; `exact` is true on virtual time. */
function testTimed(name: string, fn: (run: Runner, exact: boolean) => Promise<void>): void {
  for (const driver of drivers) test(`${name} [${driver.driver}]`, () => fn(driver, driver.exact));
}

/** Asserts an instant: exactly on virtual time, at least (minus timer slack) on the event loop. */
function assertAt(actual: number, expected: number, exact: boolean, what: string): void {
  if (exact) assert.equal(actual, expected, what);
  else assert.ok(actual >= expected - 5, `${what}: ${actual} < ${expected}`);
}

testTimed("starts on the first wait (not on creation) and caches the value", async (run, exact) => {
  const log: string[] = [];
  let starts = 0;
  await run(function* () {
    const t0 = now();
    const lazy = new Lazy(function* () {
      starts++;
      log.push("init started");
      const startedAt = now() - t0;
      yield* sleep(T);
      log.push("init completed");
      return { startedAt };
    });
    yield* sleep(T);
    assert.equal(starts, 0, "the body ran before anybody waited");
    log.push("first wait");
    const a = yield* lazy.wait();
    const gotAt = now() - t0;
    log.push("got it");
    const b = yield* lazy.wait();
    const againAt = now() - t0;
    assert.equal(a, b, "the same value is returned to every wait");
    assertAt(a.startedAt, T, exact, "started");
    assertAt(gotAt, 2 * T, exact, "first value");
    if (exact) assert.equal(againAt, gotAt, "a cached value must come at once");
  });
  assert.equal(starts, 1);
  assertEvents(run, log, ["first wait", "init started", "init completed", "got it"]);
});

testTimed("a failure is cached: every wait throws the same error, the body runs once", async (run, exact) => {
  const boom = new Boom();
  let starts = 0;
  await run(function* () {
    const lazy = new Lazy<number>(function* () {
      starts++;
      yield* sleep(T);
      throw boom;
    });
    const t0 = now();
    for (let k = 0; k < 2; k++) {
      try {
        yield* lazy.wait();
        assert.fail("wait should have thrown");
      } catch (error) {
        assert.equal(error, boom);
      }
      assertAt(now() - t0, T, exact, `wait ${k} ended`);
    }
  });
  assert.equal(starts, 1);
});

testTimed("cancelled when its only waiter leaves, and restarted by a later wait", async (run, exact) => {
  const log: string[] = [];
  await run(function* () {
    const t0 = now();
    const at = (): number => now() - t0;
    let attempts = 0;
    const lazy = new Lazy(function* () {
      const attempt = ++attempts;
      log.push(`start ${attempt}`);
      try {
        // The first attempt is cancelled at T: it must not be able to finish first.
        yield* sleep(attempt === 1 ? LONG : 2 * T);
      } catch (error) {
        log.push(`cancelled ${attempt} at ${exact ? at() : "?"}`);
        throw error;
      }
      log.push(`done ${attempt}`);
      return attempt;
    });
    assert.equal(yield* withTimeoutOpt(T, () => lazy.wait()), undefined);
    yield* sleep(T / 2);
    // The first attempt is gone: this wait starts a new one.
    const value = yield* lazy.wait();
    assert.equal(value, 2);
    assertAt(at(), 3.5 * T, exact, "second attempt's value");
    // And that value is now cached.
    assert.equal(yield* lazy.wait(), 2);
  });
  assertEvents(run, log, ["start 1", `cancelled 1 at ${exact ? T : "?"}`, "start 2", "done 2"]);
});

testTimed("keeps running while another waiter remains; all waiters share one run", async (run, exact) => {
  const log: string[] = [];
  let starts = 0;
  await run(function* () {
    const t0 = now();
    const lazy = new Lazy(function* () {
      starts++;
      log.push("start");
      try {
        yield* sleep(2 * T);
      } catch (error) {
        log.push("cancelled (wrong)");
        throw error;
      }
      log.push("done");
      return "value";
    });
    const timedOut = yield* withTaskGroup<string | undefined>(function* (group) {
      for (const name of ["a", "b"]) {
        group.startSoon(function* () {
          const v = yield* lazy.wait();
          log.push(`${name} got ${v}`);
          assertAt(now() - t0, 2 * T, exact, `${name} got the value`);
        });
      }
      const r = yield* withTimeoutOpt(T, () => lazy.wait());
      log.push("main timed out");
      return r;
    });
    assert.equal(timedOut, undefined);
  });
  assert.equal(starts, 1);
  assertEvents(run, log, ["start", "main timed out", "done", "a got value", "b got value"]);
});

testTimed("cancelled only when the last of two waiters times out", async (run, exact) => {
  const log: string[] = [];
  let cancelledAt = -1;
  await run(function* () {
    const t0 = now();
    const lazy = new Lazy(function* () {
      log.push("start");
      try {
        yield* sleep(LONG);
      } catch (error) {
        log.push("cancelled");
        cancelledAt = now() - t0;
        throw error;
      }
      log.push("done (wrong)");
    });
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        assert.equal(yield* withTimeoutOpt(T, () => lazy.wait()), undefined);
        // One waiter is left: the computation must still be running.
        log.push("first waiter timed out");
      });
      group.startSoon(function* () {
        assert.equal(yield* withTimeoutOpt(3 * T, () => lazy.wait()), undefined);
        log.push("second waiter timed out");
      });
    });
    // Past the moment the computation would have finished (on virtual time;
    // on the event loop only a while longer).
    yield* sleep(exact ? LONG : 4 * T);
  });
  assertAt(cancelledAt, 3 * T, exact, "cancelled");
  assert.deepEqual(log.slice(0, 2), ["start", "first waiter timed out"]);
  assert.deepEqual([...log.slice(2)].sort(), ["cancelled", "second waiter timed out"]);
});

test("no restart race: a waiter that joins while the cancelled computation is still unwinding gets a restarted computation", () => {
  const host = createHost();
  const gate = new CondVar();
  const log: string[] = [];
  let attempts = 0;
  const lazy = new Lazy(function* () {
    const attempt = ++attempts;
    log.push(`start ${attempt}`);
    try {
      yield* gate.wait();
    } catch (error) {
      log.push(`cancelled ${attempt}`);
      throw error;
    }
    log.push(`done ${attempt}`);
    return `value ${attempt}`;
  });
  const first = host.spawn(() => lazy.wait());
  host.pump();
  assert.deepEqual(log, ["start 1"]);
  // The only waiter leaves (which cancels the computation)...
  first.cancel();
  // ...and in the very same round, before the computation has unwound, a new waiter joins.
  const late = host.spawn(() => lazy.wait());
  host.pump();
  assert.throws(() => first.tryWait(), Cancelled);
  assert.equal(late.done, false, "the late waiter must wait for a fresh computation, not fail");
  assert.deepEqual(log, ["start 1", "cancelled 1", "start 2"]);
  gate.signal();
  host.pump();
  assert.equal(late.done, true);
  assert.equal(late.tryWait(), "value 2");
  assert.deepEqual(log, ["start 1", "cancelled 1", "start 2", "done 2"]);
});

testTimed(
  "no restart race: a waiter that joins during a slow (protected) unwinding gets the value of a restarted run",
  async (run, exact) => {
    const log: string[] = [];
    let attempts = 0;
    const value = await run(function* () {
      const t0 = now();
      const lazy = new Lazy(function* () {
        const attempt = ++attempts;
        log.push(`start ${attempt}`);
        try {
          // The first attempt is cancelled at T: it must not be able to finish first.
          yield* sleep(attempt === 1 ? LONG : 2 * T);
        } catch (error) {
          log.push(`unwinding ${attempt}`);
          yield* protectFromCancel(() => sleep(2 * T));
          log.push(`unwound ${attempt}`);
          throw error;
        }
        log.push(`done ${attempt}`);
        return attempt;
      });
      // The only waiter times out at T: the computation is cancelled and takes until 3T to unwind.
      assert.equal(yield* withTimeoutOpt(T, () => lazy.wait()), undefined);
      yield* sleep(T / 2);
      log.push("late waiter joins");
      const v = yield* lazy.wait();
      assertAt(now() - t0, 5 * T, exact, "value of the restarted run");
      return v;
    });
    assert.equal(value, 2);
    assertEvents(run, log, ["start 1", "unwinding 1", "late waiter joins", "unwound 1", "start 2", "done 2"]);
  },
);

test("a cached value is returned even in a cancelled task; a cached failure is thrown as is", () => {
  const host = createHost();
  const boom = new Boom();
  const good = new Lazy(function* () {
    return 7;
  });
  const bad = new Lazy<number>(function* (): Operation<number> {
    throw boom;
  });
  const warmUp = host.spawn(function* () {
    const v = yield* good.wait();
    try {
      yield* bad.wait();
    } catch (error) {
      assert.equal(error, boom);
    }
    return v;
  });
  host.pump();
  assert.equal(warmUp.tryWait(), 7);

  const log: string[] = [];
  const cancelled = host.spawn(function* () {
    log.push(`value ${yield* good.wait()}`);
    try {
      yield* bad.wait();
    } catch (error) {
      log.push(error === boom ? "cached failure" : "other error");
    }
    try {
      yield* pause();
    } catch (error) {
      log.push(error instanceof Cancelled ? "Cancelled at the next suspension" : "other");
    }
  });
  cancelled.cancel(); // before it starts
  host.pump();
  assert.deepEqual(log, ["value 7", "cached failure", "Cancelled at the next suspension"]);
});

test("a Cancelled that the computation throws by itself (not cancelled) is a cached failure", () => {
  const host = createHost();
  let starts = 0;
  const own = new Cancelled();
  const lazy = new Lazy<number>(function* (): Operation<number> {
    starts++;
    yield* pause();
    throw own;
  });
  const first = host.spawn(() => lazy.wait());
  host.pump();
  assert.throws(
    () => first.tryWait(),
    (e: unknown) => e === own,
  );
  const second = host.spawn(() => lazy.wait());
  host.pump();
  assert.throws(
    () => second.tryWait(),
    (e: unknown) => e === own,
  );
  assert.equal(starts, 1, "a failure must not restart the computation");
});

test("new Lazy() with a body that is not a function is a TypeError naming body", () => {
  assert.throws(
    () => new Lazy(undefined as unknown as () => Operation<number>),
    (e: unknown) => e instanceof TypeError && /body/.test(e.message),
  );
});
