/**
 * The host-pump driver (`weft/host`; docs/semantics.md, «Drivers»): `pump()` runs
 * only what is ready now, on the host's own clock, and never spins on blocked
 * tasks; `onWake` tells the host when something became ready between pumps.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Cancelled,
  Semaphore,
  TimeoutError,
  WeftUsageError,
  action,
  now,
  pause,
  sleep,
  withTaskGroup,
  withTimeout,
  type Operation,
  type Task,
} from "../../src/index.ts";
import { createHost, type Host } from "../../src/host.ts";

/** A hand-driven clock for a host. */
class FakeClock {
  constructor(public t = 0) {}
  readonly now = (): number => this.t;
}

/**
 * Pumps, then jumps the fake clock to the next deadline, until `task` is done.
 * Returns the deadlines it jumped to. Fails if the task can never finish.
 */
function driveToEnd(host: Host, clock: FakeClock, task: Task<unknown>, maxPumps = 1000): number[] {
  const jumps: number[] = [];
  for (let i = 0; i < maxPumps; i++) {
    const r = host.pump();
    if (task.done) return jumps;
    assert.equal(r.ready, 0);
    assert.notEqual(r.nextDeadline, undefined, "the task is blocked with no timer: it can never finish");
    clock.t = r.nextDeadline!;
    jumps.push(clock.t);
  }
  assert.fail(`task not done after ${maxPumps} pumps`);
}

// ── (1) the pump never spins ───────────────────────────────────────────────

test("REGRESSION pump never spins: a task blocked on an action that never settles", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  let steps = 0;
  const task = host.spawn(function* () {
    steps++;
    yield* action<void>(() => {});
    steps++;
  });
  const first = host.pump();
  assert.deepEqual(first, { blocked: 1, nextDeadline: undefined, ready: 0 });
  assert.equal(steps, 1);
  assert.equal(task.done, false);
  assert.equal(host.live, 1);

  const started = Date.now();
  for (let i = 0; i < 1000; i++) {
    const r = host.pump();
    assert.equal(r.blocked, 1);
    assert.equal(r.nextDeadline, undefined);
    assert.equal(r.ready, 0);
  }
  // Generous bound: 1000 pumps that resume nothing are microseconds of work,
  // but a loaded host may stall the process for a second or two.
  assert.ok(Date.now() - started < 10_000, "1000 idle pumps took seconds");
  assert.equal(steps, 1, "idle pumps resumed the blocked task");
  assert.equal(task.done, false);
  assert.equal(task.tryWait(), undefined);
});

test("REGRESSION pump never spins: a task blocked on Semaphore(1, 0).acquire()", () => {
  const host = createHost({ now: new FakeClock(5).now });
  let steps = 0;
  const semaphore = new Semaphore(1, 0);
  host.spawn(function* () {
    steps++;
    yield* semaphore.acquire();
    steps++;
  });
  assert.deepEqual(host.pump(), { blocked: 1, nextDeadline: undefined, ready: 0 });
  for (let i = 0; i < 1000; i++) assert.deepEqual(host.pump(), { blocked: 1, nextDeadline: undefined, ready: 0 });
  assert.equal(steps, 1);
  // A release from the host (outside any task) unblocks it at the next pump.
  semaphore.release();
  assert.equal(steps, 1, "release() must not run the task synchronously");
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(steps, 2);
  assert.equal(host.live, 0);
});

test("pump never spins on sleeping tasks: nothing runs until the clock moves", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  let steps = 0;
  const semaphore = new Semaphore(1, 0);
  host.spawn(function* () {
    steps++;
    yield* semaphore.acquire();
  });
  host.spawn(function* () {
    steps++;
    yield* sleep(500);
    steps++;
  });
  assert.deepEqual(host.pump(), { blocked: 2, nextDeadline: 500, ready: 0 });
  for (let i = 0; i < 1000; i++) assert.deepEqual(host.pump(), { blocked: 2, nextDeadline: 500, ready: 0 });
  assert.equal(steps, 2);
  clock.t = 500;
  assert.deepEqual(host.pump(), { blocked: 1, nextDeadline: undefined, ready: 0 });
  assert.equal(steps, 3);
});

