/**
 * `createVirtualClock()` (weft/testing): a virtual clock moved by hand, for
 * tests that look at the state between steps. Tasks run only inside the
 * synchronous `runUntilIdle()` and `advance(ms)`; `advance` stops at every
 * deadline on the way, in deadline order, and both report what is left
 * (`{ blocked, nextDeadline, ready }`).
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import { Cancelled, Queue, Timer, now, pause, sleep, until, withTaskGroup, type Task } from "../../src/index.ts";
import { createVirtualClock } from "../../src/testing.ts";
import { Log } from "../support.ts";

/** A task's error (it must have failed). */
function failureOf(task: Task<unknown>): unknown {
  try {
    task.tryWait();
  } catch (error) {
    return error;
  }
  return assert.fail("expected the task to have failed");
}

test("a task sleeping 1000 is not done after advance(999) and is after advance(1)", () => {
  const clock = createVirtualClock();
  const task = clock.spawn(function* () {
    yield* sleep(1000);
    return `rang@${now()}`;
  });
  assert.equal(task.done, false);
  let left = clock.advance(999);
  assert.equal(clock.now(), 999);
  assert.equal(task.done, false);
  assert.equal(task.tryWait(), undefined);
  assert.deepEqual(left, { blocked: 1, nextDeadline: 1000, ready: 0 });
  left = clock.advance(1);
  assert.equal(clock.now(), 1000);
  assert.equal(task.done, true);
  assert.equal(task.tryWait(), "rang@1000");
  assert.deepEqual(left, { blocked: 0, nextDeadline: undefined, ready: 0 });
});

test("advance stops at each deadline on the way, in order, including deadlines set during the advance", () => {
  const clock = createVirtualClock();
  const log = new Log();
  for (const ms of [300, 100, 200]) {
    clock.spawn(function* () {
      yield* sleep(ms);
      log.add(`t${ms}@${now()}`);
    });
  }
  const chain = clock.spawn(function* () {
    yield* sleep(50);
    log.add(`chain@${now()}`);
    for (let i = 0; i < 3; i++) {
      yield* sleep(100);
      log.add(`chain@${now()}`);
    }
  });
  const left = clock.advance(320);
  assert.deepEqual(log.entries, ["chain@50", "t100@100", "chain@150", "t200@200", "chain@250", "t300@300"]);
  assert.equal(clock.now(), 320);
  assert.equal(chain.done, false);
  assert.deepEqual(left, { blocked: 1, nextDeadline: 350, ready: 0 });
  clock.advance(30);
  assert.deepEqual(log.entries.slice(6), ["chain@350"]);
  assert.equal(chain.done, true);
});

test("during advance, equal deadlines fire in spawn order", () => {
  const clock = createVirtualClock();
  const log = new Log();
  for (const name of ["a", "b", "c", "d", "e"]) {
    clock.spawn(function* () {
      yield* sleep(100);
      log.add(`${name}@${now()}`);
    });
  }
  clock.advance(100);
  assert.deepEqual(log.entries, ["a@100", "b@100", "c@100", "d@100", "e@100"]);
});

test("a task spawned between advances counts from the virtual time it starts at", () => {
  const clock = createVirtualClock();
  clock.advance(500);
  const task = clock.spawn(function* () {
    const start = now();
    yield* sleep(100);
    return [start, now()];
  });
  assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: 600, ready: 0 });
  clock.advance(99);
  assert.equal(task.done, false);
  clock.advance(1);
  assert.deepEqual(task.tryWait(), [500, 600]);
});

test("runUntilIdle runs all ready work without moving time", () => {
  const clock = createVirtualClock();
  const log = new Log();
  const queue = new Queue<number>();
  const producer = clock.spawn(function* () {
    for (let i = 1; i <= 5; i++) {
      yield* queue.put(i);
      yield* pause();
    }
    return now();
  });
  const consumer = clock.spawn(function* () {
    let sum = 0;
    for (let i = 0; i < 5; i++) {
      const v = yield* queue.get();
      log.add(`got ${v}@${now()}`);
      sum += v;
    }
    return sum;
  });
  const left = clock.runUntilIdle();
  assert.deepEqual(left, { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(clock.now(), 0);
  assert.equal(producer.tryWait(), 0);
  assert.equal(consumer.tryWait(), 15);
  assert.deepEqual(log.entries, ["got 1@0", "got 2@0", "got 3@0", "got 4@0", "got 5@0"]);
});

test("runUntilIdle fires timers that are already due (sleep(0)) but never a future one", () => {
  const clock = createVirtualClock();
  const log = new Log();
  const zero = clock.spawn(function* () {
    for (let i = 0; i < 3; i++) {
      yield* sleep(0);
      log.add(`zero ${i}@${now()}`);
    }
  });
  const one = clock.spawn(function* () {
    yield* sleep(1);
    log.add(`one@${now()}`);
  });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: 1, ready: 0 });
  }
  assert.equal(zero.done, true);
  assert.equal(one.done, false);
  assert.equal(clock.now(), 0);
  assert.deepEqual(log.entries, ["zero 0@0", "zero 1@0", "zero 2@0"]);
  clock.advance(1);
  assert.equal(one.done, true);
  assert.deepEqual(log.entries.slice(3), ["one@1"]);
});

