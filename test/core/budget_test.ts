/**
 * The cooperative budget (docs/semantics.md, «Cooperative budget»): a task
 * whose operations all complete at once (a full queue, free permits, a filled
 * read buffer) yields after BUDGET of them, so a sibling runs; the forced
 * yield is a suspension point where a cancellation leaves the operation
 * without effect; the budget is refilled at every turn; and with the budget
 * off, the old behaviour (the task runs on) comes back.
 *
 * No timers are involved, so the order of turns is exact on every driver.
 */
import { test } from "node:test";
import "../unhandled_guard.ts";
import assert from "node:assert/strict";
import {
  Broadcast,
  Cancelled,
  Lazy,
  Mutex,
  Queue,
  Semaphore,
  interval,
  now,
  pause,
  withTaskGroup,
  type Operation,
  type Task,
} from "../../src/index.ts";
import { createHost } from "../../src/host.ts";
import { MemoryReader } from "../../src/io.ts";
import { BUDGET, setBudgetEnabled } from "../../src/core/budget.ts";
import { drivers, type Runner } from "../support.ts";
import { peerFrame, withRawPeer } from "../ws/support.ts";
import { ScriptedReader } from "../io/support.ts";

const LIMIT = { timeout: 20_000 };

function testOnEveryDriver(name: string, fn: (run: Runner) => Promise<void>): void {
  for (const driver of drivers) test(`${name} [${driver.driver}]`, LIMIT, () => fn(driver));
}

/**
 * Runs `busy`, which calls `step()` after each of its operations, next to a
 * sibling that pauses until `busy` is done and notes the step count each
 * time it runs. Returns those counts.
 */
function* observe(busy: (step: () => void) => Operation<void>): Operation<number[]> {
  let steps = 0;
  let done = false;
  const seen: number[] = [];
  yield* withTaskGroup<void>(function* (group) {
    group.startSoon(function* () {
      yield* busy(() => steps++);
      done = true;
    });
    group.startSoon(function* () {
      while (!done) {
        seen.push(steps);
        yield* pause();
      }
    });
  });
  return seen;
}

/** `observe` around a task that runs `op` 1000 times, handing each result to `check`. */
function observeThousand<T>(op: () => Operation<T>, check: (value: T) => void): Operation<number[]> {
  return observe(function* (step) {
    for (let i = 0; i < 1000; i++) {
      check(yield* op());
      step();
    }
  });
}

/** What the sibling sees next to a task that does 1000 operations that complete at once: every BUDGET of them. */
const EVERY_BUDGET = Array.from({ length: Math.ceil(1000 / BUDGET) }, (_, i) => i * BUDGET).slice(1);

function assertFair(seen: number[]): void {
  assert.deepEqual(seen, EVERY_BUDGET, `the sibling ran after ${seen.join(", ")} operations of the busy task`);
}

function filledQueue(n: number): Queue<number> {
  const queue = new Queue<number>();
  for (let i = 0; i < n; i++) queue.tryPut(i);
  return queue;
}

testOnEveryDriver("a task draining a full queue of 1000 items lets a sibling run after every BUDGET gets", async (run) => {
  const queue = filledQueue(1000);
  const got: number[] = [];
  const seen = await run(() =>
    observeThousand(
      () => queue.get(),
      (item) => got.push(item),
    ),
  );
  assertFair(seen);
  assert.deepEqual(
    got,
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

testOnEveryDriver("a task putting 1000 items into an unbounded queue lets a sibling run after every BUDGET puts", async (run) => {
  const queue = new Queue<number>();
  const seen = await run(() =>
    observe(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* queue.put(i);
        step();
      }
    }),
  );
  assertFair(seen);
  assert.equal(queue.size, 1000);
});

testOnEveryDriver(
  "a task acquiring and releasing a free semaphore 1000 times lets a sibling run after every BUDGET acquisitions",
  async (run) => {
    const semaphore = new Semaphore(1);
    const seen = await run(() =>
      observe(function* (step) {
        for (let i = 0; i < 1000; i++) {
          yield* semaphore.acquire();
          semaphore.release();
          step();
        }
      }),
    );
    assertFair(seen);
    assert.equal(semaphore.available, 1);
  },
);

testOnEveryDriver("Mutex.withLock on a free mutex spends the budget too", async (run) => {
  const mutex = new Mutex();
  const seen = await run(() =>
    observe(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* mutex.withLock(function* () {});
        step();
      }
    }),
  );
  assertFair(seen);
  assert.equal(mutex.locked, false);
});