// ── (2) timers on the host clock ───────────────────────────────────────────

test("a sleeping task runs only once the host clock reaches its deadline", () => {
  const clock = new FakeClock(1000);
  const host = createHost({ now: clock.now });
  const log: string[] = [];
  const task = host.spawn(function* () {
    log.push(`start@${now()}`);
    yield* sleep(100);
    log.push(`woke@${now()}`);
    return "slept";
  });
  assert.deepEqual(host.pump(), { blocked: 1, nextDeadline: 1100, ready: 0 });
  assert.deepEqual(log, ["start@1000"]);
  for (const t of [1000, 1050, 1099, 1099.999]) {
    clock.t = t;
    assert.deepEqual(host.pump(), { blocked: 1, nextDeadline: 1100, ready: 0 }, `at ${t}`);
    assert.deepEqual(log, ["start@1000"], `woke early at ${t}`);
  }
  clock.t = 1100;
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.deepEqual(log, ["start@1000", "woke@1100"]);
  assert.equal(task.tryWait(), "slept");
  assert.equal(host.now(), 1100);
});

test("a late pump fires the timer and the task sees the host's current time", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  const task = host.spawn(function* () {
    yield* sleep(10);
    return now();
  });
  host.pump();
  clock.t = 250; // the host was busy: it pumps well after the deadline
  host.pump();
  assert.equal(task.tryWait(), 250);
});

test("timers fire in deadline order, equal deadlines in creation order", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  const log: string[] = [];
  const plan: Array<[string, number]> = [
    ["a", 30],
    ["b", 10],
    ["c", 20],
    ["d", 10],
    ["e", 30],
    ["f", 10],
  ];
  for (const [name, ms] of plan) {
    host.spawn(function* () {
      yield* sleep(ms);
      log.push(`${name}@${now()}`);
    });
  }
  assert.deepEqual(host.pump(), { blocked: 6, nextDeadline: 10, ready: 0 });
  // Jump past every deadline at once: one pump fires them all, in order.
  clock.t = 100;
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.deepEqual(log, ["b@100", "d@100", "f@100", "c@100", "a@100", "e@100"]);
});

test("following nextDeadline step by step visits each deadline once, in order", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  const log: string[] = [];
  const tasks: Task<void>[] = [];
  for (const [name, ms] of [
    ["x", 30],
    ["y", 10],
    ["z", 20],
    ["w", 10],
  ] as Array<[string, number]>) {
    tasks.push(
      host.spawn(function* () {
        yield* sleep(ms);
        log.push(`${name}@${now()}`);
      }),
    );
  }
  const deadlines: Array<number | undefined> = [];
  let r = host.pump();
  while (r.nextDeadline !== undefined) {
    deadlines.push(r.nextDeadline);
    clock.t = r.nextDeadline;
    r = host.pump();
  }
  assert.deepEqual(deadlines, [10, 20, 30]);
  assert.deepEqual(log, ["y@10", "w@10", "z@20", "x@30"]);
  assert.ok(tasks.every((t) => t.done));
});

test("a due timer set during a pump (sleep(0)) is served within the same pump", () => {
  const host = createHost({ now: new FakeClock(7).now });
  let laps = 0;
  const task = host.spawn(function* () {
    for (let i = 0; i < 5; i++) {
      yield* sleep(0);
      laps++;
    }
    return laps;
  });
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(task.tryWait(), 5);
});

// ── (3) onWake ─────────────────────────────────────────────────────────────