test("advance(0) runs ready work and due timers without moving time", () => {
  const clock = createVirtualClock();
  const task = clock.spawn(function* () {
    yield* sleep(0);
    return now();
  });
  assert.deepEqual(clock.advance(0), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(task.tryWait(), 0);
  assert.equal(clock.now(), 0);
});

test("the result reports blocked tasks and the earliest deadline", () => {
  const clock = createVirtualClock();
  const queue = new Queue<string>();
  clock.spawn(function* () {
    return yield* queue.get();
  });
  // Blocked on a queue only: no deadline.
  assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: undefined, ready: 0 });
  clock.spawn(function* () {
    yield* sleep(700);
  });
  clock.spawn(function* () {
    yield* sleep(500);
    yield* queue.put("hello");
  });
  assert.deepEqual(clock.runUntilIdle(), { blocked: 3, nextDeadline: 500, ready: 0 });
  // At 500 the writer puts and ends, the reader takes and ends; the 700 sleeper is left.
  assert.deepEqual(clock.advance(500), { blocked: 1, nextDeadline: 700, ready: 0 });
  // Advancing past every deadline leaves the clock at the target, with nothing left.
  assert.deepEqual(clock.advance(10_000), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(clock.now(), 10_500);
});

test("the start option sets the initial time; now() inside tasks follows it", () => {
  const clock = createVirtualClock({ start: 5000 });
  assert.equal(clock.now(), 5000);
  const task = clock.spawn(function* () {
    const start = now();
    yield* sleep(100);
    return [start, now()];
  });
  assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: 5100, ready: 0 });
  clock.advance(100);
  assert.deepEqual(task.tryWait(), [5000, 5100]);
  assert.equal(clock.now(), 5100);
});

test("a large start (an epoch time in ms) keeps exact arithmetic", () => {
  const start = 1_700_000_000_000;
  const clock = createVirtualClock({ start });
  const task = clock.spawn(function* () {
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      yield* sleep(1);
      seen.push(now() - start);
    }
    return seen;
  });
  clock.advance(3);
  assert.deepEqual(task.tryWait(), [1, 2, 3]);
});

test("createVirtualClock() starts at 0 by default, and { start: 0 } too", () => {
  assert.equal(createVirtualClock().now(), 0);
  assert.equal(createVirtualClock({}).now(), 0);
  assert.equal(createVirtualClock({ start: 0 }).now(), 0);
});

test("bad input: advance(-1), advance(NaN), advance(Infinity) throw RangeError naming ms, and move nothing", () => {
  const clock = createVirtualClock();
  let started = false;
  clock.spawn(function* () {
    started = true;
    yield* sleep(10);
  });
  for (const bad of [-1, NaN, Infinity, -Infinity]) {
    assert.throws(
      () => clock.advance(bad),
      (error: unknown) => error instanceof RangeError && /advance/.test(error.message) && /\bms\b/.test(error.message),
      `advance(${bad})`,
    );
  }
  assert.equal(clock.now(), 0);
  assert.equal(started, false, "a rejected advance must not run tasks");
});

test("bad input: advance with a non-number throws TypeError naming ms", () => {
  const clock = createVirtualClock();
  assert.throws(
    () => clock.advance("10" as unknown as number),
    (error: unknown) => error instanceof TypeError && /\bms\b/.test(error.message),
  );
  assert.equal(clock.now(), 0);
});

test("bad input: start NaN or Infinity throws RangeError naming start", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(
      () => createVirtualClock({ start: bad }),
      (error: unknown) => error instanceof RangeError && /\bstart\b/.test(error.message),
      `start: ${bad}`,
    );
  }
});

test("a Timer refreshed from outside between advances moves its deadline", () => {
  const clock = createVirtualClock();
  const log = new Log();
  let timer: Timer | undefined;
  const task = clock.spawn(function* () {
    timer = new Timer(1000);
    yield* timer.wait();
    log.add(`fired@${now()}`);
  });
  assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: 1000, ready: 0 });
  clock.advance(600);
  timer!.refresh();
  assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: 1600, ready: 0 });
  clock.advance(399); // past the old deadline
  assert.equal(task.done, false);
  clock.advance(600);
  assert.equal(task.done, false);
  assert.equal(clock.now(), 1599);
  clock.advance(1);
  assert.equal(task.done, true);
  assert.deepEqual(log.entries, ["fired@1600"]);
});