testOnEveryDriver("a subscription read over a filled buffer lets a sibling run after every BUDGET reads", async (run) => {
  const bus = new Broadcast<number>({ capacity: 1000 });
  const got: number[] = [];
  const seen = await run(function* () {
    const sub = bus.subscribe();
    for (let i = 0; i < 1000; i++) assert.ok(bus.tryPublish(i));
    return yield* observeThousand(
      () => sub.get(),
      (message) => got.push(message),
    );
  });
  assertFair(seen);
  assert.equal(got.length, 1000);
});

testOnEveryDriver("Broadcast.publish that delivers at once lets a sibling run after every BUDGET publishes", async (run) => {
  const bus = new Broadcast<number>({ capacity: 1000 });
  let received = 0;
  const seen = await run(function* () {
    const sub = bus.subscribe();
    const seen = yield* observe(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* bus.publish(i);
        step();
      }
    });
    while (sub.tryGet() !== undefined) received++;
    return seen;
  });
  assertFair(seen);
  assert.equal(received, 1000);
});

testOnEveryDriver("reading 1000 lines from a filled buffer lets a sibling run after every BUDGET reads", async (run) => {
  const reader = new MemoryReader("line\n".repeat(1000));
  const seen = await run(() =>
    observeThousand(
      () => reader.readLine(),
      (line) => assert.equal(line, "line"),
    ),
  );
  assertFair(seen);
});

testOnEveryDriver("readSome() on a source whose every read completes at once lets a sibling run after every BUDGET reads", async (run) => {
  const reader = new ScriptedReader(Array.from({ length: 1000 }, (_, i) => Uint8Array.of(i & 0xff)));
  const got: number[] = [];
  const seen = await run(() =>
    observeThousand(
      () => reader.readSome(),
      (chunk) => got.push(chunk![0]!),
    ),
  );
  assertFair(seen);
  assert.deepEqual(
    got,
    Array.from({ length: 1000 }, (_, i) => i & 0xff),
  );
});

testOnEveryDriver("waiting 1000 times for an ended task lets a sibling run after every BUDGET waits", async (run) => {
  const seen = await run(function* () {
    return yield* withTaskGroup<number[]>(function* (group) {
      const ended: Task<number> = group.spawn(function* () {
        return 7;
      });
      yield* ended.wait();
      return yield* observeThousand(
        () => ended.wait(),
        (value) => assert.equal(value, 7),
      );
    });
  });
  assertFair(seen);
});

testOnEveryDriver(
  "the budget is refilled at every turn: after 100 gets and a pause, BUDGET more gets run before the next yield",
  async (run) => {
    const queue = filledQueue(300);
    const seen = await run(() =>
      observe(function* (step) {
        for (let i = 0; i < 100; i++) {
          yield* queue.get();
          step();
        }
        yield* pause();
        for (let i = 0; i < 200; i++) {
          yield* queue.get();
          step();
        }
      }),
    );
    // Without the refill the 129th get (the 29th after the pause) would yield: the sibling would see 128.
    assert.deepEqual(seen, [100, 100 + BUDGET]);
  },
);

testOnEveryDriver("with the budget off, a task drains a full queue without letting its sibling run (the old behaviour)", async (run) => {
  setBudgetEnabled(false);
  try {
    const queue = filledQueue(1000);
    const seen = await run(() =>
      observe(function* (step) {
        for (let i = 0; i < 1000; i++) {
          yield* queue.get();
          step();
        }
      }),
    );
    assert.deepEqual(seen, []);
  } finally {
    setBudgetEnabled(true);
  }
});