test("a host callback wakes the task; onWake is called once, outside the pump", () => {
  const clock = new FakeClock(0);
  let wakes = 0;
  let wakesDuringPump = 0;
  let pumping = false;
  const host = createHost({
    now: clock.now,
    onWake: () => {
      wakes++;
      if (pumping) wakesDuringPump++;
    },
  });
  const pump = () => {
    pumping = true;
    try {
      return host.pump();
    } finally {
      pumping = false;
    }
  };

  let resolveA: ((value: number) => void) | undefined;
  let resolveB: ((value: string) => void) | undefined;
  const a = host.spawn(function* () {
    return yield* action<number>((resolve) => {
      resolveA = resolve;
    });
  });
  const b = host.spawn(function* () {
    return yield* action<string>((resolve) => {
      resolveB = resolve;
    });
  });
  // Two spawns between pumps: the host is told once.
  assert.equal(wakes, 1);
  assert.deepEqual(pump(), { blocked: 2, nextDeadline: undefined, ready: 0 });
  assert.equal(wakes, 1, "onWake was called for work done inside the pump");
  assert.ok(resolveA !== undefined && resolveB !== undefined);

  resolveA(42);
  assert.equal(wakes, 2, "resolving from a host callback must call onWake");
  assert.equal(a.done, false, "the task must not run inside the host callback");
  resolveA(43); // ignored: settled already
  resolveB("later"); // a second wake before the next pump: no second onWake
  assert.equal(wakes, 2);

  assert.deepEqual(pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(a.tryWait(), 42);
  assert.equal(b.tryWait(), "later");
  assert.equal(wakesDuringPump, 0);
  assert.equal(wakes, 2);
});

test("onWake is called again after each pump, and never for wakes inside a pump", () => {
  let wakes = 0;
  let pumping = false;
  let wakesDuringPump = 0;
  const host = createHost({
    now: new FakeClock(0).now,
    onWake: () => {
      wakes++;
      if (pumping) wakesDuringPump++;
    },
  });
  const pump = () => {
    pumping = true;
    try {
      return host.pump();
    } finally {
      pumping = false;
    }
  };
  const resolvers: Array<(v: number) => void> = [];
  let inner: ((v: number) => void) | undefined;
  const task = host.spawn(function* () {
    let total = 0;
    for (let i = 0; i < 3; i++) {
      total += yield* action<number>((resolve) => {
        resolvers.push(resolve);
      });
    }
    // Plenty of wake-ups inside the pump: spawns, pauses, a group, a
    // semaphore hand-off and an action resolved by another task.
    const semaphore = new Semaphore(1, 0);
    total += yield* withTaskGroup<number>(function* (group) {
      group.startSoon(function* () {
        yield* pause();
        semaphore.release();
        yield* pause();
        inner!(100);
      });
      const waiter = group.spawn(function* () {
        yield* semaphore.acquire();
        return yield* action<number>((resolve) => {
          inner = resolve;
        });
      });
      return yield* waiter.wait();
    });
    return total;
  });
  assert.equal(wakes, 1); // the spawn
  for (let i = 0; i < 3; i++) {
    pump();
    assert.equal(resolvers.length, i + 1);
    const before: number = wakes;
    resolvers[i]!(i + 1);
    assert.equal(wakes, before + 1, `callback ${i} did not call onWake`);
  }
  const r = pump();
  assert.deepEqual(r, { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(task.tryWait(), 1 + 2 + 3 + 100);
  assert.equal(wakesDuringPump, 0);
  assert.equal(wakes, 4);
});

test("cancelling a blocked task from the host calls onWake; the task ends with Cancelled after cleanup", () => {
  let wakes = 0;
  const host = createHost({ now: new FakeClock(0).now, onWake: () => wakes++ });
  const log: string[] = [];
  let cleanups = 0;
  const task = host.spawn(function* () {
    try {
      yield* action<void>(() => () => {
        cleanups++;
      });
    } finally {
      log.push("finally");
    }
  });
  host.pump();
  const before: number = wakes;
  task.cancel();
  assert.equal(wakes, before + 1);
  assert.deepEqual(log, []);
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.deepEqual(log, ["finally"]);
  assert.equal(cleanups, 1);
  assert.throws(() => task.tryWait(), Cancelled);
});

// ── (4) host.spawn ─────────────────────────────────────────────────────────

test("host.spawn queues the task: it starts at the next pump, not inside spawn", () => {
  const host = createHost({ now: new FakeClock(0).now });
  const log: string[] = [];
  const first = host.spawn(function* () {
    log.push("first");
    return 1;
  });
  const second = host.spawn(function* () {
    log.push("second");
    return 2;
  });
  assert.deepEqual(log, []);
  assert.equal(first.done, false);
  assert.equal(first.tryWait(), undefined);
  assert.equal(host.live, 2);
  host.pump();
  assert.deepEqual(log, ["first", "second"]);
  assert.equal(first.tryWait(), 1);
  assert.equal(second.tryWait(), 2);
  assert.equal(host.live, 0);
});

// ── (5) maxRounds ──────────────────────────────────────────────────────────

test("pump({ maxRounds: 1 }) stops with ready > 0 while tasks keep pausing", () => {
  const host = createHost({ now: new FakeClock(0).now });
  const steps = { a: 0, b: 0 };
  const body = (name: "a" | "b") =>
    function* (): Operation<void> {
      for (let i = 0; i < 10; i++) {
        steps[name]++;
        yield* pause();
      }
    };
  const a = host.spawn(body("a"));
  const b = host.spawn(body("b"));
  for (let round = 1; round <= 3; round++) {
    const r = host.pump({ maxRounds: 1 });
    assert.ok(r.ready > 0, `round ${round}: ready should be > 0`);
    assert.equal(r.ready, 2);
    assert.deepEqual(steps, { a: round, b: round }, `round ${round}`);
  }
  const r = host.pump();
  assert.deepEqual(r, { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.deepEqual(steps, { a: 10, b: 10 });
  assert.ok(a.done && b.done);
});

test("pump() rejects a maxRounds that is not an integer >= 1", () => {
  const host = createHost({ now: new FakeClock(0).now });
  assert.throws(() => host.pump({ maxRounds: 0 }), RangeError);
  assert.throws(() => host.pump({ maxRounds: 1.5 }), RangeError);
  assert.throws(() => host.pump({ maxRounds: -3 }), RangeError);
  // The host is still usable afterwards.
  const task = host.spawn(function* () {
    return "ok";
  });
  host.pump();
  assert.equal(task.tryWait(), "ok");
});

// ── (6) errors ─────────────────────────────────────────────────────────────

test("a task's error is visible through its Task: tryWait throws it", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  const boom = new Error("boom");
  const late = new Error("late");
  const failsAtOnce = host.spawn(function* (): Operation<number> {
    throw boom;
  });
  const failsLater = host.spawn(function* (): Operation<number> {
    yield* sleep(20);
    throw late;
  });
  const fine = host.spawn(function* () {
    yield* sleep(10);
    return "fine";
  });
  const r = host.pump();
  assert.deepEqual(r, { blocked: 2, nextDeadline: 10, ready: 0 });
  assert.equal(failsAtOnce.done, true);
  assert.throws(
    () => failsAtOnce.tryWait(),
    (e) => e === boom,
  );
  assert.equal(failsLater.tryWait(), undefined);
  clock.t = 10;
  host.pump();
  assert.equal(fine.tryWait(), "fine");
  assert.equal(failsLater.tryWait(), undefined);
  clock.t = 20;
  host.pump();
  assert.equal(failsLater.done, true);
  assert.throws(
    () => failsLater.tryWait(),
    (e) => e === late,
  );
  assert.equal(host.live, 0);
});

// ── (7) structured concurrency under the pump ──────────────────────────────

test("withTaskGroup under the pump: children sleep on the host clock and are all awaited", () => {
  const clock = new FakeClock(100);
  const host = createHost({ now: clock.now });
  const log: string[] = [];
  const task = host.spawn(function* () {
    const sum = yield* withTaskGroup<number>(function* (group) {
      const tasks = [30, 10, 20].map((ms) =>
        group.spawn(function* () {
          yield* sleep(ms);
          log.push(`${ms}@${now()}`);
          return ms;
        }),
      );
      let total = 0;
      for (const t of tasks) total += yield* t.wait();
      return total;
    });
    log.push(`group returned@${now()}`);
    return sum;
  });
  const jumps = driveToEnd(host, clock, task);
  assert.deepEqual(jumps, [110, 120, 130]);
  assert.deepEqual(log, ["10@110", "20@120", "30@130", "group returned@130"]);
  assert.equal(task.tryWait(), 60);
  assert.equal(host.live, 0);
});

test("a failing child cancels its siblings under the pump; finally blocks run", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  const log: string[] = [];
  const boom = new Error("child failed");
  const task = host.spawn(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(function* () {
        try {
          yield* sleep(1000);
          log.push("sibling finished (wrong)");
        } finally {
          log.push(`sibling finally@${now()}`);
        }
      });
      group.startSoon(function* () {
        yield* sleep(40);
        throw boom;
      });
    });
  });
  driveToEnd(host, clock, task);
  assert.deepEqual(log, ["sibling finally@40"]);
  assert.throws(
    () => task.tryWait(),
    (e) => e === boom,
  );
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
});