test("a Timer cancelled from outside between advances fails its waiter at the current time", () => {
  const clock = createVirtualClock();
  let timer: Timer | undefined;
  const task = clock.spawn(function* () {
    timer = new Timer(1000);
    try {
      yield* timer.wait();
      return "expired";
    } catch (error) {
      return `${error instanceof Error ? error.name : String(error)}@${now()}`;
    }
  });
  clock.advance(250);
  timer!.cancel();
  assert.deepEqual(clock.runUntilIdle(), { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(task.tryWait(), "TimerCancelled@250");
});

test("task.cancel() from outside between steps: the task unwinds at the current time and its timer is gone", () => {
  const clock = createVirtualClock();
  const log = new Log();
  const task = clock.spawn(function* () {
    try {
      yield* sleep(1000);
      log.add("slept (wrong)");
    } finally {
      log.add(`cleanup@${now()}`);
    }
  });
  clock.advance(400);
  task.cancel();
  // Nothing runs until the next step.
  assert.equal(task.done, false);
  assert.deepEqual(log.entries, []);
  const left = clock.runUntilIdle();
  assert.deepEqual(left, { blocked: 0, nextDeadline: undefined, ready: 0 });
  assert.equal(task.done, true);
  assert.ok(failureOf(task) instanceof Cancelled);
  assert.deepEqual(log.entries, ["cleanup@400"]);
  assert.equal(clock.now(), 400);
  // Advancing past the old deadline changes nothing.
  clock.advance(1000);
  assert.deepEqual(log.entries, ["cleanup@400"]);
});

test("a task cancelled before it ever ran still starts and meets the cancellation at its first suspension point", () => {
  const clock = createVirtualClock();
  const log = new Log();
  const task = clock.spawn(function* () {
    log.add("started");
    yield* sleep(10);
    log.add("slept (wrong)");
  });
  task.cancel();
  clock.runUntilIdle();
  assert.equal(task.done, true);
  assert.ok(failureOf(task) instanceof Cancelled);
  assert.deepEqual(log.entries, ["started"]);
});

test("cancelling one child from outside between advances leaves its siblings on schedule", () => {
  const clock = createVirtualClock();
  const log = new Log();
  let victim: Task<void> | undefined;
  const main = clock.spawn(function* () {
    yield* withTaskGroup<void>(function* (group) {
      victim = group.spawn(function* () {
        try {
          yield* sleep(500);
          log.add("victim woke (wrong)");
        } catch (error) {
          log.add(`victim ${error instanceof Cancelled ? "cancelled" : "failed"}@${now()}`);
          throw error;
        }
      });
      group.startSoon(function* () {
        yield* sleep(300);
        log.add(`sibling@${now()}`);
      });
    });
    return now();
  });
  clock.advance(100);
  victim!.cancel();
  clock.advance(100);
  assert.deepEqual(log.entries, ["victim cancelled@100"]);
  clock.advance(100);
  assert.deepEqual(log.entries, ["victim cancelled@100", "sibling@300"]);
  assert.equal(main.tryWait(), 300);
});

test("work waiting on a promise continues at a later step, once the host's promise jobs have run", async () => {
  const clock = createVirtualClock();
  const task = clock.spawn(function* () {
    const v = yield* until(Promise.resolve(5));
    return [v, now()];
  });
  assert.deepEqual(clock.runUntilIdle(), { blocked: 1, nextDeadline: undefined, ready: 0 });
  assert.equal(task.done, false);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(task.done, false, "nothing runs outside runUntilIdle/advance");
  // advance runs what became ready at the current time before moving the clock.
  clock.advance(20);
  assert.deepEqual(task.tryWait(), [5, 0]);
  assert.equal(clock.now(), 20);
});

test("two virtual clocks are independent", () => {
  const a = createVirtualClock();
  const b = createVirtualClock({ start: 100 });
  const ta = a.spawn(function* () {
    yield* sleep(50);
    return now();
  });
  const tb = b.spawn(function* () {
    yield* sleep(50);
    return now();
  });
  a.advance(50);
  assert.equal(ta.tryWait(), 50);
  assert.equal(tb.done, false);
  assert.equal(b.now(), 100);
  b.runUntilIdle();
  assert.equal(tb.done, false);
  b.advance(50);
  assert.equal(tb.tryWait(), 150);
  assert.equal(a.now(), 50);
});