// ── cancellation at the forced yield ─────────────────────────────────────────

/**
 * Runs `busy` as a task, next to a sibling that cancels it the first time it
 * runs: that is while `busy` sits in its first forced yield, after BUDGET
 * operations. Returns the error `busy` ended with and how many operations it
 * had completed.
 */
function* cancelAtForcedYield(busy: (step: () => void) => Operation<void>): Operation<{ error: unknown; steps: number }> {
  let steps = 0;
  let error: unknown;
  yield* withTaskGroup<void>(function* (group) {
    const task = group.spawn(function* () {
      try {
        yield* busy(() => steps++);
      } catch (e) {
        error = e;
      }
    });
    group.startSoon(function* () {
      task.cancel();
    });
  });
  return { error, steps };
}

testOnEveryDriver("a get cancelled in its forced yield took no item", async (run) => {
  const queue = filledQueue(1000);
  const got: number[] = [];
  const { error, steps } = await run(() =>
    cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        got.push(yield* queue.get());
        step();
      }
    }),
  );
  assert.ok(error instanceof Cancelled);
  assert.equal(steps, BUDGET);
  assert.equal(got.length, BUDGET);
  assert.equal(queue.size, 1000 - BUDGET, "the cancelled get took an item");
  assert.equal(queue.tryGet(), BUDGET, "the next item is the one the cancelled get did not take");
});

testOnEveryDriver("a put cancelled in its forced yield delivered nothing, and the queue's put still works", async (run) => {
  const queue = new Queue<number>();
  const { error, steps } = await run(() =>
    cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* queue.put(i);
        step();
      }
    }),
  );
  assert.ok(error instanceof Cancelled);
  assert.equal(steps, BUDGET);
  assert.equal(queue.size, BUDGET, "the cancelled put delivered its value");
  await run(function* () {
    yield* queue.put(-1);
  });
  const items: number[] = [];
  for (let item = queue.tryGet(); item !== undefined; item = queue.tryGet()) items.push(item);
  assert.deepEqual(items, [...Array.from({ length: BUDGET }, (_, i) => i), -1]);
});

testOnEveryDriver("an acquire cancelled in its forced yield holds no permit", async (run) => {
  const semaphore = new Semaphore(1000);
  const { error, steps } = await run(() =>
    cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* semaphore.acquire();
        step();
      }
    }),
  );
  assert.ok(error instanceof Cancelled);
  assert.equal(steps, BUDGET);
  assert.equal(semaphore.available, 1000 - BUDGET, "the cancelled acquire took a permit");
});

testOnEveryDriver("a subscription read cancelled in its forced yield took no message", async (run) => {
  const bus = new Broadcast<number>({ capacity: 1000 });
  const result = await run(function* () {
    const sub = bus.subscribe();
    for (let i = 0; i < 1000; i++) bus.tryPublish(i);
    const outcome = yield* cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* sub.get();
        step();
      }
    });
    return { ...outcome, left: sub.size, next: sub.tryGet() };
  });
  assert.ok(result.error instanceof Cancelled);
  assert.equal(result.steps, BUDGET);
  assert.equal(result.left, 1000 - BUDGET);
  assert.equal(result.next, BUDGET);
});

testOnEveryDriver("a publish cancelled in its forced yield reached no subscriber", async (run) => {
  const bus = new Broadcast<number>({ capacity: 1000 });
  const result = await run(function* () {
    const sub = bus.subscribe();
    const outcome = yield* cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* bus.publish(i);
        step();
      }
    });
    return { ...outcome, left: sub.size };
  });
  assert.ok(result.error instanceof Cancelled);
  assert.equal(result.steps, BUDGET);
  assert.equal(result.left, BUDGET, "the cancelled publish was delivered");
});