test("withTimeout under the pump times out on the fake clock and removes its timers", () => {
  const clock = new FakeClock(0);
  const host = createHost({ now: clock.now });
  const log: string[] = [];
  const task = host.spawn(function* () {
    const fast = yield* withTimeout(100, function* () {
      yield* sleep(30);
      return "fast";
    });
    log.push(`${fast}@${now()}`);
    try {
      yield* withTimeout(50, function* () {
        try {
          yield* sleep(10_000);
        } finally {
          log.push(`slow cancelled@${now()}`);
        }
      });
      log.push("no timeout (wrong)");
    } catch (e) {
      log.push(`${e instanceof TimeoutError ? "TimeoutError" : String(e)}@${now()}`);
    }
    return "done";
  });
  const jumps = driveToEnd(host, clock, task);
  assert.deepEqual(log, ["fast@30", "slow cancelled@80", "TimeoutError@80"]);
  assert.deepEqual(jumps, [30, 80]);
  assert.equal(task.tryWait(), "done");
  // The abandoned 100 ms and 10 s timers are gone: nothing is left to wake for.
  assert.deepEqual(host.pump(), { blocked: 0, nextDeadline: undefined, ready: 0 });
});

// ── (8) misuse ─────────────────────────────────────────────────────────────

test("calling pump() from inside a task throws WeftUsageError", () => {
  const host = createHost({ now: new FakeClock(0).now });
  const task = host.spawn(function* () {
    try {
      host.pump();
      return "pump returned (wrong)";
    } catch (e) {
      return e;
    }
  });
  host.pump();
  const error = task.tryWait();
  assert.ok(error instanceof WeftUsageError, `expected WeftUsageError, got ${String(error)}`);
  assert.ok(error instanceof TypeError);
  // The failed nested pump left the host usable.
  const next = host.spawn(function* () {
    yield* pause();
    return 7;
  });
  host.pump();
  assert.equal(next.tryWait(), 7);
});

test("createHost rejects options of the wrong type", () => {
  assert.throws(() => createHost({ now: 5 as unknown as () => number }), TypeError);
  assert.throws(() => createHost({ onWake: "x" as unknown as () => void }), TypeError);
  assert.throws(() => createHost(null as unknown as undefined), TypeError);
});

test("two hosts are independent: each pump runs only its own tasks on its own clock", () => {
  const clockA = new FakeClock(0);
  const clockB = new FakeClock(1_000_000);
  const hostA = createHost({ now: clockA.now });
  const hostB = createHost({ now: clockB.now });
  const a = hostA.spawn(function* () {
    yield* sleep(5);
    return now();
  });
  const b = hostB.spawn(function* () {
    yield* sleep(5);
    return now();
  });
  assert.equal(hostA.pump().nextDeadline, 5);
  assert.equal(b.done, false);
  assert.equal(hostB.live, 1);
  assert.equal(hostB.pump().nextDeadline, 1_000_005);
  clockA.t = 5;
  hostA.pump();
  assert.equal(a.tryWait(), 5);
  assert.equal(b.done, false);
  clockB.t = 1_000_005;
  hostB.pump();
  assert.equal(b.tryWait(), 1_000_005);
});
