/**
 * `CondVar` (docs/semantics.md, «CondVar», «Outcomes»): wait cancelled by a timeout, a waiter
 * signalled and cancelled in the same round keeps the signal (and it is not
 * passed on), FIFO signalling, broadcast order, broadcast after some waiters
 * timed out, a signal with nobody waiting is lost, and wait in a cancelled
 * task throws at once.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, CondVar, TimeoutError, isBeingCancelled, sleep, withTaskGroup, withTimeout, withTimeoutOpt } from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { testOnEveryDriver, assertEvents } from "../support.ts";

const UNIT = 40;

testOnEveryDriver("a wait cut short by withTimeout throws TimeoutError; a later signal finds nobody", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const cond = new CondVar();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        yield* sleep(3 * UNIT);
        cond.signal();
        log.push("signalled");
      });
      try {
        yield* withTimeout(UNIT, () => cond.wait());
        log.push("woken (wrong)");
      } catch (error) {
        log.push(error instanceof TimeoutError ? "TimeoutError" : `other: ${String(error)}`);
      }
    });
  });
  assertEvents(run, log, ["TimeoutError", "signalled"]);
});

test("a waiter signalled and cancelled in the same round returns normally and keeps the signal", () => {
  const host = createHost();
  const cond = new CondVar();
  const log: string[] = [];
  const first = host.spawn(function* () {
    yield* cond.wait();
    log.push(`first woken, being cancelled: ${isBeingCancelled()}`);
    try {
      yield* cond.wait(); // the cancellation shows up at the next suspension point
      log.push("first waited again (wrong)");
    } catch (error) {
      log.push(error instanceof Cancelled ? "first: Cancelled on the next wait" : "first: other error");
    }
  });
  const second = host.spawn(function* () {
    yield* cond.wait();
    log.push("second woken");
  });
  host.pump();
  assert.equal(first.done, false);
  cond.signal(); // to the first (oldest) waiter
  first.cancel(); // same round
  host.pump();
  assert.deepEqual(log, ["first woken, being cancelled: true", "first: Cancelled on the next wait"]);
  assert.equal(first.done, true);
  // The signal was consumed by the first waiter: not passed on to the second.
  assert.equal(second.done, false);
  // The second is still properly queued: the next signal wakes it.
  cond.signal();
  host.pump();
  assert.equal(second.done, true);
  assert.deepEqual(log.slice(2), ["second woken"]);
});

testOnEveryDriver("signalled-then-cancelled waiter inside a group: only it is logged, the other waiter stays asleep", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const cond = new CondVar();
    yield* withTaskGroup<void>(function* (group) {
      const waiter = group.spawn(function* () {
        yield* cond.wait();
        log.push("waiter 1 woken");
      });
      group.startSoon(
        function* () {
          yield* cond.wait();
          log.push("waiter 2 woken (wrong)");
        },
        { daemon: true },
      );
      yield* sleep(UNIT);
      cond.signal();
      waiter.cancel();
      yield* sleep(UNIT);
    });
  });
  assertEvents(run, log, ["waiter 1 woken"]);
});

test("a waiter cancelled before any signal leaves, and the signal goes to the next waiter", () => {
  const host = createHost();
  const cond = new CondVar();
  const log: string[] = [];
  const first = host.spawn(function* () {
    try {
      yield* cond.wait();
      log.push("first woken (wrong)");
    } catch (error) {
      log.push(error instanceof Cancelled ? "first cancelled" : "first other");
    }
  });
  host.spawn(function* () {
    yield* cond.wait();
    log.push("second woken");
  });
  host.pump();
  first.cancel();
  host.pump(); // the first leaves the line before any signal
  cond.signal();
  host.pump();
  assert.deepEqual(log, ["first cancelled", "second woken"]);
});

testOnEveryDriver("fairness: two looping waiters receive alternate signals", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const cond = new CondVar();
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        for (let k = 0; k < 3; k++) {
          yield* cond.wait();
          log.push("A");
        }
      });
      group.startSoon(function* () {
        yield* sleep(UNIT);
        for (let k = 0; k < 3; k++) {
          yield* cond.wait();
          log.push("B");
        }
      });
      yield* sleep(2 * UNIT);
      for (let k = 0; k < 6; k++) {
        cond.signal();
        yield* sleep(UNIT);
      }
    });
  });
  assertEvents(run, log, ["A", "B", "A", "B", "A", "B"]);
});

test("signal wakes exactly one waiter, the one that has waited longest", () => {
  const host = createHost();
  const cond = new CondVar();
  const woken: string[] = [];
  // Spawned x, y, z but they start waiting in the order z, x, y.
  const gates = { x: new CondVar(), y: new CondVar() };
  host.spawn(function* () {
    yield* gates.x.wait();
    yield* cond.wait();
    woken.push("x");
  });
  host.spawn(function* () {
    yield* gates.y.wait();
    yield* cond.wait();
    woken.push("y");
  });
  host.spawn(function* () {
    yield* cond.wait();
    woken.push("z");
  });
  host.pump();
  gates.x.signal();
  host.pump();
  gates.y.signal();
  host.pump();
  for (const expected of [["z"], ["z", "x"], ["z", "x", "y"]]) {
    cond.signal();
    host.pump();
    assert.deepEqual(woken, expected);
  }
});

testOnEveryDriver("broadcast wakes every waiter in the order they started waiting", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const cond = new CondVar();
    yield* withTaskGroup<void>(function* (group) {
      // Task i starts waiting after (3 - i) units: waiting order 2, 1, 0.
      for (let i = 0; i < 3; i++) {
        group.startSoon(function* () {
          yield* sleep((3 - i) * UNIT);
          yield* cond.wait();
          log.push(`task ${i}`);
        });
      }
      yield* sleep(5 * UNIT);
      cond.broadcast();
      log.push("broadcast");
    });
  });
  assertEvents(run, log, ["broadcast", "task 2", "task 1", "task 0"]);
});

testOnEveryDriver("broadcast after some waiters timed out wakes only the ones still waiting", async (run) => {
  const log: string[] = [];
  await run(function* () {
    const cond = new CondVar();
    const timeouts = [UNIT / 2, UNIT, 5 * UNIT];
    yield* withTaskGroup<void>(function* (group) {
      for (let i = 0; i < 3; i++) {
        group.startSoon(
          function* () {
            try {
              yield* withTimeout(timeouts[i]!, () => cond.wait());
              log.push(`task ${i} woken`);
            } catch (error) {
              log.push(error instanceof TimeoutError ? `task ${i} timed out` : `task ${i} other`);
            }
          },
          { allowFailure: true },
        );
      }
      yield* sleep(2 * UNIT);
      cond.broadcast();
    });
  });
  if (run.exact) assert.deepEqual(log, ["task 0 timed out", "task 1 timed out", "task 2 woken"]);
  else {
    // A stall past task 2's deadline fires it in the same turn as the broadcaster's
    // sleep, so task 2 may time out too; the earlier deadlines always win.
    assert.deepEqual(log.slice(0, 2), ["task 0 timed out", "task 1 timed out"]);
    assert.ok(log[2] === "task 2 woken" || log[2] === "task 2 timed out", String(log[2]));
    assert.equal(log.length, 3);
  }
});

testOnEveryDriver("a signal with nobody waiting is lost", async (run) => {
  await run(function* () {
    const cond = new CondVar();
    cond.signal();
    cond.broadcast();
    // Nothing was stored: a wait that starts afterwards is not woken.
    const first = yield* withTimeoutOpt(UNIT, () => cond.wait());
    assert.equal(first, undefined);
    // A signal while somebody waits does wake it.
    const result = yield* withTaskGroup<string>(function* (group) {
      const waiter = group.spawn(function* () {
        yield* cond.wait();
        return "woken";
      });
      yield* sleep(UNIT / 2);
      cond.signal();
      return yield* waiter.wait();
    });
    assert.equal(result, "woken");
  });
});

test("a signal sent before a task starts waiting does not count for it (no counter)", () => {
  const host = createHost();
  const cond = new CondVar();
  const task = host.spawn(function* () {
    yield* cond.wait();
  });
  cond.signal(); // the task has not started yet: nobody waits
  host.pump();
  assert.equal(task.done, false);
  cond.signal();
  host.pump();
  assert.equal(task.done, true);
});

test("wait in a cancelled task throws Cancelled at once and does not take a place in line", () => {
  const host = createHost();
  const cond = new CondVar();
  const log: string[] = [];
  const cancelled = host.spawn(function* () {
    log.push("started");
    for (let k = 0; k < 2; k++) {
      try {
        yield* cond.wait();
        log.push("woken (wrong)");
      } catch (error) {
        log.push(error instanceof Cancelled ? "Cancelled" : "other");
      }
    }
  });
  const other = host.spawn(function* () {
    yield* cond.wait();
    log.push("other woken");
  });
  cancelled.cancel(); // before it starts: its body still begins, its first wait fails
  host.pump();
  // Both waits failed at once, in the same pump, without any signal.
  assert.deepEqual(log, ["started", "Cancelled", "Cancelled"]);
  assert.equal(cancelled.done, true);
  // The failed waits queued nothing ahead of `other`: a single signal reaches it.
  cond.signal();
  host.pump();
  assert.equal(other.done, true);
  assert.deepEqual(log.slice(3), ["other woken"]);
});