testOnEveryDriver("a read cancelled in its forced yield consumed no bytes", async (run) => {
  const reader = new MemoryReader("line\n".repeat(1000));
  const { error, steps } = await run(() =>
    cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* reader.readLine();
        step();
      }
    }),
  );
  assert.ok(error instanceof Cancelled);
  assert.equal(steps, BUDGET);
  const rest = await run(() => reader.readAll());
  assert.equal(rest.text(), "line\n".repeat(1000 - BUDGET), "the cancelled read consumed bytes");
});

testOnEveryDriver("a wait on an ended task cancelled in its forced yield throws Cancelled, and the task is unaffected", async (run) => {
  const result = await run(function* () {
    return yield* withTaskGroup<{ error: unknown; steps: number; value: number }>(function* (group) {
      const ended = group.spawn(function* () {
        return 7;
      });
      yield* ended.wait();
      const outcome = yield* cancelAtForcedYield(function* (step) {
        for (let i = 0; i < 1000; i++) {
          yield* ended.wait();
          step();
        }
      });
      return { ...outcome, value: yield* ended.wait() };
    });
  });
  assert.ok(result.error instanceof Cancelled);
  assert.equal(result.steps, BUDGET);
  assert.equal(result.value, 7);
});

// ── Lazy values already computed, ticks already due ──────────────────────────

testOnEveryDriver("waiting 1000 times on a computed Lazy lets a sibling run after every BUDGET waits", async (run) => {
  const seen = await run(function* () {
    const answer = new Lazy(function* () {
      return 42;
    });
    yield* answer.wait();
    return yield* observeThousand(
      () => answer.wait(),
      (value) => assert.equal(value, 42),
    );
  });
  assertFair(seen);
});

testOnEveryDriver(
  "waiting 1000 times on a failed Lazy lets a sibling run after every BUDGET waits, each throwing its error",
  async (run) => {
    const failure = new Error("no config");
    const seen = await run(function* () {
      const config = new Lazy<number>(function* () {
        throw failure;
      });
      yield* expectThrown(config.wait(), failure);
      return yield* observeThousand(
        () => expectThrown(config.wait(), failure),
        () => {},
      );
    });
    assertFair(seen);
  },
);

function* expectThrown(op: Operation<unknown>, expected: unknown): Operation<void> {
  try {
    yield* op;
  } catch (error) {
    assert.equal(error, expected);
    return;
  }
  assert.fail("the wait returned instead of throwing");
}

testOnEveryDriver("a Lazy.wait cancelled in its forced yield throws Cancelled, and the value is still there", async (run) => {
  const result = await run(function* () {
    const answer = new Lazy(function* () {
      return 42;
    });
    yield* answer.wait();
    const outcome = yield* cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        yield* answer.wait();
        step();
      }
    });
    return { ...outcome, value: yield* answer.wait() };
  });
  assert.ok(result.error instanceof Cancelled);
  assert.equal(result.steps, BUDGET);
  assert.equal(result.value, 42);
});

/**
 * Runs `body` on a host pump whose clock only moves when the test moves it:
 * to the next deadline when every task is parked, and by hand in `body`.
 */
function runOnManualClock<T>(body: (advance: (ms: number) => void) => Operation<T>): T {
  let clock = 0;
  const host = createHost({ now: () => clock });
  const task = host.spawn(() => body((ms) => (clock += ms)));
  for (let pumps = 0; !task.done; pumps++) {
    assert.ok(pumps < 10_000, "the pump loop did not end");
    const { nextDeadline } = host.pump();
    if (!task.done && nextDeadline !== undefined && nextDeadline > clock) clock = nextDeadline;
  }
  return task.tryWait() as T;
}

test("a consumer slower than its interval's beat lets a sibling run after every BUDGET ticks", LIMIT, () => {
  const ticks: number[] = [];
  const seen = runOnManualClock(function* (advance) {
    const beat = interval(1);
    yield* beat.tick(); // tick 1, on the beat: the consumer starts behind no schedule
    return yield* observe(function* (step) {
      for (let i = 0; i < 1000; i++) {
        advance(2); // the consumer's work takes two beats: every tick is due at once
        ticks.push(yield* beat.tick());
        step();
      }
    });
  });
  assertFair(seen);
  // Each tick taken is the latest one due: 2 beats later than the one before it.
  assert.deepEqual(
    ticks,
    Array.from({ length: 1000 }, (_, i) => 3 + 2 * i),
  );
});

test("a tick cancelled in its forced yield takes no tick: the tick that was due is still there", LIMIT, () => {
  const result = runOnManualClock(function* (advance) {
    const beat = interval(1);
    yield* beat.tick();
    let last = 0;
    const outcome = yield* cancelAtForcedYield(function* (step) {
      for (let i = 0; i < 1000; i++) {
        advance(2);
        last = yield* beat.tick();
        step();
      }
    });
    const cancelledAt = now();
    return { ...outcome, last, next: yield* beat.tick(), waited: now() - cancelledAt };
  });
  assert.ok(result.error instanceof Cancelled);
  assert.equal(result.steps, BUDGET);
  assert.equal(result.last, 1 + 2 * BUDGET);
  // Had the cancelled tick taken tick 2·BUDGET + 3, this one would wait a beat for the next.
  assert.equal(result.next, 1 + 2 * (BUDGET + 1));
  assert.equal(result.waited, 0);
});

// ── WebSocket messages already buffered ──────────────────────────────────────

/** 1000 text frames `m0`…`m999` as a client sends them, in one write. */
function thousandFrames(): Uint8Array {
  const frames = Array.from({ length: 1000 }, (_, i) => peerFrame("server", 1, `m${i}`));
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    all.set(f, at);
    at += f.length;
  }
  return all;
}

testOnEveryDriver("WebSocket.recvText of messages already buffered lets a sibling run after at most BUDGET of them", async (run) => {
  const { ws, peer } = withRawPeer("server");
  const got: string[] = [];
  const seen: number[] = [];
  await run(function* () {
    let done = false;
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => peer.write(thousandFrames()));
      group.startSoon(function* () {
        for (let i = 0; i < 1000; i++) got.push(yield* ws.recvText());
        done = true;
      });
      group.startSoon(function* () {
        while (!done) {
          seen.push(got.length);
          yield* pause();
        }
      });
    });
  });
  assert.deepEqual(
    got,
    Array.from({ length: 1000 }, (_, i) => `m${i}`),
  );
  const gaps = seen.map((n, i) => n - (i === 0 ? 0 : seen[i - 1]!));
  assert.ok(seen.length >= Math.floor(1000 / BUDGET), `the sibling ran only after ${seen.join(", ")} messages`);
  assert.ok(
    gaps.every((g) => g <= BUDGET),
    `the sibling ran after ${seen.join(", ")} messages`,
  );
});

testOnEveryDriver("a WebSocket.recvText cancelled in its forced yield took no message", async (run) => {
  const { ws, peer } = withRawPeer("server");
  const got: string[] = [];
  let error: unknown;
  await run(function* () {
    yield* withTaskGroup<void>(function* (group) {
      group.startSoon(() => peer.write(thousandFrames()));
      const reader = group.spawn(function* () {
        try {
          for (let i = 0; i < 1000; i++) got.push(yield* ws.recvText());
        } catch (e) {
          error = e;
        }
      });
      group.startSoon(function* () {
        // Until the reader has its bytes and has spent its budget on them: it then sits in a forced yield.
        while (got.length === 0) yield* pause();
        reader.cancel();
      });
    });
  });
  assert.ok(error instanceof Cancelled);
  assert.ok(got.length > 0 && got.length <= BUDGET, `the reader took ${got.length} messages before the cancellation`);
  const next = await run(() => ws.recvText());
  assert.equal(next, `m${got.length}`, "the cancelled recvText lost a message");
});
